import type { Db } from '../../db/connect.js';
import type { RefreshTokensTable } from '../../db/schema.js';

/** A refresh token, known only by its keyed digest. */
export interface RefreshTokenRecord {
  digest: string;
  tenantId: string;
  familyId: string;
  createdAt: number;
  idleExpiresAt: number;
  /** When it was exchanged for its successor; a second use is reuse. */
  usedAt: number | null;
}

const toRecord = (row: RefreshTokensTable): RefreshTokenRecord => ({
  digest: row.digest,
  tenantId: row.tenant_id,
  familyId: row.family_id,
  createdAt: row.created_at,
  idleExpiresAt: row.idle_expires_at,
  usedAt: row.used_at,
});

export const refreshTokenStore = {
  async insert(db: Db, r: RefreshTokenRecord): Promise<void> {
    await db
      .insertInto('refresh_tokens')
      .values({ digest: r.digest, tenant_id: r.tenantId, family_id: r.familyId, created_at: r.createdAt, idle_expires_at: r.idleExpiresAt, used_at: r.usedAt })
      .execute();
  },

  async get(db: Db, tenantId: string, digest: string): Promise<RefreshTokenRecord | undefined> {
    const row = await db.selectFrom('refresh_tokens').selectAll().where('tenant_id', '=', tenantId).where('digest', '=', digest).executeTakeFirst();
    return row && toRecord(row);
  },

  /** Marks the token spent; false when another request spent it first (then this use is a reuse). */
  async spend(db: Db, tenantId: string, digest: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('refresh_tokens')
      .set({ used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async deleteExpired(db: Db, now: number): Promise<number> {
    const result = await db.deleteFrom('refresh_tokens').where('idle_expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
