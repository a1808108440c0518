import type BetterSqlite3 from 'better-sqlite3';
import type { Db, DbKind } from '../db/connect.js';
import type { WriteGate } from '../db/write-gate.js';
import { SqliteAuditAppender } from './sqlite-append.js';
import type { AuditEventsTable } from '../db/schema.js';
import { newId } from '../crypto/ids.js';
import type { Logger } from '../logger.js';
import { eventHash, GENESIS } from './chain.js';
import { indexChainRange } from './indexer.js';
import { type AuditEventInput, type DirectoryEvent, directoryEventInput } from './model.js';
import { auditChainStore } from './store.js';

export interface AuditWriterOptions {
  db: Db;
  dbKind: DbKind;
  log: Logger;
  clock: () => number;
  /** Identifies this writer (one per process); each writer extends chains of its own. */
  writerId: string;
  /** Most events committed in one transaction. */
  maxBatch?: number;
  /** Benchmarks only (SIGNET_AUDIT_WRITES=off-for-benchmarks): group-committed events are dropped. */
  discard?: boolean;
  /** The embedded database's handle: appends then use prepared statements (see SqliteAuditAppender). */
  sqlite?: BetterSqlite3.Database | undefined;
  /** Taken around each group commit on SQLite, so a WAL restart is waited for asynchronously (db/write-gate.ts). */
  writeGate?: WriteGate | undefined;
}

interface Pending {
  event: AuditEventInput;
  time: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The writer could not make an event durable; nothing that depended on it may be sent. */
export class AuditUnavailable extends Error {
  override name = 'AuditUnavailable';
}

const MAX_TEXT = 1000;
const clip = (value: string | null | undefined): string | null => (value === undefined || value === null ? null : value.slice(0, MAX_TEXT));

/**
 * Writes audit events into per-tenant hash chains.
 *
 * `record` is group commit: events queue up while a commit is in flight and the next commit takes
 * them all, so the cost of a durable write is shared; each promise resolves only after its event
 * is committed, and rejects (AuditUnavailable) when it could not be — callers then refuse to act.
 * `recordInTransaction` writes directory changes inside the change's own transaction.
 * Chain heads are read and advanced inside the writing transaction (locked on PostgreSQL), so a
 * rolled-back transaction never leaves a gap and concurrent transactions never fork a chain.
 */
export class AuditWriter {
  private readonly queue: Pending[] = [];
  private readonly chains = new Map<string, string>();
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly listeners = new Set<(events: number) => void>();

  private readonly appender: SqliteAuditAppender | undefined;

  constructor(private readonly opts: AuditWriterOptions) {
    this.maxBatch = opts.maxBatch ?? 2000;
    this.appender = opts.sqlite ? new SqliteAuditAppender(opts.sqlite) : undefined;
  }

  get writerId(): string {
    return this.opts.writerId;
  }

  /**
   * Whether the principal and credential lookups are left to an `AuditIndexer` (SQLite with the
   * prepared appender) rather than written in each commit (PostgreSQL, or Kysely alone).
   */
  get defersLookups(): boolean {
    return this.appender !== undefined;
  }

  /** The chains this writer has extended or created (one per tenant). */
  chainIds(): string[] {
    return [...this.chains.values()];
  }

  /** Resolves once the event is durable (group-committed with whatever else is waiting). */
  record(event: AuditEventInput): Promise<void> {
    if (this.opts.discard) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ event, time: this.opts.clock(), resolve, reject });
      this.schedule();
    });
  }

  /** Writes directory changes in the caller's transaction: no change without its event, no event without its change. */
  async recordInTransaction(trx: Db, events: (AuditEventInput | DirectoryEvent)[]): Promise<void> {
    const time = this.opts.clock();
    await this.append(trx, events.map((e) => ({ event: 'outcome' in e ? e : directoryEventInput(e), time })));
  }

  /**
   * Calls `listener` after each group commit with the number of events committed (sealing cadence,
   * live streams). Directory changes commit with their own transactions and are not reported here.
   */
  onCommit(listener: (events: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits until everything queued so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) this.flushNow();
      await this.flushing?.catch(() => undefined);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) this.flushNow();
    });
  }

  private flushNow(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.flushing = this.commit(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const { appender } = this;
      if (appender) await this.gated(() => this.opts.db.connection().execute((conn) => appender.transaction(() => this.append(conn, batch))));
      else await this.opts.db.transaction().execute((trx) => this.append(trx, batch));
      for (const p of batch) p.resolve();
      for (const listener of this.listeners) listener(batch.length);
    } catch (cause) {
      this.opts.log.error({ err: cause, events: batch.length }, 'audit write failed; refusing the requests that depend on it');
      const error = new AuditUnavailable('audit store unavailable', { cause });
      for (const p of batch) p.reject(error);
    }
  }

  /** Runs a group commit holding the write gate, when there is one. */
  private async gated(commit: () => Promise<void>): Promise<void> {
    const gate = this.opts.writeGate;
    const held = (await gate?.acquire()) ?? false;
    try {
      await commit();
    } finally {
      if (held) gate?.release();
    }
  }

  /** Appends events to their tenants' chains inside `trx`. */
  private async append(trx: Db, items: { event: AuditEventInput; time: number }[]): Promise<void> {
    const byTenant = new Map<string, { event: AuditEventInput; time: number }[]>();
    for (const item of items) {
      const list = byTenant.get(item.event.tenantId);
      if (list) list.push(item);
      else byTenant.set(item.event.tenantId, [item]);
    }

    const rows: AuditEventsTable[] = [];
    const ranges: { chainId: string; fromSeq: number; toSeq: number }[] = [];
    // Lock chains in a fixed order so concurrent transactions cannot deadlock.
    for (const tenantId of [...byTenant.keys()].sort()) {
      const chainId = this.chainFor(tenantId);
      const head = await this.lockOrCreate(trx, chainId, tenantId);
      let { seq, hash } = head;
      for (const { event, time } of byTenant.get(tenantId) ?? []) {
        seq += 1;
        const row = this.toRow(event, chainId, seq, hash, time);
        row.hash = hash = eventHash(row);
        rows.push(row);
      }
      ranges.push({ chainId, fromSeq: head.seq, toSeq: seq });
      if (this.appender) this.appender.setHead(chainId, seq, hash);
      else await auditChainStore.setHead(trx, chainId, seq, hash, true);
    }
    if (this.appender) {
      // SQLite: the principal and credential lookups are built behind the commit (audit/indexer.ts).
      this.appender.append(rows);
      return;
    }
    await auditChainStore.insertEvents(trx, rows);
    for (const r of ranges) await indexChainRange(trx, this.opts.dbKind, r.chainId, r.fromSeq, r.toSeq);
  }

  /** This writer's chain for a tenant. */
  private chainFor(tenantId: string): string {
    let id = this.chains.get(tenantId);
    if (!id) {
      id = newId();
      this.chains.set(tenantId, id);
    }
    return id;
  }

  /** Locks the chain's head, creating the chain in this transaction on first use (a rollback undoes both). */
  private async lockOrCreate(trx: Db, chainId: string, tenantId: string): Promise<{ seq: number; hash: string }> {
    const head = this.appender ? this.appender.head(chainId) : await auditChainStore.lockHead(trx, this.opts.dbKind, chainId);
    if (head) return head;
    await auditChainStore.createChain(trx, { id: chainId, tenantId, writerId: this.opts.writerId, createdAt: this.opts.clock() });
    return { seq: 0, hash: GENESIS };
  }

  /** The stored row; `hash` is filled in once the row is complete. */
  private toRow(e: AuditEventInput, chainId: string, seq: number, prevHash: string, time: number): AuditEventsTable {
    const data = e.delegation && e.delegation.length > 0 ? { ...(e.data ?? {}), delegation: e.delegation } : (e.data ?? {});
    return {
      id: newId(),
      tenant_id: e.tenantId,
      chain_id: chainId,
      seq,
      prev_hash: prevHash,
      hash: '',
      time,
      type: e.type,
      outcome: e.outcome,
      actor_id: e.actorId ?? null,
      actor_kind: e.actorKind ?? null,
      subject_id: e.subjectId ?? null,
      client_id: e.clientId ?? null,
      credential_id: e.credentialId ?? null,
      credential_type: e.credentialType ?? null,
      resource: clip(e.resource),
      jti: e.jti ?? null,
      target_type: e.target?.type ?? null,
      target_id: e.target?.id ?? null,
      source_ip: clip(e.source?.ip),
      user_agent: clip(e.source?.userAgent),
      request_id: clip(e.source?.requestId),
      data: JSON.stringify(data),
    };
  }
}
