import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { CredentialColumns, CredentialsTable } from '../db/schema.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { Credential, CredentialType, Federation } from './model.js';

/** A credential from the shared columns of a row; `holderId` is the principal (or blueprint) holding it. */
export function credentialFromRow(row: CredentialColumns, holderId: string, table: string): Credential {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    principalId: holderId,
    type: row.type as CredentialType,
    description: row.description,
    secretDigest: row.secret_digest,
    publicJwk: row.public_jwk === null ? null : parseJson<JWK>(row.public_jwk, `${table}.public_jwk`),
    thumbprint: row.thumbprint,
    certificate: row.certificate,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

/** The shared columns of a credential row. */
export function credentialRow(c: Credential): CredentialColumns {
  return {
    id: c.id,
    tenant_id: c.tenantId,
    type: c.type,
    description: c.description,
    secret_digest: c.secretDigest,
    public_jwk: c.publicJwk === null ? null : JSON.stringify(c.publicJwk),
    thumbprint: c.thumbprint,
    certificate: c.certificate,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
    last_used_at: c.lastUsedAt,
  };
}

function toCredential(row: CredentialsTable): Credential {
  const credential = credentialFromRow(row, row.principal_id, 'credentials');
  const federation = toFederation(row);
  return federation ? { ...credential, federation } : credential;
}

function toFederation(row: CredentialsTable): Federation | null {
  if (row.issuer === null || row.audience === null) return null;
  return {
    issuer: row.issuer,
    audience: row.audience,
    subject: row.subject,
    claims: row.claims,
    jwks: row.jwks === null ? null : parseJson<{ keys: JWK[] }>(row.jwks, 'credentials.jwks'),
  };
}

/** Storage for principals' credentials, scoped to a tenant. */
export const credentialStore = {
  async insert(db: Db, c: Credential): Promise<void> {
    await db
      .insertInto('credentials')
      .values({
        ...credentialRow(c),
        principal_id: c.principalId,
        issuer: c.federation?.issuer ?? null,
        audience: c.federation?.audience ?? null,
        subject: c.federation?.subject ?? null,
        claims: c.federation?.claims ?? null,
        jwks: c.federation?.jwks ? JSON.stringify(c.federation.jwks) : null,
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

  /**
   * Federated credentials of a tenant for one external issuer and audience, optionally of one
   * principal (index `credentials_federation`); expired ones included, the caller checks expiry.
   */
  async federatedFor(db: Db, tenantId: string, issuer: string, audience: string, principalId?: string): Promise<Credential[]> {
    let q = db
      .selectFrom('credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('issuer', '=', issuer)
      .where('audience', '=', audience)
      .where('type', '=', 'federated');
    if (principalId !== undefined) q = q.where('principal_id', '=', principalId);
    return (await q.orderBy('id').execute()).map(toCredential);
  },

  /** Credentials of a tenant that expire before `before` (expired ones included), in id order. */
  async expiringBefore(db: Db, tenantId: string, before: number, page: PageRequest): Promise<Page<Credential>> {
    let q = db
      .selectFrom('credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', before);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    const rows = await q.orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit, toCredential);
  },

  async touch(db: Db, tenantId: string, id: string, at: number): Promise<void> {
    await db.updateTable('credentials').set({ last_used_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};
