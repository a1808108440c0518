import { oauthErrors } from '../errors.js';
import { revokedEvent, type TokenRevoker } from './revoke.js';
import { familyStore } from './tokens/family-store.js';
import { refreshTokenStore } from './tokens/refresh-store.js';

/**
 * RFC 7009 for refresh tokens: the whole token family ends (§2.1: revoking a refresh token ends the
 * grant it belongs to), so neither it nor any refresh token rotated from it works again.
 */
export const refreshTokenRevoker: TokenRevoker = {
  hint: 'refresh_token',
  async revoke(deps, r, token, request) {
    const record = await refreshTokenStore.get(deps.db, r.tenant.id, deps.hasher.digest(token));
    if (!record) return 'unknown';
    const family = await familyStore.get(deps.db, r.tenant.id, record.familyId);
    if (!family) return 'unknown';
    // §2.1: the token must have been issued to the client asking.
    if (family.clientId !== r.client.principal.id) throw oauthErrors.unauthorizedClient('the token was not issued to this client');
    if (!(await familyStore.revoke(deps.db, r.tenant.id, family.id, deps.clock(), 'revoked by the client (RFC 7009)'))) return 'already-revoked';
    await deps.audit.record(
      revokedEvent(r, request, { subjectId: family.userId, resource: family.resource, target: { type: 'token_family', id: family.id }, data: { tokenType: 'refresh_token' } }),
    );
    return 'revoked';
  },
};
