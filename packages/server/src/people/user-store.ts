import type { Db } from '../db/connect.js';

export interface SignInUser {
  id: string;
  tenantId: string;
  displayName: string;
  username: string | null;
  email: string | null;
  status: string;
}

export interface PasswordRecord {
  hash: string;
  mustChange: boolean;
  updatedAt: number;
}

const USER_COLUMNS = ['id', 'tenant_id', 'display_name', 'username', 'email', 'status'] as const;
type UserRow = { id: string; tenant_id: string; display_name: string; username?: string | null; email?: string | null; status: string };
const toUser = (r: UserRow): SignInUser => ({ id: r.id, tenantId: r.tenant_id, displayName: r.display_name, username: r.username ?? null, email: r.email ?? null, status: r.status });

/** Users as sign-in sees them, and their password hashes. Every query is scoped by tenant. */
export const userStore = {
  /** The user whose username or email is `name` (case-insensitive); kind `user` only. */
  async byLoginName(db: Db, tenantId: string, name: string): Promise<SignInUser | undefined> {
    const folded = name.trim().toLowerCase();
    if (folded === '') return undefined;
    const row = await db
      .selectFrom('principals')
      .select(USER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'user')
      .where((eb) => eb.or([eb('username', '=', folded), eb('email', '=', folded)]))
      .executeTakeFirst();
    return row && toUser(row);
  },

  async byId(db: Db, tenantId: string, id: string): Promise<SignInUser | undefined> {
    const row = await db.selectFrom('principals').select(USER_COLUMNS).where('tenant_id', '=', tenantId).where('id', '=', id).where('kind', '=', 'user').executeTakeFirst();
    return row && toUser(row);
  },

  async password(db: Db, tenantId: string, userId: string): Promise<PasswordRecord | undefined> {
    const row = await db.selectFrom('people_passwords').select(['hash', 'must_change', 'updated_at']).where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    return row && { hash: row.hash, mustChange: row.must_change === 1, updatedAt: row.updated_at };
  },

  async setPassword(db: Db, tenantId: string, userId: string, hash: string, mustChange: boolean, now: number): Promise<void> {
    const values = { hash, must_change: mustChange ? 1 : 0, updated_at: now };
    const updated = await db.updateTable('people_passwords').set(values).where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) await db.insertInto('people_passwords').values({ tenant_id: tenantId, user_id: userId, ...values }).execute();
  },

  /** Replaces the hash only if it is still `oldHash` (a transparent re-hash never overwrites a change). */
  async rehash(db: Db, tenantId: string, userId: string, oldHash: string, newHash: string): Promise<void> {
    await db.updateTable('people_passwords').set({ hash: newHash }).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('hash', '=', oldHash).execute();
  },

  async removePassword(db: Db, tenantId: string, userId: string): Promise<void> {
    await db.deleteFrom('people_passwords').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  },
};
