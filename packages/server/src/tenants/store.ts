import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { TenantsTable } from '../db/schema.js';
import { DEFAULT_TENANT_SETTINGS, type Tenant, type TenantSettings, type TenantStatus } from './model.js';

function toTenant(row: TenantsTable): Tenant {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    status: row.status as TenantStatus,
    settings: { ...DEFAULT_TENANT_SETTINGS, ...parseJson<Partial<TenantSettings>>(row.settings, 'tenants.settings') },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Storage for tenants. Tenants are the isolation boundary, so this is the one store not keyed by tenant. */
export const tenantStore = {
  async insert(db: Db, tenant: Tenant): Promise<void> {
    await db
      .insertInto('tenants')
      .values({
        id: tenant.id,
        name: tenant.name,
        display_name: tenant.displayName,
        status: tenant.status,
        settings: JSON.stringify(tenant.settings),
        created_at: tenant.createdAt,
        updated_at: tenant.updatedAt,
      })
      .execute();
  },

  async byId(db: Db, id: string): Promise<Tenant | undefined> {
    const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTenant(row);
  },

  async byName(db: Db, name: string): Promise<Tenant | undefined> {
    const row = await db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toTenant(row);
  },

  async list(db: Db, page: PageRequest): Promise<Page<Tenant>> {
    let q = db.selectFrom('tenants').selectAll().orderBy('id').limit(page.limit + 1);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    return toPage(await q.execute(), page.limit, toTenant);
  },

  async update(db: Db, tenant: Tenant): Promise<void> {
    await db
      .updateTable('tenants')
      .set({
        display_name: tenant.displayName,
        status: tenant.status,
        settings: JSON.stringify(tenant.settings),
        updated_at: tenant.updatedAt,
      })
      .where('id', '=', tenant.id)
      .execute();
  },
};
