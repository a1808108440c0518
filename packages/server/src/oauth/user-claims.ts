import type { Db } from '../db/connect.js';

/**
 * OIDC Core §5.4 standard claims a user's scopes release: `profile` → name, preferred_username;
 * `email` → email (email_verified false: Signet does not verify addresses).
 */
export async function userClaims(db: Db, tenantId: string, userId: string, scope: readonly string[]): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('principals').select(['display_name', 'username', 'email']).where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst();
  if (!row) return {};
  const claims: Record<string, unknown> = {};
  if (scope.includes('profile')) {
    claims.name = row.display_name;
    if (row.username) claims.preferred_username = row.username;
  }
  if (scope.includes('email') && row.email) {
    claims.email = row.email;
    claims.email_verified = false;
  }
  return claims;
}
