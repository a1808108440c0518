import { consentStore } from '../../consents/store.js';
import { oauthErrors } from '../../errors.js';
import { endpointsFor } from '../metadata.js';
import { familyStore } from '../tokens/family-store.js';
import { assertUserActive, idTokenFor, issueRefreshToken, revokeOnReuse } from '../tokens/issue.js';
import { refreshTokenStore } from '../tokens/refresh-store.js';
import { requireSameKey } from '../dpop.js';
import type { GrantContext, GrantResult } from './grant.js';

/**
 * refresh_token (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every use returns a new refresh
 * token and spends the old one; presenting a spent one revokes the whole family. A family ends at
 * the tenant's lifetime, a token after its idle timeout, and everything with the consent it rests on.
 */
export async function refreshTokenGrant(ctx: GrantContext): Promise<GrantResult> {
  const { deps, tenant, client, params, request } = ctx;
  if (params.refresh_token === undefined) throw oauthErrors.invalidRequest('refresh_token is missing');
  const now = deps.clock();
  const digest = deps.hasher.digest(params.refresh_token);
  const record = await refreshTokenStore.get(deps.db, tenant.id, digest);
  if (!record) throw oauthErrors.invalidGrant('the refresh token is invalid');
  const family = await familyStore.get(deps.db, tenant.id, record.familyId);
  if (!family) throw oauthErrors.invalidGrant('the refresh token is invalid');
  if (family.clientId !== client.principal.id) throw oauthErrors.invalidGrant('the refresh token was issued to another client');
  if (family.revokedAt !== null) throw oauthErrors.invalidGrant('the refresh token has been revoked', family.revokedReason ?? undefined);
  if (record.usedAt !== null) throw await revokeOnReuse(deps, request, tenant, 'refresh_token.reused', family.id, family.clientId, family.userId);
  if (record.idleExpiresAt <= now || family.expiresAt <= now) throw oauthErrors.invalidGrant('the refresh token has expired');
  if (family.dpopJkt !== null) {
    if (!ctx.dpop) throw oauthErrors.invalidDpopProof('this refresh token is bound to a DPoP key: send a proof signed with it');
    requireSameKey(ctx.dpop, family.dpopJkt);
  }
  await assertUserActive(deps, tenant.id, family.userId);
  for (const consentId of family.consentIds) {
    const consent = await consentStore.get(deps.db, tenant.id, consentId);
    if (!consent || consent.expiresAt <= now) throw oauthErrors.invalidGrant('the consent behind the refresh token has expired or was revoked');
  }

  // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
  let scope = family.scope;
  if (params.scope !== undefined) {
    const asked = [...new Set(params.scope.split(' '))];
    const extra = asked.filter((s) => !family.scope.includes(s));
    if (extra.length > 0) throw oauthErrors.invalidScope(`not granted to the refresh token: ${extra.join(' ').slice(0, 300)}`);
    scope = asked;
  }
  if (!(await refreshTokenStore.spend(deps.db, tenant.id, digest, now))) {
    throw await revokeOnReuse(deps, request, tenant, 'refresh_token.reused', family.id, family.clientId, family.userId);
  }

  const scopeText = scope.join(' ');
  return {
    claims: { sub: family.userId, aud: family.resource ?? endpointsFor(ctx.issuer).userinfo, scope: scopeText, kind: 'user' },
    scope: scopeText,
    async complete(issued) {
      const extra: Record<string, unknown> = { refresh_token: await issueRefreshToken(deps, tenant, family) };
      if (scope.includes('openid')) extra.id_token = await idTokenFor(deps, tenant, { ...family, scope }, issued, null);
      return extra;
    },
  };
}
