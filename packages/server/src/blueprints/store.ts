import type { Credential } from '../credentials/model.js';
import { credentialFromRow, credentialRow } from '../credentials/store.js';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { Page, PageRequest } from '../db/page.js';
import { toPage } from '../db/page.js';
import type { BlueprintCredentialsTable, BlueprintsTable } from '../db/schema.js';
import type { Blueprint, BlueprintPermission } from './model.js';

function toBlueprint(row: BlueprintsTable): Blueprint {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    permissions: parseJson<BlueprintPermission[]>(row.permissions, 'blueprints.permissions'),
    accessTokenLifetimeSeconds: row.access_token_lifetime_seconds,
    maxDelegationDepth: row.max_delegation_depth,
    allowAppRoles: row.allow_app_roles === 1,
    allowDelegation: row.allow_delegation === 1,
    requireDpop: row.require_dpop === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(b: Blueprint): BlueprintsTable {
  return {
    id: b.id,
    tenant_id: b.tenantId,
    name: b.name,
    description: b.description,
    permissions: JSON.stringify(b.permissions),
    access_token_lifetime_seconds: b.accessTokenLifetimeSeconds,
    max_delegation_depth: b.maxDelegationDepth,
    allow_app_roles: b.allowAppRoles ? 1 : 0,
    allow_delegation: b.allowDelegation ? 1 : 0,
    require_dpop: b.requireDpop ? 1 : 0,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
  };
}

/** A blueprint credential as a `Credential` whose holder is the blueprint (`blueprintId` set, `principalId` = blueprint id). */
function toCredential(row: BlueprintCredentialsTable): Credential {
  return { ...credentialFromRow(row, row.blueprint_id, 'blueprint_credentials'), blueprintId: row.blueprint_id };
}

/** Storage for blueprints and the credentials they lend their agents. Every query is scoped to one tenant. */
export const blueprintStore = {
  async insert(db: Db, b: Blueprint): Promise<void> {
    await db.insertInto('blueprints').values(toRow(b)).execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<Blueprint | undefined> {
    const row = await db.selectFrom('blueprints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toBlueprint(row);
  },

  async byName(db: Db, tenantId: string, name: string): Promise<Blueprint | undefined> {
    const row = await db.selectFrom('blueprints').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
    return row && toBlueprint(row);
  },

  async list(db: Db, tenantId: string, page: PageRequest): Promise<Page<Blueprint>> {
    let q = db.selectFrom('blueprints').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(page.limit + 1);
    if (page.cursor) q = q.where('id', '>', page.cursor);
    return toPage(await q.execute(), page.limit, toBlueprint);
  },

  async update(db: Db, b: Blueprint): Promise<void> {
    const { id: _id, tenant_id: _t, name: _n, created_at: _c, ...rest } = toRow(b);
    await db.updateTable('blueprints').set(rest).where('tenant_id', '=', b.tenantId).where('id', '=', b.id).execute();
  },

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('blueprint_credentials').where('tenant_id', '=', tenantId).where('blueprint_id', '=', id).execute();
    await db.deleteFrom('blueprints').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** Agents created from the blueprint that are not deleted. */
  async countLiveAgents(db: Db, tenantId: string, id: string): Promise<number> {
    const row = await db
      .selectFrom('principals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('blueprint_id', '=', id)
      .where('status', '!=', 'deleted')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async liveAgentIds(db: Db, tenantId: string, id: string): Promise<string[]> {
    const rows = await db.selectFrom('principals').select('id').where('tenant_id', '=', tenantId).where('blueprint_id', '=', id).where('status', '!=', 'deleted').orderBy('id').execute();
    return rows.map((r) => r.id);
  },

  async insertCredential(db: Db, c: Credential): Promise<void> {
    await db
      .insertInto('blueprint_credentials')
      .values({ ...credentialRow(c), blueprint_id: c.principalId })
      .execute();
  },

  async credentials(db: Db, tenantId: string, blueprintId: string): Promise<Credential[]> {
    const rows = await db.selectFrom('blueprint_credentials').selectAll().where('tenant_id', '=', tenantId).where('blueprint_id', '=', blueprintId).orderBy('id').execute();
    return rows.map(toCredential);
  },

  async getCredential(db: Db, tenantId: string, blueprintId: string, id: string): Promise<Credential | undefined> {
    const row = await db
      .selectFrom('blueprint_credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('blueprint_id', '=', blueprintId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toCredential(row);
  },

  async deleteCredential(db: Db, tenantId: string, blueprintId: string, id: string): Promise<void> {
    await db.deleteFrom('blueprint_credentials').where('tenant_id', '=', tenantId).where('blueprint_id', '=', blueprintId).where('id', '=', id).execute();
  },

  async touchCredential(db: Db, tenantId: string, id: string, at: number): Promise<void> {
    await db.updateTable('blueprint_credentials').set({ last_used_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};
