import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { ManagedKeysTable } from '../db/schema.js';
import { PRINCIPAL_KINDS, rulesFor } from '../principals/kinds.js';
import type { ManagedKey } from './model.js';

const KEY_HOLDING_KINDS = PRINCIPAL_KINDS.filter((kind) => rulesFor(kind).platformHeldKey);

function toKey(row: ManagedKeysTable): ManagedKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    principalId: row.principal_id,
    generation: Number(row.generation),
    alg: 'ES256',
    publicJwk: parseJson<JWK>(row.public_jwk, 'managed_keys.public_jwk'),
    sealedPrivateKey: row.private_key,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Managed identities' platform-held keys, scoped to a tenant. */
export const managedKeyStore = {
  async insert(db: Db, k: ManagedKey): Promise<void> {
    await db
      .insertInto('managed_keys')
      .values({
        id: k.id,
        tenant_id: k.tenantId,
        principal_id: k.principalId,
        generation: k.generation,
        alg: k.alg,
        public_jwk: JSON.stringify(k.publicJwk),
        private_key: k.sealedPrivateKey,
        created_at: k.createdAt,
        expires_at: k.expiresAt,
      })
      .execute();
  },

  /** Unexpired keys of one principal, newest first. */
  async live(db: Db, tenantId: string, principalId: string, now: number): Promise<ManagedKey[]> {
    const rows = await db
      .selectFrom('managed_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId)
      .where('expires_at', '>', now)
      .orderBy('generation', 'desc')
      .execute();
    return rows.map(toKey);
  },

  /** The highest generation a principal ever had (0 when none). */
  async lastGeneration(db: Db, tenantId: string, principalId: string): Promise<number> {
    const row = await db
      .selectFrom('managed_keys')
      .select((eb) => eb.fn.max('generation').as('generation'))
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
    return Number(row?.generation ?? 0);
  },

  /**
   * Active managed principals (every tenant) whose newest key was created at or before
   * `createdBefore`, or that have no unexpired key at all: the ones due for their next key.
   */
  async due(db: Db, createdBefore: number, now: number, limit: number): Promise<Array<{ tenantId: string; principalId: string }>> {
    const rows = await db
      .selectFrom('principals as p')
      .select(['p.tenant_id', 'p.id'])
      .where('p.kind', 'in', KEY_HOLDING_KINDS)
      .where('p.status', '=', 'active')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('managed_keys as k')
              .select('k.id')
              .whereRef('k.tenant_id', '=', 'p.tenant_id')
              .whereRef('k.principal_id', '=', 'p.id')
              .where('k.created_at', '>', createdBefore)
              .where('k.expires_at', '>', now),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => ({ tenantId: r.tenant_id, principalId: r.id }));
  },

  /** Removes keys past their expiry: a private half must not outlive its use. */
  async deleteExpired(db: Db, now: number): Promise<number> {
    const result = await db.deleteFrom('managed_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async deleteForPrincipal(db: Db, tenantId: string, principalId: string): Promise<number> {
    const result = await db.deleteFrom('managed_keys').where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
