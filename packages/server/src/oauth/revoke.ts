import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEventInput } from '../audit/model.js';
import { AuditUnavailable } from '../audit/writer.js';
import type { Deps } from '../context.js';
import { oauthErrors } from '../errors.js';
import { actChain } from '../policy/standing.js';
import type { Services } from '../services.js';
import { clientRequest, type ClientRequest } from './client-request.js';
import { admitClientOrigin } from './cors.js';
import { revokeAccessToken } from './revocation-list.js';
import { FailureThrottle } from './throttle.js';
import { InvalidAccessToken, type AccessTokenVerifier } from './verify-access-token.js';

/** What revoking one kind of token did: `unknown` when the token is not of this kind. */
export type RevocationOutcome = 'revoked' | 'already-revoked' | 'unknown';

/**
 * One kind of revocable token: access tokens (here) and refresh tokens (`revoke-refresh.ts`); the
 * one named by `token_type_hint` is tried first (RFC 7009 §2.1).
 */
export interface TokenRevoker {
  hint: string;
  revoke(deps: Deps, r: ClientRequest, token: string, request: FastifyRequest): Promise<RevocationOutcome>;
}

/** `token.revoked`: the revoking client as actor, and what was revoked. */
export function revokedEvent(r: ClientRequest, request: FastifyRequest, what: Pick<AuditEventInput, 'subjectId' | 'resource' | 'jti' | 'delegation' | 'target' | 'data'>): AuditEventInput {
  return {
    tenantId: r.tenant.id,
    type: 'token.revoked',
    outcome: 'success',
    actorId: r.client.principal.id,
    actorKind: r.client.principal.kind,
    clientId: r.client.principal.id,
    credentialId: r.client.credential?.id ?? null,
    credentialType: r.client.credential?.type ?? null,
    source: { ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id },
    ...what,
  };
}

/** RFC 7009 for Signet's JWT access tokens: the jti is listed until the token's `exp`. */
export function accessTokenRevoker(verifier: AccessTokenVerifier): TokenRevoker {
  return {
    hint: 'access_token',
    async revoke(deps, r, token, request) {
      let claims;
      try {
        const verified = await verifier.verify(token, null);
        if (verified.tenant.id !== r.tenant.id) return 'unknown';
        claims = verified.claims;
      } catch (error) {
        if (error instanceof InvalidAccessToken) return 'unknown';
        throw error;
      }
      // RFC 7009 §2.1: the server verifies that the token was issued to the client asking.
      if (claims.client_id !== r.client.principal.id) throw oauthErrors.unauthorizedClient('the token was not issued to this client');
      const revoked = await revokeAccessToken(deps, r.tenant.id, claims.jti, claims.exp * 1000, deps.clock());
      if (!revoked) return 'already-revoked';
      const chain = actChain(claims);
      await deps.audit.record(
        revokedEvent(r, request, {
          subjectId: claims.sub === claims.client_id ? null : claims.sub,
          resource: claims.aud,
          jti: claims.jti,
          ...(chain.length > 0 ? { delegation: chain } : {}),
          data: { tokenType: 'access_token', expiresAt: claims.exp },
        }),
      );
      return 'revoked';
    },
  };
}

/**
 * RFC 7009 token revocation. The answer is 200 whether or not the token was known, valid or
 * already revoked (§2.2), so the endpoint reveals nothing about tokens; a token issued to another
 * client is refused with `unauthorized_client`.
 */
export function revocationEndpoint(deps: Deps, services: Services, revokers: readonly TokenRevoker[]) {
  const throttle = new FailureThrottle({ maxFailures: deps.config.clientAuthFailureLimit, windowMs: 60_000, clock: deps.clock });
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const r = await clientRequest(deps, services, throttle, request, { allowPublic: true });
    await admitClientOrigin(services, request, reply, r.tenant, services.tenants.issuer(r.tenant), r.client.principal.id);
    const token = r.params.token;
    if (token === undefined) throw oauthErrors.invalidRequest('token is missing');
    // §2.1: the hint only orders the search; an unknown hint is ignored.
    const hint = r.params.token_type_hint;
    const ordered = [...revokers].sort((a, b) => Number(b.hint === hint) - Number(a.hint === hint));
    try {
      for (const revoker of ordered) if ((await revoker.revoke(deps, r, token, request)) !== 'unknown') break;
    } catch (error) {
      if (error instanceof AuditUnavailable) throw oauthErrors.temporarilyUnavailable('audit store unavailable');
      throw error;
    }
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').status(200).send();
  };
}
