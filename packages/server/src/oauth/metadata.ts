import { IDENTITY_SCOPES } from '../consents/model.js';
import { ASSERTION_ALGS } from '../credentials/keys.js';
import type { Tenant } from '../tenants/model.js';
import { RESPONSE_MODES } from './authorize/respond.js';
import { DPOP_ALGS } from './dpop.js';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'] as const;
/** OIDC Core §5.1 claims the userinfo endpoint and ID tokens may carry. */
export const CLAIMS_SUPPORTED = ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'amr', 'acr', 'at_hash', 'name', 'preferred_username', 'email', 'email_verified'] as const;

export interface Endpoints {
  issuer: string;
  token: string;
  jwks: string;
  authorization: string;
  userinfo: string;
  endSession: string;
  introspection: string;
  revocation: string;
  pushedAuthorization: string;
  registration: string;
}

export function endpointsFor(issuer: string): Endpoints {
  return {
    issuer,
    token: `${issuer}/oauth2/token`,
    jwks: `${issuer}/.well-known/jwks.json`,
    authorization: `${issuer}/oauth2/authorize`,
    userinfo: `${issuer}/oauth2/userinfo`,
    endSession: `${issuer}/oauth2/logout`,
    introspection: `${issuer}/oauth2/introspect`,
    revocation: `${issuer}/oauth2/revoke`,
    pushedAuthorization: `${issuer}/oauth2/par`,
    registration: `${issuer}/oauth2/register`,
  };
}

/**
 * RFC 8414 authorization server metadata. It advertises exactly what this server does; endpoints
 * appear here only once they exist.
 */
export function serverMetadata(tenant: Tenant, endpoints: Endpoints, signingAlgs: string[]): Record<string, unknown> {
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    userinfo_endpoint: endpoints.userinfo,
    end_session_endpoint: endpoints.endSession,
    grant_types_supported: [...GRANT_TYPES],
    // `none`: public clients, on the authorization_code (with PKCE) and refresh_token grants only.
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    // RFC 9700 §2.1.2: the authorization code flow only; no implicit or hybrid response types.
    response_types_supported: ['code'],
    response_modes_supported: [...RESPONSE_MODES],
    // RFC 9700 §2.1.1: PKCE is required, and only S256 (never plain).
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: the authorization response names its issuer.
    authorization_response_iss_parameter_supported: true,
    scopes_supported: [...IDENTITY_SCOPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgs,
    claims_supported: [...CLAIMS_SUPPORTED],
    prompt_values_supported: ['none', 'login', 'consent'],
    request_parameter_supported: false,
    // OIDC request objects by reference are not fetched; a request_uri from PAR is accepted (below).
    request_uri_parameter_supported: false,
    // RFC 9126: pushed authorization requests, authenticated as at the token endpoint; optional.
    pushed_authorization_request_endpoint: endpoints.pushedAuthorization,
    require_pushed_authorization_requests: false,
    // RFC 7591: only where the tenant lets applications register themselves.
    ...(tenant.settings.dynamicClientRegistration ? { registration_endpoint: endpoints.registration } : {}),
    // RFC 7662 / RFC 7009 (metadata names from RFC 8414 §2): same client authentication as the token endpoint.
    introspection_endpoint: endpoints.introspection,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    revocation_endpoint: endpoints.revocation,
    // RFC 7009 §2.1: a public client may revoke its own refresh tokens, identified by client_id.
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    // RFC 9068 access tokens are signed with the tenant's key algorithm(s).
    access_token_signing_alg_values_supported: signingAlgs,
    // RFC 8707: `resource` names the audience.
    resource_indicators_supported: true,
    // RFC 9449 §5.1: algorithms accepted for DPoP proofs.
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  };
}
