import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { type Page, type PageRequest, toPage } from '../db/page.js';
import type { NodeJoinTokensTable, NodeKeysTable, NodesTable } from '../db/schema.js';
import type { JoinToken, Node, NodeKey, NodeStatus } from './model.js';

const toNode = (r: NodesTable): Node => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  status: r.status as NodeStatus,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastSeenAt: r.last_seen_at,
});

const toKey = (r: NodeKeysTable): NodeKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  nodeId: r.node_id,
  publicJwk: parseJson<JWK>(r.public_jwk, 'node_keys.public_jwk'),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const toJoinToken = (r: NodeJoinTokensTable): JoinToken => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  digest: r.digest,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  nodeId: r.node_id,
});

/** Nodes, their keys, join tokens and identity assignments; every query scoped by tenant. */
export const nodeStore = {
  async insertJoinToken(db: Db, t: JoinToken): Promise<void> {
    await db
      .insertInto('node_join_tokens')
      .values({ id: t.id, tenant_id: t.tenantId, name: t.name, digest: t.digest, created_at: t.createdAt, expires_at: t.expiresAt, used_at: t.usedAt, node_id: t.nodeId })
      .execute();
  },

  async joinTokenByDigest(db: Db, tenantId: string, digest: string): Promise<JoinToken | undefined> {
    const row = await db.selectFrom('node_join_tokens').selectAll().where('tenant_id', '=', tenantId).where('digest', '=', digest).executeTakeFirst();
    return row && toJoinToken(row);
  },

  /** Marks an unused, unexpired join token used: true for exactly one caller (single use). */
  async consumeJoinToken(db: Db, tenantId: string, digest: string, nodeId: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('node_join_tokens')
      .set({ used_at: now, node_id: nodeId })
      .where('tenant_id', '=', tenantId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  },

  async insertNode(db: Db, n: Node): Promise<void> {
    await db
      .insertInto('nodes')
      .values({ id: n.id, tenant_id: n.tenantId, name: n.name, status: n.status, created_at: n.createdAt, updated_at: n.updatedAt, last_seen_at: n.lastSeenAt })
      .execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<Node | undefined> {
    const row = await db.selectFrom('nodes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toNode(row);
  },

  async list(db: Db, tenantId: string, page: PageRequest): Promise<Page<Node>> {
    const after = page.cursor;
    let query = db.selectFrom('nodes').selectAll().where('tenant_id', '=', tenantId).where('status', '!=', 'deleted');
    if (after) query = query.where('id', '>', after);
    const rows = await query.orderBy('id').limit(page.limit + 1).execute();
    return toPage(rows, page.limit, toNode);
  },

  async setStatus(db: Db, tenantId: string, id: string, status: NodeStatus, now: number): Promise<void> {
    await db.updateTable('nodes').set({ status, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async touch(db: Db, tenantId: string, id: string, now: number): Promise<void> {
    await db.updateTable('nodes').set({ last_seen_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async insertKey(db: Db, k: NodeKey): Promise<void> {
    await db
      .insertInto('node_keys')
      .values({ id: k.id, tenant_id: k.tenantId, node_id: k.nodeId, public_jwk: JSON.stringify(k.publicJwk), created_at: k.createdAt, expires_at: k.expiresAt })
      .execute();
  },

  async key(db: Db, tenantId: string, kid: string): Promise<NodeKey | undefined> {
    const row = await db.selectFrom('node_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', kid).executeTakeFirst();
    return row && toKey(row);
  },

  async liveKeys(db: Db, tenantId: string, nodeId: string, now: number): Promise<NodeKey[]> {
    const rows = await db
      .selectFrom('node_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('node_id', '=', nodeId)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toKey);
  },

  async shortenKey(db: Db, tenantId: string, kid: string, expiresAt: number): Promise<void> {
    await db.updateTable('node_keys').set({ expires_at: expiresAt }).where('tenant_id', '=', tenantId).where('id', '=', kid).where('expires_at', '>', expiresAt).execute();
  },

  async deleteKeys(db: Db, tenantId: string, nodeId: string): Promise<void> {
    await db.deleteFrom('node_keys').where('tenant_id', '=', tenantId).where('node_id', '=', nodeId).execute();
  },

  async deleteExpiredKeys(db: Db, now: number): Promise<number> {
    const result = await db.deleteFrom('node_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async assign(db: Db, tenantId: string, nodeId: string, principalId: string, now: number): Promise<void> {
    await db.insertInto('node_assignments').values({ tenant_id: tenantId, node_id: nodeId, principal_id: principalId, created_at: now }).execute();
  },

  /** Returns false when the identity was not assigned. */
  async unassign(db: Db, tenantId: string, nodeId: string, principalId: string): Promise<boolean> {
    const result = await db.deleteFrom('node_assignments').where('tenant_id', '=', tenantId).where('node_id', '=', nodeId).where('principal_id', '=', principalId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  async isAssigned(db: Db, tenantId: string, nodeId: string, principalId: string): Promise<boolean> {
    const row = await db
      .selectFrom('node_assignments')
      .select('principal_id')
      .where('tenant_id', '=', tenantId)
      .where('node_id', '=', nodeId)
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
    return row !== undefined;
  },

  async assigned(db: Db, tenantId: string, nodeId: string): Promise<string[]> {
    const rows = await db.selectFrom('node_assignments').select('principal_id').where('tenant_id', '=', tenantId).where('node_id', '=', nodeId).orderBy('principal_id').execute();
    return rows.map((r) => r.principal_id);
  },

  async unassignAll(db: Db, tenantId: string, column: 'node_id' | 'principal_id', id: string): Promise<void> {
    await db.deleteFrom('node_assignments').where('tenant_id', '=', tenantId).where(column, '=', id).execute();
  },
};
