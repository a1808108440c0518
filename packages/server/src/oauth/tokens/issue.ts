import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../context.js';
import { randomToken } from '../../crypto/ids.js';
import { OAuthError, oauthErrors } from '../../errors.js';
import { principalStore } from '../../principals/store.js';
import { rulesFor } from '../../principals/kinds.js';
import type { Tenant } from '../../tenants/model.js';
import type { AccessTokenClaims } from '../access-token.js';
import { accessTokenHash, ID_TOKEN_TTL_S, signIdToken } from '../id-token.js';
import { userClaims } from '../user-claims.js';
import type { TokenFamily } from './family-store.js';
import { familyStore } from './family-store.js';
import { refreshTokenStore } from './refresh-store.js';
import { AuditUnavailable } from '../../audit/writer.js';
import type { AuditEventInput } from '../../audit/model.js';

/** A new refresh token of `family`: 256 random bits, stored as its keyed digest. Idle expiry never outlasts the family. */
export async function issueRefreshToken(deps: Deps, tenant: Tenant, family: TokenFamily): Promise<string> {
  const token = randomToken();
  const now = deps.clock();
  await refreshTokenStore.insert(deps.db, {
    digest: deps.hasher.digest(token),
    tenantId: tenant.id,
    familyId: family.id,
    createdAt: now,
    idleExpiresAt: Math.min(now + tenant.settings.refreshTokenIdleSeconds * 1000, family.expiresAt),
    usedAt: null,
  });
  return token;
}

/** The ID token for a family's access token (OIDC Core §3.1.3.3; §12.2 on refresh, without nonce). */
export async function idTokenFor(deps: Deps, tenant: Tenant, family: TokenFamily, issued: { accessToken: string; claims: AccessTokenClaims }, nonce: string | null): Promise<string> {
  const signer = await deps.keys.signer(tenant.id);
  const now = Math.floor(deps.clock() / 1000);
  return signIdToken(
    {
      ...(await userClaims(deps.db, tenant.id, family.userId, family.scope)),
      iss: issued.claims.iss,
      sub: family.userId,
      aud: family.clientId,
      azp: family.clientId,
      iat: now,
      exp: now + ID_TOKEN_TTL_S,
      auth_time: family.authTime,
      ...(nonce ? { nonce } : {}),
      amr: family.amr,
      acr: family.acr,
      at_hash: accessTokenHash(issued.accessToken, signer.alg),
    },
    signer,
  );
}

/** The user a delegated grant is for must still be an active person. */
export async function assertUserActive(deps: Deps, tenantId: string, userId: string): Promise<void> {
  const user = await principalStore.get(deps.db, tenantId, userId);
  if (!user || user.status !== 'active' || !rulesFor(user.kind).mayConsent) throw oauthErrors.invalidGrant('the user can no longer sign in', `user is ${user?.status ?? 'missing'}`);
}

/**
 * Reuse of a spent code or refresh token (RFC 9700 §4.14.2, §2.1.1): revokes the whole family, so
 * whoever holds the tokens it produced loses them, and records the event before refusing.
 */
export async function revokeOnReuse(deps: Deps, request: FastifyRequest, tenant: Tenant, type: 'authorization_code.reused' | 'refresh_token.reused', familyId: string | null, clientId: string, userId: string): Promise<OAuthError> {
  const revoked = familyId ? await familyStore.revoke(deps.db, tenant.id, familyId, deps.clock(), type) : false;
  const event: AuditEventInput = {
    tenantId: tenant.id,
    type,
    outcome: 'failure',
    actorId: clientId,
    clientId,
    subjectId: userId,
    target: familyId ? { type: 'token_family', id: familyId } : null,
    source: { ip: request.ip, userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : undefined, requestId: request.id },
    data: { familyRevoked: revoked },
  };
  try {
    await deps.audit.record(event);
  } catch (error) {
    if (error instanceof AuditUnavailable) return oauthErrors.temporarilyUnavailable('audit store unavailable');
    throw error;
  }
  return oauthErrors.invalidGrant(type === 'authorization_code.reused' ? 'the authorization code was already used' : 'the refresh token was already used', 'every token of its family is revoked');
}
