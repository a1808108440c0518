import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { apiErrors } from '../errors.js';
import { InvalidAccessToken, type AccessTokenVerifier } from '../oauth/verify-access-token.js';
import { principalStore } from '../principals/store.js';
import { ADMIN_RESOURCE, INSTALL_ADMIN_ROLE } from '../resources/model.js';
import { HOME_TENANT } from '../tenants/service.js';
import type { AdminCaller } from './caller.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: AdminCaller | undefined;
  }
}

/** The caller of an admin route; the auth hook guarantees it is set on every protected route. */
export function callerOf(request: FastifyRequest): AdminCaller {
  if (!request.caller) throw apiErrors.unauthorized();
  return request.caller;
}

/**
 * The admin API is a protected resource like any other: callers present a Signet access token for
 * `urn:signet:admin`. The token's principal must still be active (disable takes effect at once).
 */
export function installAdminAuth(app: FastifyInstance, deps: Deps, verifier: AccessTokenVerifier, publicPaths: Set<string>): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRequest', async (request, reply) => {
    if (publicPaths.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    const fail = (description: string, error = 'invalid_token') => {
      reply.header('www-authenticate', `Bearer realm="signet-admin", error="${error}", error_description="${description}"`);
      return apiErrors.unauthorized(description);
    };
    if (!match?.[1]) {
      reply.header('www-authenticate', 'Bearer realm="signet-admin"');
      throw apiErrors.unauthorized();
    }
    try {
      const { tenant, claims } = await verifier.verify(match[1], ADMIN_RESOURCE);
      const principal = await principalStore.get(deps.db, tenant.id, claims.sub);
      if (!principal || principal.status !== 'active') throw fail('the token\'s principal is no longer active');
      const roles = new Set(claims.roles ?? []);
      request.caller = {
        tenantId: tenant.id,
        principalId: principal.id,
        jti: claims.jti,
        roles,
        installAdmin: tenant.name === HOME_TENANT && roles.has(INSTALL_ADMIN_ROLE),
        source: { ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id },
      };
    } catch (error) {
      if (error instanceof InvalidAccessToken) throw fail(error.message);
      throw error;
    }
  });
}
