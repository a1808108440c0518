import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { eventHash } from '../../src/audit/chain.js';
import type { ExportLine } from '../../src/audit/export-format.js';
import type { CheckpointBody } from '../../src/audit/model.js';
import { AuditSealer } from '../../src/audit/sealer.js';
import { type AuditKey, loadAuditKey } from '../../src/audit/signing-key.js';
import { toAuditRecord } from '../../src/audit/store.js';
import { verifyDatabase } from '../../src/audit/verify-source.js';
import type { Finding, VerifyReport } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { newId } from '../../src/crypto/ids.js';
import { Envelope } from '../../src/crypto/envelope.js';
import type { Connection, Db } from '../../src/db/connect.js';
import type { AuditEventsTable } from '../../src/db/schema.js';
import { DEFAULT_TENANT_SETTINGS } from '../../src/tenants/model.js';
import { tenantStore } from '../../src/tenants/store.js';

export const DAY = 86_400_000;

/** A movable clock shared by a writer and its sealer. */
export interface Clock {
  now(): number;
  advance(ms: number): void;
}

export function clockAt(start = Date.now()): Clock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

/** One process's audit trail (writer + sealer) writing events for one tenant, driven by a test. */
export interface Trail {
  db: Db;
  tenantId: string;
  writerId: string;
  clock: Clock;
  key: AuditKey;
  writer: AuditWriter;
  sealer: AuditSealer;
  /** Writes `n` events for the tenant and waits until they are committed. */
  write(n: number): Promise<void>;
  /** Writes a checkpoint; fails when there was nothing to seal. */
  seal(): Promise<CheckpointBody>;
  /** The writer's chain for the tenant. */
  chainId(): Promise<string>;
  event(seq: number): Promise<AuditEventsTable>;
  /** Verifies the whole database as of the trail's clock. */
  verify(options?: { tenant?: string }): Promise<VerifyReport>;
}

const silent = pino({ level: 'silent' });
/** One master key for every trail of this test process, so trails sharing a database share its audit key. */
const ENVELOPE = new Envelope(randomBytes(32));

export async function newTrail(conn: Connection, options: { retentionDays?: number; clock?: Clock; tenantId?: string } = {}): Promise<Trail> {
  const db = conn.db;
  const clock = options.clock ?? clockAt();
  let tenantId = options.tenantId;
  if (!tenantId) {
    tenantId = newId();
    await tenantStore.insert(db, {
      id: tenantId,
      name: `t-${tenantId.slice(-12)}`,
      displayName: null,
      status: 'active',
      settings: { ...DEFAULT_TENANT_SETTINGS, auditRetentionDays: options.retentionDays ?? DEFAULT_TENANT_SETTINGS.auditRetentionDays },
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
  }
  const writerId = newId();
  const key = await loadAuditKey(db, ENVELOPE, clock.now());
  const writer = new AuditWriter({ db, dbKind: conn.kind, log: silent, clock: clock.now, writerId });
  const sealer = new AuditSealer({ db, log: silent, clock: clock.now, writerId, key });
  let n = 0;
  const tid = tenantId;
  const trail: Trail = {
    db,
    tenantId: tid,
    writerId,
    clock,
    key,
    writer,
    sealer,
    async write(count) {
      await Promise.all(
        Array.from({ length: count }, () => {
          n += 1;
          return writer.record({ tenantId: tid, type: 'token.issued', outcome: 'success', actorId: newId(), clientId: newId(), jti: newId(), source: { ip: '192.0.2.1' }, data: { n, roles: ['reader'] } });
        }),
      );
      await writer.drain();
    },
    async seal() {
      const body = await sealer.seal();
      assert.ok(body, 'expected a checkpoint');
      return body;
    },
    async chainId() {
      const row = await db.selectFrom('audit_chains').select('id').where('writer_id', '=', writerId).where('tenant_id', '=', tid).executeTakeFirstOrThrow();
      return row.id;
    },
    async event(seq) {
      return db.selectFrom('audit_events').selectAll().where('chain_id', '=', await trail.chainId()).where('seq', '=', seq).executeTakeFirstOrThrow();
    },
    verify(opts = {}) {
      return verifyDatabase(db, { now: clock.now(), tenant: opts.tenant });
    },
  };
  return trail;
}

/**
 * The standard trail of the tamper tests: seq 1–10 sealed by K1, 11–20 by K2, 21–25 by K3, and
 * 26–28 not yet sealed.
 */
export async function standardTrail(conn: Connection, options: { retentionDays?: number; clock?: Clock } = {}): Promise<{ trail: Trail; chain: string; checkpoints: CheckpointBody[] }> {
  const trail = await newTrail(conn, options);
  const checkpoints: CheckpointBody[] = [];
  for (const n of [10, 10, 5]) {
    await trail.write(n);
    trail.clock.advance(1000);
    checkpoints.push(await trail.seal());
    trail.clock.advance(1000);
  }
  await trail.write(3);
  return { trail, chain: await trail.chainId(), checkpoints };
}

/** Replaces a stored event's hash with the hash of its (edited) content, as a careful forger would. */
export function rehash(row: AuditEventsTable): AuditEventsTable {
  const { hash: _old, ...content } = row;
  return { ...row, hash: eventHash(content) };
}

/** A new event row for a chain, hashed correctly: what a forger with database access can write. */
export function forgedRow(over: Partial<AuditEventsTable> & Pick<AuditEventsTable, 'tenant_id' | 'chain_id' | 'seq' | 'prev_hash' | 'time'>): AuditEventsTable {
  const content: Omit<AuditEventsTable, 'hash'> = {
    id: newId(),
    type: 'token.issued',
    outcome: 'success',
    actor_id: newId(),
    actor_kind: 'service',
    subject_id: null,
    client_id: null,
    credential_id: null,
    credential_type: null,
    resource: 'api://forged',
    jti: newId(),
    target_type: null,
    target_id: null,
    source_ip: '198.51.100.66',
    user_agent: null,
    request_id: null,
    data: JSON.stringify({ forged: true }),
    ...over,
  };
  return { ...content, hash: eventHash(content) };
}

/** Findings that fail the trail, reduced to what tests compare. */
export function failing(report: VerifyReport): Partial<Finding>[] {
  return report.findings.filter((f) => f.kind !== 'unsealed').map(brief);
}

export function unsealed(report: VerifyReport): Partial<Finding>[] {
  return report.findings.filter((f) => f.kind === 'unsealed').map(brief);
}

export function brief(f: Finding): Partial<Finding> {
  const out: Partial<Finding> = { kind: f.kind };
  if (f.seq !== undefined) out.seq = f.seq;
  if (f.toSeq !== undefined) out.toSeq = f.toSeq;
  if (f.count !== undefined) out.count = f.count;
  if (f.kind.startsWith('checkpoint') && f.id !== undefined) out.id = f.id;
  return out;
}

/** Writes an NDJSON export of a tenant (export-format.ts) from the database, as `signet audit export` would. */
export async function writeExport(db: Db, tenantId: string, file: string, options: { since?: number; until?: number; exportedAt: number }): Promise<ExportLine[]> {
  let events = db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId);
  if (options.since !== undefined) events = events.where('time', '>=', options.since);
  if (options.until !== undefined) events = events.where('time', '<', options.until);
  const rows = await events.orderBy('id').execute();
  const keys = await db.selectFrom('audit_keys').select('public_jwk').execute();
  const checkpoints = await db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
  const lines: ExportLine[] = [
    { kind: 'export', version: 1, tenant: tenantId, since: options.since ?? null, until: options.until ?? null, exportedAt: options.exportedAt, publicKeys: keys.map((k) => JSON.parse(k.public_jwk)) },
    ...rows.map((r) => ({ kind: 'event' as const, ...toAuditRecord(r) })),
    ...checkpoints.map((c) => ({ kind: 'checkpoint' as const, id: c.id, writer: c.writer_id, time: c.time, body: c.body, hash: c.hash, signature: c.signature })),
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return lines;
}
