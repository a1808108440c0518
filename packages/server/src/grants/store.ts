import type { Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { GrantsTable } from '../db/schema.js';
import type { Grant } from './model.js';

function toGrant(row: GrantsTable): Grant {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    principalId: row.principal_id,
    resourceId: row.resource_id,
    role: row.role,
    createdAt: row.created_at,
  };
}

export interface GrantFilter {
  principalId?: string | undefined;
  resourceId?: string | undefined;
}

/** Storage for application-permission grants, scoped to a tenant. */
export const grantStore = {
  async insert(db: Db, g: Grant): Promise<void> {
    await db
      .insertInto('grants')
      .values({ id: g.id, tenant_id: g.tenantId, principal_id: g.principalId, resource_id: g.resourceId, role: g.role, created_at: g.createdAt })
      .execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<Grant | undefined> {
    const row = await db.selectFrom('grants').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toGrant(row);
  },

  async list(db: Db, tenantId: string, filter: GrantFilter, page: PageRequest): Promise<Page<Grant>> {
    let q = db.selectFrom('grants').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(page.limit + 1);
    if (filter.principalId) q = q.where('principal_id', '=', filter.principalId);
    if (filter.resourceId) q = q.where('resource_id', '=', filter.resourceId);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    return toPage(await q.execute(), page.limit, toGrant);
  },

  /** The roles `principalId` holds on `resourceId`. */
  async roles(db: Db, tenantId: string, principalId: string, resourceId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('grants')
      .select('role')
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId)
      .where('resource_id', '=', resourceId)
      .orderBy('role')
      .execute();
    return rows.map((r) => r.role);
  },

  async countForRole(db: Db, tenantId: string, resourceId: string, role: string): Promise<number> {
    const row = await db
      .selectFrom('grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('resource_id', '=', resourceId)
      .where('role', '=', role)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('grants').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async deleteForResource(db: Db, tenantId: string, resourceId: string): Promise<Grant[]> {
    const rows = await db.selectFrom('grants').selectAll().where('tenant_id', '=', tenantId).where('resource_id', '=', resourceId).execute();
    await db.deleteFrom('grants').where('tenant_id', '=', tenantId).where('resource_id', '=', resourceId).execute();
    return rows.map(toGrant);
  },
};
