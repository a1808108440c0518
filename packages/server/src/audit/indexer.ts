import { type RawBuilder, sql } from 'kysely';
import type { Db, DbKind } from '../db/connect.js';
import type { Logger } from '../logger.js';
import { auditChainStore, type ChainScope } from './store.js';

/**
 * Writes the principal and credential lookups of a chain's events `fromSeq < seq ≤ toSeq`, from the
 * stored rows, in the database: every principal an event names (actor, subject, client, a principal
 * target, each delegation hop in `data.delegation`) and its credential. Rows already there are
 * skipped, so indexing a range twice (after a crash, or by two processes) only repeats work.
 */
export async function indexChainRange(db: Db, kind: DbKind, chainId: string, fromSeq: number, toSeq: number): Promise<void> {
  const { principals, credentials } = chainRangeLookups(kind, chainId, fromSeq, toSeq);
  // (SQLite reads ON CONFLICT after INSERT … SELECT as an upsert only when the SELECT ends in a WHERE, as both do.)
  await sql`INSERT INTO audit_event_principals (tenant_id, principal_id, event_id) ${principals} ON CONFLICT DO NOTHING`.execute(db);
  await sql`INSERT INTO audit_event_credentials (tenant_id, credential_id, event_id) ${credentials} ON CONFLICT DO NOTHING`.execute(db);
}

/**
 * The lookup rows of a chain's events `fromSeq < seq ≤ toSeq`, as two queries of
 * `(tenant_id, principal or credential id, event_id)`: the one definition the indexer inserts and
 * retention deletes by (so retention finds an event's rows by their key, not by scanning a tenant's).
 */
export function chainRangeLookups(kind: DbKind, chainId: string, fromSeq: number, toSeq: number): { principals: RawBuilder<unknown>; credentials: RawBuilder<unknown> } {
  // The range is read once into a small temporary result (the refs and whether `data` names a delegation).
  const range = sql`WITH r AS MATERIALIZED (
      SELECT tenant_id, id, actor_id, subject_id, client_id, CASE WHEN target_type = 'principal' THEN target_id END AS target_id,
             CASE WHEN data LIKE '%"delegation"%' THEN data END AS hops
      FROM audit_events WHERE chain_id = ${chainId} AND seq > ${fromSeq} AND seq <= ${toSeq})`;
  const hops =
    kind === 'sqlite'
      ? sql`SELECT r.tenant_id, j.value, r.id FROM r, json_each(r.hops, '$.delegation') j
            WHERE r.hops IS NOT NULL AND json_type(r.hops, '$.delegation') = 'array' AND j.type = 'text'`
      : sql`SELECT r.tenant_id, j.value #>> '{}', r.id FROM r, jsonb_array_elements(r.hops::jsonb -> 'delegation') j(value)
            WHERE r.hops IS NOT NULL AND jsonb_typeof(r.hops::jsonb -> 'delegation') = 'array' AND jsonb_typeof(j.value) = 'string'`;
  return {
    principals: sql`${range}
            SELECT tenant_id, actor_id, id FROM r WHERE actor_id IS NOT NULL
            UNION ALL SELECT tenant_id, subject_id, id FROM r WHERE subject_id IS NOT NULL
            UNION ALL SELECT tenant_id, client_id, id FROM r WHERE client_id IS NOT NULL AND client_id IS DISTINCT FROM actor_id
            UNION ALL SELECT tenant_id, target_id, id FROM r WHERE target_id IS NOT NULL
            UNION ALL ${hops}`,
    credentials: sql`SELECT tenant_id, credential_id, id FROM audit_events
            WHERE chain_id = ${chainId} AND seq > ${fromSeq} AND seq <= ${toSeq} AND credential_id IS NOT NULL`,
  };
}

/**
 * Most events one pass indexes (one transaction). A pass runs on the event loop and blocks it
 * while it runs: at ≈ 6 µs per event on the reference machine this bounds a stall to ≈ 12 ms.
 */
export const PASS_EVENTS = 2048;

/**
 * Brings the lookups up to date with every committed event (of one tenant, some chains, or all):
 * passes of at most `PASS_EVENTS` until none is left, letting the event loop run between them.
 * Queries that use the lookups call this for their tenant first, so a filtered read sees every
 * committed event. (On PostgreSQL the writer indexes in its own commit and there is nothing to do.)
 * Returns how many events it indexed.
 */
export async function indexPendingAuditEvents(db: Db, kind: DbKind, scope: ChainScope = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const indexed = await indexPass(db, kind, scope);
    total += indexed;
    if (indexed < PASS_EVENTS) return total;
    // SQLite's calls are synchronous: without this the passes would run back to back, blocking requests.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * One pass: indexes the scope's pending events chain by chain from each chain's `indexed_seq`, in
 * one transaction, at most `maxEvents` of them; returns how many it indexed.
 */
export async function indexPass(db: Db, kind: DbKind, opts: ChainScope & { maxEvents?: number } = {}): Promise<number> {
  const maxEvents = opts.maxEvents ?? PASS_EVENTS;
  // Usually nothing is pending: answer that without opening a transaction (a read path and a 200 ms timer call this).
  if ((await auditChainStore.unindexedChains(db, opts)).length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    let total = 0;
    for (const chain of await auditChainStore.unindexedChains(trx, opts)) {
      const to = Math.min(chain.headSeq, chain.indexedSeq + (maxEvents - total));
      await indexChainRange(trx, kind, chain.id, chain.indexedSeq, to);
      await auditChainStore.setIndexed(trx, chain.id, to);
      total += to - chain.indexedSeq;
      if (total >= maxEvents) break;
    }
    return total;
  });
}

/** Lookup passes on SQLite: after this many committed events, or this often. */
export const AUDIT_INDEX_CADENCE = { everyEvents: 8192, intervalMs: 200 } as const;

export interface AuditIndexerOptions {
  db: Db;
  dbKind: DbKind;
  log: Logger;
  /** Index as soon as this many events were committed since the last pass. */
  everyEvents: number;
  /** Index at least this often. */
  intervalMs: number;
  /** The chains this process writes: after a first pass over every chain, passes look only at these. */
  ownChains: () => readonly string[];
}

/**
 * Runs `indexPendingAuditEvents` behind the writer on SQLite, where a commit writes every page it
 * touches: a lookup keyed by principal or credential touches a different page for nearly every
 * event, so writing it in each small group commit cost more than the events themselves. A pass
 * after `everyEvents` committed events or every `intervalMs` writes each page once for many events.
 */
export class AuditIndexer {
  private running: Promise<void> = Promise.resolve();
  private queued = false;
  private since = 0;
  /** The first pass also indexes what other (perhaps crashed) processes left; later ones only this one's chains. */
  private everything = true;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: AuditIndexerOptions) {
    this.timer = setInterval(() => void this.kick(), opts.intervalMs);
    this.timer.unref();
  }

  /** Counts committed events (the writer's onCommit). */
  committed(events: number): void {
    this.since += events;
    if (this.since >= this.opts.everyEvents) void this.kick();
  }

  /** Runs a pass after the current one (at most one waits). */
  kick(): Promise<void> {
    if (this.queued) return this.running;
    this.queued = true;
    this.running = this.running.then(async () => {
      this.queued = false;
      this.since = 0;
      try {
        await indexPendingAuditEvents(this.opts.db, this.opts.dbKind, this.everything ? {} : { chainIds: this.opts.ownChains() });
        this.everything = false;
      } catch (error) {
        this.opts.log.error({ err: error }, 'audit indexing failed; filtered audit reads index what they need themselves');
      }
    });
    return this.running;
  }

  /** Stops the cadence after a last pass. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kick();
  }
}
