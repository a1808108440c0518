import type { Deps } from '../context.js';
import type { Db } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';
import { changeDirectory } from '../db/directory-change.js';

/**
 * Revoked access tokens (RFC 7009), by `jti`, each kept until the token's own `exp`. Revoking
 * invalidates the tenant's directory cache, so this node sees it at once and other nodes within
 * SIGNET_CACHE_STALENESS_MS; reads go through the same cache, so introspection stays cheap.
 */
export async function revokeAccessToken(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
  try {
    await changeDirectory(deps, tenantId, (trx) => trx.insertInto('revoked_tokens').values({ tenant_id: tenantId, jti, expires_at: expiresAt, revoked_at: now }).execute());
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export function isRevoked(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, jti: string): Promise<boolean> {
  return deps.cache.get(tenantId, `revoked:${jti}`, async () => {
    const row = await deps.db.selectFrom('revoked_tokens').select('jti').where('tenant_id', '=', tenantId).where('jti', '=', jti).executeTakeFirst();
    return row !== undefined;
  });
}

/** Entries whose token has expired anyway; run by maintenance. */
export async function forgetExpiredRevocations(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('revoked_tokens').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
