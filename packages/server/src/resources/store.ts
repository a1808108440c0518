import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { ResourcesTable } from '../db/schema.js';
import type { Permission, Resource } from './model.js';

function toResource(row: ResourcesTable): Resource {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    identifier: row.identifier,
    displayName: row.display_name,
    description: row.description,
    scopes: parseJson<Permission[]>(row.scopes, 'resources.scopes'),
    roles: parseJson<Permission[]>(row.roles, 'resources.roles'),
    builtin: row.builtin === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(r: Resource): ResourcesTable {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    identifier: r.identifier,
    display_name: r.displayName,
    description: r.description,
    scopes: JSON.stringify(r.scopes),
    roles: JSON.stringify(r.roles),
    builtin: r.builtin ? 1 : 0,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** Storage for protected resources (APIs), scoped to a tenant. */
export const resourceStore = {
  async insert(db: Db, r: Resource): Promise<void> {
    await db.insertInto('resources').values(toRow(r)).execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<Resource | undefined> {
    const row = await db.selectFrom('resources').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toResource(row);
  },

  async byIdentifier(db: Db, tenantId: string, identifier: string): Promise<Resource | undefined> {
    const row = await db
      .selectFrom('resources')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return row && toResource(row);
  },

  async list(db: Db, tenantId: string, page: PageRequest): Promise<Page<Resource>> {
    let q = db.selectFrom('resources').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(page.limit + 1);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    return toPage(await q.execute(), page.limit, toResource);
  },

  async update(db: Db, r: Resource): Promise<void> {
    const { id: _id, tenant_id: _t, created_at: _c, ...rest } = toRow(r);
    await db.updateTable('resources').set(rest).where('tenant_id', '=', r.tenantId).where('id', '=', r.id).execute();
  },

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('resources').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};
