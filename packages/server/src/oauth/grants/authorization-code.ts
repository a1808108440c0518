import { newId } from '../../crypto/ids.js';
import { oauthErrors } from '../../errors.js';
import { endpointsFor } from '../metadata.js';
import { pkceMatches } from '../pkce.js';
import { codeStore } from '../tokens/code-store.js';
import { type TokenFamily, familyStore } from '../tokens/family-store.js';
import { assertUserActive, idTokenFor, issueRefreshToken, revokeOnReuse } from '../tokens/issue.js';
import type { GrantContext, GrantResult } from './grant.js';

/**
 * authorization_code (RFC 6749 §4.1.3, OIDC Core §3.1.3) with PKCE required (RFC 9700 §2.1.1):
 * the code is single-use and lives ≤ 60 s; a second use revokes everything the first one issued.
 * The access token is delegated: `sub` is the user, `scope` what they consented to, never roles.
 */
export async function authorizationCodeGrant(ctx: GrantContext): Promise<GrantResult> {
  const { deps, tenant, client, params, request } = ctx;
  if (params.code === undefined) throw oauthErrors.invalidRequest('code is missing');
  if (params.redirect_uri === undefined) throw oauthErrors.invalidRequest('redirect_uri is missing');
  // RFC 7636 §4.5; RFC 9700 §2.1.1: without the verifier the code cannot be redeemed.
  if (params.code_verifier === undefined) throw oauthErrors.invalidGrant('code_verifier is required (PKCE)');

  const now = deps.clock();
  const digest = deps.hasher.digest(params.code);
  const code = await codeStore.get(deps.db, tenant.id, digest);
  if (!code) throw oauthErrors.invalidGrant('the authorization code is invalid');
  if (code.clientId !== client.principal.id) throw oauthErrors.invalidGrant('the authorization code was issued to another client');
  if (code.usedAt !== null) throw await revokeOnReuse(deps, request, tenant, 'authorization_code.reused', code.familyId, code.clientId, code.userId);
  if (code.expiresAt <= now) throw oauthErrors.invalidGrant('the authorization code has expired');
  // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
  if (params.redirect_uri !== code.grant.redirectUri) throw oauthErrors.invalidGrant('redirect_uri does not match the authorization request');
  if (!pkceMatches(params.code_verifier, code.grant.codeChallenge)) throw oauthErrors.invalidGrant('code_verifier does not match the code_challenge');
  await assertUserActive(deps, tenant.id, code.userId);

  const family: TokenFamily = {
    id: newId(),
    tenantId: tenant.id,
    clientId: code.clientId,
    userId: code.userId,
    consentIds: code.grant.consentIds,
    resource: code.grant.resource,
    scope: code.grant.scope,
    authTime: code.grant.authTime,
    amr: code.grant.amr,
    acr: code.grant.acr,
    createdAt: now,
    expiresAt: now + tenant.settings.refreshTokenLifetimeSeconds * 1000,
    revokedAt: null,
    revokedReason: null,
    // RFC 9449 §5: a public client's refresh tokens are bound to the key it proved here (confidential clients authenticate instead).
    dpopJkt: ctx.client.credential === null && ctx.dpop ? ctx.dpop.jkt : null,
  };
  if (!(await codeStore.spend(deps.db, tenant.id, digest, now, family.id))) {
    const spent = await codeStore.get(deps.db, tenant.id, digest);
    throw await revokeOnReuse(deps, request, tenant, 'authorization_code.reused', spent?.familyId ?? null, code.clientId, code.userId);
  }
  await familyStore.insert(deps.db, family);

  const scope = family.scope.join(' ');
  return {
    claims: { sub: family.userId, aud: family.resource ?? endpointsFor(ctx.issuer).userinfo, scope, kind: 'user' },
    scope,
    async complete(issued) {
      await codeStore.recordAccessToken(deps.db, tenant.id, digest, issued.claims.jti);
      const extra: Record<string, unknown> = {};
      // OIDC Core §11: refresh tokens only when offline_access was granted.
      if (family.scope.includes('offline_access')) extra.refresh_token = await issueRefreshToken(deps, tenant, family);
      if (family.scope.includes('openid')) extra.id_token = await idTokenFor(deps, tenant, family, issued, code.grant.nonce);
      return extra;
    },
  };
}
