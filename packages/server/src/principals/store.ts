import type { Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { PrincipalsTable } from '../db/schema.js';
import type { PrincipalKind } from './kinds.js';
import type { Principal, PrincipalStatus } from './model.js';

function toPrincipal(row: PrincipalsTable, sponsors: string[]): Principal {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind as PrincipalKind,
    displayName: row.display_name,
    description: row.description,
    status: row.status as PrincipalStatus,
    sponsors,
    blueprintId: row.blueprint_id ?? null,
    expiresAt: row.expires_at ?? null,
    requireDpop: row.require_dpop === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    username: row.username ?? null,
    email: row.email ?? null,
  };
}

async function sponsorsOf(db: Db, tenantId: string, ids: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (ids.length === 0) return map;
  const rows = await db
    .selectFrom('principal_sponsors')
    .select(['principal_id', 'sponsor_id'])
    .where('tenant_id', '=', tenantId)
    .where('principal_id', 'in', ids)
    .orderBy('sponsor_id')
    .execute();
  for (const r of rows) map.set(r.principal_id, [...(map.get(r.principal_id) ?? []), r.sponsor_id]);
  return map;
}

export interface PrincipalFilter {
  kind?: PrincipalKind | undefined;
  status?: PrincipalStatus | undefined;
}

/** Storage for principals and their sponsors. Every read and write is scoped to one tenant. */
export const principalStore = {
  async insert(db: Db, p: Principal): Promise<void> {
    await db
      .insertInto('principals')
      .values({
        id: p.id,
        tenant_id: p.tenantId,
        kind: p.kind,
        display_name: p.displayName,
        description: p.description,
        status: p.status,
        blueprint_id: p.blueprintId,
        expires_at: p.expiresAt,
        require_dpop: p.requireDpop ? 1 : 0,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        deleted_at: p.deletedAt,
        username: p.username,
        email: p.email,
      })
      .execute();
    await this.replaceSponsors(db, p.tenantId, p.id, p.sponsors, p.createdAt);
  },

  async get(db: Db, tenantId: string, id: string): Promise<Principal | undefined> {
    const row = await db.selectFrom('principals').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return toPrincipal(row, (await sponsorsOf(db, tenantId, [id])).get(id) ?? []);
  },

  /** Lists principals, oldest first. Deleted principals appear only when asked for by status. */
  async list(db: Db, tenantId: string, filter: PrincipalFilter, page: PageRequest): Promise<Page<Principal>> {
    let q = db.selectFrom('principals').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(page.limit + 1);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    q = filter.status ? q.where('status', '=', filter.status) : q.where('status', '!=', 'deleted');
    if (page.cursor) q = q.where('id', '>', page.cursor);
    const rows = await q.execute();
    const sponsors = await sponsorsOf(
      db,
      tenantId,
      rows.slice(0, page.limit).map((r) => r.id),
    );
    return toPage(rows, page.limit, (r) => toPrincipal(r, sponsors.get(r.id) ?? []));
  },

  async update(db: Db, p: Principal): Promise<void> {
    await db
      .updateTable('principals')
      .set({
        display_name: p.displayName,
        description: p.description,
        status: p.status,
        expires_at: p.expiresAt,
        require_dpop: p.requireDpop ? 1 : 0,
        updated_at: p.updatedAt,
        deleted_at: p.deletedAt,
        username: p.username,
        email: p.email,
      })
      .where('tenant_id', '=', p.tenantId)
      .where('id', '=', p.id)
      .execute();
  },

  async replaceSponsors(db: Db, tenantId: string, principalId: string, sponsors: string[], now: number): Promise<void> {
    await db.deleteFrom('principal_sponsors').where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).execute();
    if (sponsors.length === 0) return;
    await db
      .insertInto('principal_sponsors')
      .values(sponsors.map((sponsor_id) => ({ tenant_id: tenantId, principal_id: principalId, sponsor_id, created_at: now })))
      .execute();
  },

  /** Principals that name `sponsorId` as a sponsor. */
  async sponsoredBy(db: Db, tenantId: string, sponsorId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('principal_sponsors')
      .select('principal_id')
      .where('tenant_id', '=', tenantId)
      .where('sponsor_id', '=', sponsorId)
      .execute();
    return rows.map((r) => r.principal_id);
  },
};
