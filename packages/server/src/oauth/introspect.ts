import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEventInput } from '../audit/model.js';
import { AuditUnavailable } from '../audit/writer.js';
import type { Deps } from '../context.js';
import { oauthErrors } from '../errors.js';
import type { Services } from '../services.js';
import { actChain } from '../policy/standing.js';
import type { AccessTokenClaims } from './access-token.js';
import { clientRequest, type ClientRequest } from './client-request.js';
import { FailureThrottle } from './throttle.js';
import { accessTokenStatus } from './token-status.js';
import type { AccessTokenVerifier } from './verify-access-token.js';

/** RFC 7662 §2.2 members of an active token's response, from its claims. */
function activeResponse(claims: AccessTokenClaims): Record<string, unknown> {
  return {
    active: true,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    exp: claims.exp,
    iat: claims.iat,
    nbf: claims.nbf,
    jti: claims.jti,
    client_id: claims.client_id,
    tid: claims.tid,
    kind: claims.kind,
    // RFC 9449 §6.2: a DPoP-bound token introspects with token_type DPoP and its cnf.
    token_type: claims.cnf?.jkt ? 'DPoP' : 'Bearer',
    ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
    ...(claims.roles !== undefined ? { roles: claims.roles } : {}),
    ...(claims.act !== undefined ? { act: claims.act } : {}),
    ...(claims.cnf !== undefined ? { cnf: claims.cnf } : {}),
  };
}

/** `token.introspected`, recorded only for tokens found inactive (a stopped token someone still presents). */
function inactiveEvent(request: FastifyRequest, r: ClientRequest, reason: string, claims: AccessTokenClaims | undefined): AuditEventInput {
  const chain = claims ? actChain(claims) : [];
  return {
    tenantId: r.tenant.id,
    type: 'token.introspected',
    outcome: 'failure',
    actorId: r.client.principal.id,
    actorKind: r.client.principal.kind,
    clientId: r.client.principal.id,
    credentialId: r.client.credential?.id ?? null,
    credentialType: r.client.credential?.type ?? null,
    subjectId: claims?.sub ?? null,
    resource: claims?.aud ?? null,
    jti: claims?.jti ?? null,
    source: { ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id },
    ...(chain.length > 0 ? { delegation: chain } : {}),
    data: { active: false, reason, tokenClientId: claims?.client_id ?? null },
  };
}

/**
 * RFC 7662 token introspection for the tenant's resource servers: any client of the tenant,
 * authenticated like at the token endpoint, may ask. Every stopped token answers `{active:false}`
 * alone, never why (§2.2); the reason goes to the audit trail.
 */
export function introspectionEndpoint(deps: Deps, services: Services, verifier: AccessTokenVerifier) {
  const throttle = new FailureThrottle({ maxFailures: deps.config.clientAuthFailureLimit, windowMs: 60_000, clock: deps.clock });
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const r = await clientRequest(deps, services, throttle, request);
    const token = r.params.token;
    if (token === undefined) throw oauthErrors.invalidRequest('token is missing');
    const status = await accessTokenStatus(deps, verifier, r.tenant, token);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    if (status.active) return reply.send(activeResponse(status.claims));
    try {
      await deps.audit.record(inactiveEvent(request, r, status.reason, status.claims));
    } catch (error) {
      if (error instanceof AuditUnavailable) throw oauthErrors.temporarilyUnavailable('audit store unavailable');
      throw error;
    }
    return reply.send({ active: false });
  };
}
