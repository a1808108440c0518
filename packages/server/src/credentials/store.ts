import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { CredentialsTable } from '../db/schema.js';
import type { Credential, CredentialType } from './model.js';

function toCredential(row: CredentialsTable): Credential {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    principalId: row.principal_id,
    type: row.type as CredentialType,
    description: row.description,
    secretDigest: row.secret_digest,
    publicJwk: row.public_jwk === null ? null : parseJson<JWK>(row.public_jwk, 'credentials.public_jwk'),
    thumbprint: row.thumbprint,
    certificate: row.certificate,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

/** Storage for principals' credentials, scoped to a tenant. */
export const credentialStore = {
  async insert(db: Db, c: Credential): Promise<void> {
    await db
      .insertInto('credentials')
      .values({
        id: c.id,
        tenant_id: c.tenantId,
        principal_id: c.principalId,
        type: c.type,
        description: c.description,
        secret_digest: c.secretDigest,
        public_jwk: c.publicJwk === null ? null : JSON.stringify(c.publicJwk),
        thumbprint: c.thumbprint,
        certificate: c.certificate,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        last_used_at: c.lastUsedAt,
      })
      .execute();
  },

  async get(db: Db, tenantId: string, principalId: string, id: string): Promise<Credential | undefined> {
    const row = await db
      .selectFrom('credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toCredential(row);
  },

  /** All credentials of a principal (a principal holds few; the federation issue may add paging). */
  async listForPrincipal(db: Db, tenantId: string, principalId: string, type?: CredentialType): Promise<Credential[]> {
    let q = db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).orderBy('id');
    if (type) q = q.where('type', '=', type);
    return (await q.execute()).map(toCredential);
  },

  async delete(db: Db, tenantId: string, principalId: string, id: string): Promise<boolean> {
    const result = await db
      .deleteFrom('credentials')
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  async touch(db: Db, tenantId: string, id: string, at: number): Promise<void> {
    await db.updateTable('credentials').set({ last_used_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};
