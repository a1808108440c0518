import type { Db } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';

/**
 * Remembers `jti` values of client assertions until they expire, across every node (the database
 * is shared), so an assertion can be used once (RFC 7523 §3, item 7).
 * Returns false when the jti was already used.
 */
export async function rememberJti(db: Db, tenantId: string, clientId: string, jti: string, expiresAt: number): Promise<boolean> {
  try {
    await db.insertInto('used_jtis').values({ tenant_id: tenantId, client_id: clientId, jti, expires_at: expiresAt }).execute();
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export async function forgetExpiredJtis(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('used_jtis').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
