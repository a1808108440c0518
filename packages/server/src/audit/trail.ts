import type BetterSqlite3 from 'better-sqlite3';
import type { Envelope } from '../crypto/envelope.js';
import type { Db, DbKind } from '../db/connect.js';
import type { WriteGate } from '../db/write-gate.js';
import { newId } from '../crypto/ids.js';
import type { Logger } from '../logger.js';
import { AUDIT_INDEX_CADENCE, AuditIndexer } from './indexer.js';
import { AuditSealer } from './sealer.js';
import { type AuditKey, loadAuditKey } from './signing-key.js';
import { AuditWriter } from './writer.js';

export interface AuditTrailOptions {
  db: Db;
  dbKind: DbKind;
  sqlite?: BetterSqlite3.Database | undefined;
  /** The checkpointing thread's write gate (SQLite file databases). */
  writeGate?: WriteGate | undefined;
  log: Logger;
  clock: () => number;
  envelope: Envelope;
  /** Benchmarks only: drop group-committed events. */
  discard?: boolean;
  /** Seal at least this often when there are new events. */
  sealIntervalMs: number;
  /** Seal as soon as this many events were group-committed since the last seal. */
  sealEveryEvents: number;
}

export interface AuditTrail {
  writer: AuditWriter;
  sealer: AuditSealer;
  key: AuditKey;
  /** Commits what is queued, writes a last checkpoint and stops the cadence. */
  stop(): Promise<void>;
}

/** The writer, its audit key, the sealing cadence and the lookup indexer of one process. */
export async function startAuditTrail(opts: AuditTrailOptions): Promise<AuditTrail> {
  const writerId = newId();
  const key = await loadAuditKey(opts.db, opts.envelope, opts.clock());
  const writer = new AuditWriter({ db: opts.db, dbKind: opts.dbKind, sqlite: opts.sqlite, writeGate: opts.writeGate, discard: opts.discard, log: opts.log, clock: opts.clock, writerId });
  const sealer = new AuditSealer({ db: opts.db, log: opts.log, clock: opts.clock, writerId, key });

  let sealing: Promise<unknown> = Promise.resolve();
  let sinceSeal = 0;
  const seal = () => {
    sinceSeal = 0;
    sealing = sealing.then(() => sealer.seal()).catch((error: unknown) => opts.log.error({ err: error }, 'audit checkpoint failed'));
    return sealing;
  };
  // On SQLite the writer leaves the principal and credential lookups to an indexer behind the commit.
  const indexer = writer.defersLookups ? new AuditIndexer({ db: opts.db, dbKind: opts.dbKind, log: opts.log, ...AUDIT_INDEX_CADENCE, ownChains: () => writer.chainIds() }) : undefined;
  const unsubscribe = writer.onCommit((events) => {
    sinceSeal += events;
    if (sinceSeal >= opts.sealEveryEvents) void seal();
    indexer?.committed(events);
  });
  const timer = setInterval(() => void seal(), opts.sealIntervalMs);
  timer.unref();
  await seal();

  return {
    writer,
    sealer,
    key,
    async stop() {
      clearInterval(timer);
      unsubscribe();
      await writer.drain();
      await indexer?.stop();
      await seal();
    },
  };
}
