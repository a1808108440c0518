import { ASSERTION_ALGS } from '../credentials/keys.js';
import type { Tenant } from '../tenants/model.js';
import { DPOP_ALGS } from './dpop.js';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export const GRANT_TYPES = ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] as const;

export interface Endpoints {
  issuer: string;
  token: string;
  jwks: string;
  introspection: string;
  revocation: string;
}

export function endpointsFor(issuer: string): Endpoints {
  return {
    issuer,
    token: `${issuer}/oauth2/token`,
    jwks: `${issuer}/.well-known/jwks.json`,
    introspection: `${issuer}/oauth2/introspect`,
    revocation: `${issuer}/oauth2/revoke`,
  };
}

/**
 * RFC 8414 authorization server metadata. It advertises exactly what this server does; endpoints
 * appear here only once they exist.
 */
export function serverMetadata(_tenant: Tenant, endpoints: Endpoints, signingAlgs: string[]): Record<string, unknown> {
  return {
    issuer: endpoints.issuer,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    // RFC 7662 / RFC 7009 (metadata names from RFC 8414 §2): same client authentication as the token endpoint.
    introspection_endpoint: endpoints.introspection,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    revocation_endpoint: endpoints.revocation,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.filter((a) => a !== 'Ed25519'),
    response_types_supported: [],
    scopes_supported: [],
    // RFC 9068 access tokens are signed with the tenant's key algorithm(s).
    access_token_signing_alg_values_supported: signingAlgs,
    // RFC 8707: `resource` names the audience.
    resource_indicators_supported: true,
    // RFC 9449 §5.1: algorithms accepted for DPoP proofs.
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  };
}
