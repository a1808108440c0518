import type { Db, DbKind } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { AuditCheckpointsTable, AuditEventsTable } from '../db/schema.js';
import { GENESIS } from './chain.js';
import type { AuditOutcome, AuditRecord } from './model.js';

/** Which chains an indexing pass looks at: a tenant's, a list, or (neither given) all of them. */
export interface ChainScope {
  tenantId?: string | undefined;
  chainIds?: readonly string[] | undefined;
}

/** Rows per INSERT: keeps every statement under SQLite's bound-parameter limit. */
const INSERT_CHUNK = 400;

export function toAuditRecord(r: AuditEventsTable): AuditRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    chainId: r.chain_id,
    seq: r.seq,
    prevHash: r.prev_hash,
    hash: r.hash,
    time: r.time,
    type: r.type,
    outcome: r.outcome as AuditOutcome,
    actorId: r.actor_id,
    actorKind: r.actor_kind,
    subjectId: r.subject_id,
    clientId: r.client_id,
    credentialId: r.credential_id,
    credentialType: r.credential_type,
    resource: r.resource,
    jti: r.jti,
    targetType: r.target_type,
    targetId: r.target_id,
    sourceIp: r.source_ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    data: parseJson<Record<string, unknown>>(r.data, 'audit_events.data'),
  };
}

/**
 * Append-only chain storage: chains, events, checkpoints. Keyed by chain (each chain belongs to one
 * tenant); reads for a tenant go through `auditStore`.
 */
export const auditChainStore = {
  async createChain(db: Db, chain: { id: string; tenantId: string; writerId: string; createdAt: number }): Promise<void> {
    await db
      .insertInto('audit_chains')
      .values({ id: chain.id, tenant_id: chain.tenantId, writer_id: chain.writerId, created_at: chain.createdAt, head_seq: 0, head_hash: GENESIS, indexed_seq: 0 })
      .execute();
  },

  /**
   * Reads a chain's head inside the caller's transaction, locking it on PostgreSQL so that two
   * transactions can never extend the same chain at once. (SQLite runs one write transaction at a time.)
   */
  async lockHead(db: Db, kind: DbKind, chainId: string): Promise<{ seq: number; hash: string } | undefined> {
    let query = db.selectFrom('audit_chains').select(['head_seq', 'head_hash']).where('id', '=', chainId);
    if (kind === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && { seq: row.head_seq, hash: row.head_hash };
  },

  /** Advances a chain's head; `indexed` when the events' lookups were written in the same transaction. */
  async setHead(db: Db, chainId: string, seq: number, hash: string, indexed: boolean): Promise<void> {
    await db
      .updateTable('audit_chains')
      .set(indexed ? { head_seq: seq, head_hash: hash, indexed_seq: seq } : { head_seq: seq, head_hash: hash })
      .where('id', '=', chainId)
      .execute();
  },

  async insertEvents(db: Db, rows: AuditEventsTable[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await db.insertInto('audit_events').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  },

  /** Chains (of one tenant, or the given ones, or all) with committed events that are not in the lookups yet. */
  async unindexedChains(db: Db, scope: ChainScope = {}): Promise<{ id: string; indexedSeq: number; headSeq: number }[]> {
    if (scope.chainIds?.length === 0) return [];
    let query = db.selectFrom('audit_chains').select(['id', 'indexed_seq', 'head_seq']).whereRef('indexed_seq', '<', 'head_seq');
    if (scope.tenantId !== undefined) query = query.where('tenant_id', '=', scope.tenantId);
    if (scope.chainIds !== undefined) query = query.where('id', 'in', scope.chainIds);
    const rows = await query.orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, indexedSeq: Number(r.indexed_seq), headSeq: Number(r.head_seq) }));
  },

  async setIndexed(db: Db, chainId: string, seq: number): Promise<void> {
    await db.updateTable('audit_chains').set({ indexed_seq: seq }).where('id', '=', chainId).where('indexed_seq', '<', seq).execute();
  },

  async insertCheckpoint(db: Db, row: AuditCheckpointsTable): Promise<void> {
    await db.insertInto('audit_checkpoints').values(row).execute();
  },

  async latestCheckpoint(db: Db): Promise<AuditCheckpointsTable | undefined> {
    return db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
  },

};

/** Tenant-scoped reads of the audit trail. */
export const auditStore = {
  /** Newest first. */
  async list(db: Db, tenantId: string, limit: number): Promise<AuditRecord[]> {
    const rows = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toAuditRecord);
  },
};
