import type { Deps } from '../../context.js';
import type { OAuthClient } from '../../clients/model.js';
import { redirectUriMatches } from '../../clients/redirect-uri.js';
import { isId } from '../../crypto/ids.js';
import { OAuthError, oauthErrors, pageErrors } from '../../errors.js';
import { rulesFor } from '../../principals/kinds.js';
import type { Principal } from '../../principals/model.js';
import type { Resource } from '../../resources/model.js';
import { resourceStore } from '../../resources/store.js';
import type { Services } from '../../services.js';
import type { Tenant } from '../../tenants/model.js';
import { loadClient } from '../client-auth/client.js';
import { endpointsFor } from '../metadata.js';
import { ACR } from '../../people/session.js';
import { S256_CHALLENGE } from '../pkce.js';
import type { PendingAuthorization } from '../tokens/request-store.js';
import type { AuthorizationParams } from './params.js';
import { RESPONSE_MODES, type ResponseMode } from './respond.js';
import { isIdentityScope, parseScopes } from './scopes.js';
import { allowedScopes, blueprintFor, mayActForUsers } from '../../policy/blueprint-policy.js';

/** RFC 8707 §2: an absolute URI without a fragment. */
const RESOURCE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/;
const PROMPTS = ['none', 'login', 'consent'] as const;
type Prompt = (typeof PROMPTS)[number];

export interface IdentifiedClient {
  principal: Principal;
  registration: OAuthClient;
  redirectUri: string;
}

/**
 * The checks that must pass before anything may be sent to the redirect URI (RFC 9700 §4.11.2):
 * a known, active client users may sign in to, and a redirect URI registered for it, matched
 * exactly. Each failure is an HTML page (PageError), never a redirect.
 */
export async function identifyClient(deps: Deps, services: Services, tenant: Tenant, p: AuthorizationParams): Promise<IdentifiedClient> {
  if (p.repeated.has('client_id') || p.repeated.has('redirect_uri')) throw pageErrors.badClient('The request repeats client_id or redirect_uri.');
  const clientId = p.values.client_id;
  if (clientId === undefined) throw pageErrors.badClient('The request names no application (client_id is missing).');
  if (!isId(clientId)) throw pageErrors.badClient('The application is unknown.');
  let principal: Principal;
  try {
    principal = await loadClient({ deps, tenant, endpoints: endpointsFor(services.tenants.issuer(tenant)) }, clientId);
  } catch (error) {
    if (error instanceof OAuthError) throw pageErrors.badClient('The application is unknown or disabled.');
    throw error;
  }
  const registration = await services.oauthClients.forProtocol(tenant.id, principal.id);
  if (!registration || !rulesFor(principal.kind).maySignInUsers) throw pageErrors.badClient('The application is not set up for signing in.');
  const redirectUri = p.values.redirect_uri;
  if (redirectUri === undefined) throw pageErrors.badClient('The request names no redirect URI.');
  if (!redirectUriMatches(registration.redirectUris, redirectUri, registration.clientType)) {
    throw pageErrors.badClient('The redirect URI is not registered for this application.');
  }
  return { principal, registration, redirectUri };
}

/**
 * An agent users sign in to acts for them only as its blueprint allows: the blueprint must let its
 * agents act for users, and every resource scope asked for must be one it allows on that resource.
 */
async function checkBlueprint(deps: Deps, tenant: Tenant, principal: Principal, scope: readonly string[], resource: Resource | null): Promise<void> {
  const blueprint = await blueprintFor(deps, tenant.id, principal);
  if (!blueprint) return;
  if (!mayActForUsers(blueprint)) throw oauthErrors.unauthorizedClient('this agent\'s blueprint does not let it act for users');
  if (!resource) return;
  const allowed = allowedScopes(blueprint, resource.id) ?? [];
  const beyond = scope.filter((s) => !isIdentityScope(s) && !allowed.includes(s));
  if (beyond.length > 0) throw oauthErrors.invalidScope(`this agent's blueprint does not allow ${beyond.join(' ').slice(0, 200)} on "${resource.identifier}"`);
}

type RequestFields = Omit<PendingAuthorization, 'id' | 'tenantId' | 'clientId' | 'createdAt' | 'expiresAt'>;

/**
 * The rest of the authorization request; each failure is an OAuth error sent to the (now trusted)
 * redirect URI. Only the authorization code flow with PKCE S256 is accepted.
 */
export async function validateRequest(deps: Deps, tenant: Tenant, p: AuthorizationParams, client: IdentifiedClient): Promise<RequestFields> {
  const v = p.values;
  const repeated = [...p.repeated][0];
  if (repeated !== undefined) throw oauthErrors.invalidRequest(`parameter "${repeated.slice(0, 50)}" is repeated`);
  if (v.request !== undefined) throw new OAuthError('request_not_supported', 'request objects are not supported');
  if (v.request_uri !== undefined) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported');
  if (v.response_type === undefined) throw oauthErrors.invalidRequest('response_type is missing');
  // RFC 9700 §2.1.2: no implicit (token) or hybrid flows.
  if (v.response_type !== 'code') throw oauthErrors.unsupportedResponseType('only response_type=code is supported');
  const responseMode = v.response_mode ?? 'query';
  if (!(RESPONSE_MODES as readonly string[]).includes(responseMode)) throw oauthErrors.invalidRequest('response_mode must be query or form_post');
  // RFC 9700 §2.1.1: PKCE for every client; plain (the RFC 7636 default when no method is named) is refused.
  if (v.code_challenge === undefined) throw oauthErrors.invalidRequest('code_challenge is required (PKCE with S256)');
  if (v.code_challenge_method !== 'S256') throw oauthErrors.invalidRequest('code_challenge_method must be S256');
  if (!S256_CHALLENGE.test(v.code_challenge)) throw oauthErrors.invalidRequest('code_challenge must be 43 base64url characters (S256)');

  let resource: Resource | null = null;
  if (v.resource !== undefined) {
    if (!RESOURCE_URI.test(v.resource)) throw oauthErrors.invalidTarget('resource must be an absolute URI without a fragment');
    const identifier = v.resource;
    resource = (await deps.cache.get(tenant.id, `resource:${identifier}`, () => resourceStore.byIdentifier(deps.db, tenant.id, identifier))) ?? null;
    if (!resource) throw oauthErrors.invalidTarget(`unknown resource "${identifier.slice(0, 200)}"`);
  }
  const scope = parseScopes(v.scope, resource);
  await checkBlueprint(deps, tenant, client.principal, scope, resource);

  const prompt = (v.prompt ?? '').split(' ').filter((s) => s !== '');
  if (prompt.some((x) => !(PROMPTS as readonly string[]).includes(x))) throw oauthErrors.invalidRequest('prompt may hold only none, login and consent');
  // OIDC Core §3.1.2.1: none cannot be combined with any other value.
  if (prompt.includes('none') && prompt.length > 1) throw oauthErrors.invalidRequest('prompt=none cannot be combined with other values');
  let maxAge: number | null = null;
  if (v.max_age !== undefined) {
    if (!/^\d{1,9}$/.test(v.max_age)) throw oauthErrors.invalidRequest('max_age must be a non-negative integer');
    maxAge = Number(v.max_age);
  }
  if (v.nonce !== undefined && v.nonce.length > 512) throw oauthErrors.invalidRequest('nonce is longer than 512 characters');
  if (v.state !== undefined && v.state.length > 2048) throw oauthErrors.invalidRequest('state is longer than 2048 characters');

  return {
    redirectUri: client.redirectUri,
    responseMode: responseMode as ResponseMode,
    state: v.state ?? null,
    nonce: v.nonce ?? null,
    codeChallenge: v.code_challenge,
    scope,
    resource: resource?.identifier ?? null,
    prompt: prompt as Prompt[],
    maxAge,
    authAfter: prompt.includes('login') ? Math.floor(deps.clock() / 1000) : null,
    // acr_values is a voluntary request (OIDC Core §5.5.1.1); Signet honours the MFA class.
    requireMfa: (v.acr_values ?? '').split(' ').includes(ACR.mfa),
  };
}
