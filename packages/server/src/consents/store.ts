import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { toPage, type Page, type PageRequest } from '../db/page.js';
import type { ConsentsTable } from '../db/schema.js';
import type { Consent } from './model.js';

function toConsent(row: ConsentsTable): Consent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    clientId: row.client_id,
    resource: row.resource,
    scopes: parseJson<string[]>(row.scopes, 'consents.scopes'),
    grantedBy: row.granted_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

export interface ConsentFilter {
  userId?: string | undefined;
  clientId?: string | undefined;
  /** Only admin consents for every user. */
  allUsers?: boolean | undefined;
}

/** Storage for consents, scoped to a tenant. */
export const consentStore = {
  async insert(db: Db, c: Consent): Promise<void> {
    await db
      .insertInto('consents')
      .values({
        id: c.id,
        tenant_id: c.tenantId,
        user_id: c.userId,
        client_id: c.clientId,
        resource: c.resource,
        scopes: JSON.stringify(c.scopes),
        granted_by: c.grantedBy,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
        expires_at: c.expiresAt,
      })
      .execute();
  },

  async update(db: Db, c: Consent): Promise<void> {
    await db
      .updateTable('consents')
      .set({ scopes: JSON.stringify(c.scopes), granted_by: c.grantedBy, updated_at: c.updatedAt, expires_at: c.expiresAt })
      .where('tenant_id', '=', c.tenantId)
      .where('id', '=', c.id)
      .execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<Consent | undefined> {
    const row = await db.selectFrom('consents').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toConsent(row);
  },

  /** The one consent of `userId` (null: the admin consent) for `clientId` on `resource`, expired or not. */
  async find(db: Db, tenantId: string, userId: string | null, clientId: string, resource: string): Promise<Consent | undefined> {
    let q = db.selectFrom('consents').selectAll().where('tenant_id', '=', tenantId).where('client_id', '=', clientId).where('resource', '=', resource);
    q = userId === null ? q.where('user_id', 'is', null) : q.where('user_id', '=', userId);
    const row = await q.orderBy('id').executeTakeFirst();
    return row && toConsent(row);
  },

  /** Unexpired consents that cover `userId` with `clientId`: the user's own and the admin's for every user. */
  async live(db: Db, tenantId: string, userId: string, clientId: string, now: number): Promise<Consent[]> {
    const rows = await db
      .selectFrom('consents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('client_id', '=', clientId)
      .where((eb) => eb.or([eb('user_id', '=', userId), eb('user_id', 'is', null)]))
      .where('expires_at', '>', now)
      .orderBy('id')
      .execute();
    return rows.map(toConsent);
  },

  async list(db: Db, tenantId: string, filter: ConsentFilter, page: PageRequest): Promise<Page<Consent>> {
    let q = db.selectFrom('consents').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(page.limit + 1);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    if (filter.allUsers) q = q.where('user_id', 'is', null);
    if (filter.clientId) q = q.where('client_id', '=', filter.clientId);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    return toPage(await q.execute(), page.limit, toConsent);
  },

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('consents').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};
