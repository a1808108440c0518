import type { Db } from '../db/connect.js';

/** Invitations: single-use, expiring; only the keyed digest of the token is stored. */
export const invitationStore = {
  async insert(db: Db, i: { digest: string; tenantId: string; userId: string; createdAt: number; expiresAt: number }): Promise<void> {
    await db.insertInto('people_invitations').values({ digest: i.digest, tenant_id: i.tenantId, user_id: i.userId, created_at: i.createdAt, expires_at: i.expiresAt, used_at: null }).execute();
  },

  /** The user an unused, unexpired invitation is for. */
  async find(db: Db, tenantId: string, digest: string, now: number): Promise<string | undefined> {
    const row = await db
      .selectFrom('people_invitations')
      .select('user_id')
      .where('tenant_id', '=', tenantId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.user_id;
  },

  /** Spends the invitation: true only for the one request that marks it used. */
  async use(db: Db, tenantId: string, digest: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('people_invitations')
      .set({ used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** A new invitation replaces the user's earlier unused ones. */
  async revokeForUser(db: Db, tenantId: string, userId: string, now: number): Promise<void> {
    await db.updateTable('people_invitations').set({ used_at: now }).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  },
};
