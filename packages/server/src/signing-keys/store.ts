import type { JWK } from 'jose';
import type { SigningAlg } from '../config.js';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { SigningKeysTable } from '../db/schema.js';
import type { SigningKey, SigningKeyStatus } from './model.js';

function toKey(row: SigningKeysTable): SigningKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    alg: row.alg as SigningAlg,
    status: row.status as SigningKeyStatus,
    publicJwk: parseJson<JWK>(row.public_jwk, 'signing_keys.public_jwk'),
    sealedPrivateKey: row.private_key,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}

/** Storage for per-tenant token-signing keys. */
export const signingKeyStore = {
  async insert(db: Db, k: SigningKey): Promise<void> {
    await db
      .insertInto('signing_keys')
      .values({
        id: k.id,
        tenant_id: k.tenantId,
        alg: k.alg,
        status: k.status,
        public_jwk: JSON.stringify(k.publicJwk),
        private_key: k.sealedPrivateKey,
        created_at: k.createdAt,
        activated_at: k.activatedAt,
        retired_at: k.retiredAt,
        expires_at: k.expiresAt,
      })
      .execute();
  },

  /** Keys still published: everything not yet past its expiry, oldest first. */
  async listLive(db: Db, tenantId: string, now: number): Promise<SigningKey[]> {
    const rows = await db
      .selectFrom('signing_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toKey);
  },

  async setStatus(db: Db, tenantId: string, id: string, change: Pick<SigningKey, 'status' | 'activatedAt' | 'retiredAt' | 'expiresAt'>): Promise<void> {
    await db
      .updateTable('signing_keys')
      .set({ status: change.status, activated_at: change.activatedAt, retired_at: change.retiredAt, expires_at: change.expiresAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  },

  /** Removes keys that left the JWKS; their private halves must not outlive their use. */
  async deleteExpired(db: Db, tenantId: string, now: number): Promise<number> {
    const result = await db.deleteFrom('signing_keys').where('tenant_id', '=', tenantId).where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
