import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { OAuthError, oauthErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import { principalStore } from '../principals/store.js';
import type { Services } from '../services.js';
import { coverage } from './authorize/scopes.js';
import { exposeToClientOrigin } from './cors.js';
import { endpointsFor } from './metadata.js';
import { userClaims } from './user-claims.js';
import { InvalidAccessToken } from './verify-access-token.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * OIDC Core §5.3 userinfo: a Bearer access token (RFC 6750 §2.1) issued by this tenant for its
 * userinfo endpoint (requested without a `resource`), delegated by a user, with scope `openid`.
 * Errors follow RFC 6750 §3: a `WWW-Authenticate: Bearer` challenge naming the error.
 */
export function userinfoEndpoint(deps: Deps, services: Services) {
  const verifier = services.accessTokens;
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const tenant = await services.tenants.activeByName(request.params.tenant);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    const issuer = services.tenants.issuer(tenant);
    try {
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match?.[1]) throw oauthErrors.invalidToken('a Bearer access token is required');
      let claims;
      try {
        ({ claims } = await verifier.verify(match[1], endpointsFor(issuer).userinfo));
      } catch (error) {
        if (error instanceof InvalidAccessToken) throw oauthErrors.invalidToken('the access token is invalid', error.message);
        throw error;
      }
      if (claims.tid !== tenant.id) throw oauthErrors.invalidToken('the access token is invalid', 'token of another tenant');
      await exposeToClientOrigin(services, request, reply, tenant, issuer, claims.client_id);
      if (claims.kind !== 'user') throw oauthErrors.invalidToken('the access token does not speak for a user');
      const scope = (claims.scope ?? '').split(' ');
      if (!scope.includes('openid')) throw oauthErrors.insufficientScope('the access token lacks the openid scope');
      const user = await principalStore.get(deps.db, tenant.id, claims.sub);
      if (!user || user.status !== 'active' || !rulesFor(user.kind).mayConsent) throw oauthErrors.invalidToken('the user can no longer sign in');
      // Revoking the consent stops userinfo at once, though the access token itself lives on until it expires.
      const consents = await services.consents.live(tenant.id, claims.sub, claims.client_id);
      if (coverage(['openid'], null, consents).missing.length > 0) throw oauthErrors.invalidToken('the user no longer consents to this client');
      return reply.header('cache-control', 'no-store').send({ sub: claims.sub, ...(await userClaims(deps.db, tenant.id, claims.sub, scope)) });
    } catch (error) {
      if (error instanceof OAuthError && (error.error === 'invalid_token' || error.error === 'insufficient_scope')) {
        reply.header('www-authenticate', `Bearer realm="${issuer}", error="${error.error}", error_description="${error.description.replace(/"/g, "'")}"`);
      }
      throw error;
    }
  };
}
