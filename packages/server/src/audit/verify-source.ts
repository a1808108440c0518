/**
 * Feeds the verifier (`verify.ts`) from the database or from an NDJSON export
 * (`export-format.ts`). Neither source holds a whole chain in memory on an intact trail.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { tenantStore } from '../tenants/store.js';
import type { ExportHeader } from './export-format.js';
import { retentionDays } from './retention.js';
import type { AuditRecord } from './model.js';
import { AuditVerifier, chainRecordOf, chainRecordOfRow, type CheckpointRecord, type ChainVerifier, type VerifyReport } from './verify.js';

/** The input could not be read as an audit trail (missing file, malformed line, unknown tenant). */
export class VerifySourceError extends Error {
  override name = 'VerifySourceError';
}

export interface SourceOptions {
  /** Tolerance between event and checkpoint times (default `DEFAULT_SKEW_MS`). */
  skewMs?: number | undefined;
  maxFindings?: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Database

export interface DatabaseSourceOptions extends SourceOptions {
  /** A tenant id or name; all tenants when absent. */
  tenant?: string | undefined;
  now: number;
  /** Events read per query. */
  pageSize?: number | undefined;
}

async function* checkpointRows(db: Db, pageSize: number): AsyncGenerator<CheckpointRecord> {
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('audit_checkpoints').selectAll().where('id', '>', after).orderBy('id').limit(pageSize).execute();
    for (const r of rows) yield { id: r.id, writer: r.writer_id, time: r.time, body: r.body, hash: r.hash, signature: r.signature };
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = last.id;
  }
}

/**
 * Verifies the trail in the database, of one tenant or of all. Read order matters on a live
 * database: checkpoints, then chain heads, then events, so that everything a checkpoint or head
 * names was committed before it is looked for.
 */
export async function verifyDatabase(db: Db, opts: DatabaseSourceOptions): Promise<VerifyReport> {
  const pageSize = opts.pageSize ?? 5000;
  let tenantId: string | undefined;
  if (opts.tenant !== undefined) {
    const tenant = (await tenantStore.byId(db, opts.tenant)) ?? (await tenantStore.byName(db, opts.tenant));
    if (!tenant) throw new VerifySourceError(`no tenant "${opts.tenant}"`);
    tenantId = tenant.id;
  }
  const keys = await db.selectFrom('audit_keys').select('public_jwk').orderBy('created_at').orderBy('id').execute();
  const verifier = await AuditVerifier.create({
    checkpoints: checkpointRows(db, 1000),
    publicKeys: keys.map((k) => parseJson<JWK>(k.public_jwk, 'audit_keys.public_jwk')),
    retentionDays: await retentionDays(db),
    now: opts.now,
    tenants: tenantId === undefined ? undefined : [tenantId],
    skewMs: opts.skewMs,
    maxFindings: opts.maxFindings,
  });

  let chains = db.selectFrom('audit_chains').selectAll().orderBy('id');
  if (tenantId !== undefined) chains = chains.where('tenant_id', '=', tenantId);
  for (const chain of await chains.execute()) {
    await feedChain(db, verifier.chain({ id: chain.id, tenantId: chain.tenant_id, writerId: chain.writer_id, head: { seq: chain.head_seq, hash: chain.head_hash }, registered: true }), chain.id, pageSize);
  }
  // Events in chains the store has no row for.
  let strays = db
    .selectFrom('audit_events as e')
    .leftJoin('audit_chains as c', 'c.id', 'e.chain_id')
    .where('c.id', 'is', null)
    .select(['e.chain_id', 'e.tenant_id'])
    .distinct();
  if (tenantId !== undefined) strays = strays.where('e.tenant_id', '=', tenantId);
  const seen = new Set<string>();
  for (const stray of await strays.execute()) {
    if (seen.has(stray.chain_id)) continue;
    seen.add(stray.chain_id);
    await feedChain(db, verifier.chain({ id: stray.chain_id, tenantId: stray.tenant_id, registered: false }), stray.chain_id, pageSize);
  }
  return verifier.finish();
}

async function feedChain(db: Db, cv: ChainVerifier, chainId: string, pageSize: number): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('chain_id', '=', chainId).where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const row of rows) cv.push(chainRecordOfRow(row));
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) break;
    after = last.seq;
  }
  cv.end();
}

// ---------------------------------------------------------------------------------------------
// NDJSON export

export interface FileSourceOptions extends SourceOptions {
  /** The audit public key(s) to trust: never the ones the file carries. */
  publicKeys: readonly JWK[];
  /** The tenant's retention in days, if any: a chain may then start after a sealed, old enough prefix. */
  retentionDays?: number | undefined;
}

/** Reads a JWK or a JWK set (`{"keys": [...]}`) from a file. */
export async function readPublicKeys(path: string): Promise<JWK[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new VerifySourceError(`cannot read the public key file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const keys = typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys) ? (value as { keys: unknown[] }).keys : [value];
  if (keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string')) {
    throw new VerifySourceError(`${path} is not a JWK or a JWK set`);
  }
  return keys as JWK[];
}

type Line = { kind: 'header'; header: ExportHeader } | { kind: 'event'; record: AuditRecord } | { kind: 'checkpoint'; checkpoint: CheckpointRecord };

const NULLABLE_TEXT = [
  'actorId',
  'actorKind',
  'subjectId',
  'clientId',
  'credentialId',
  'credentialType',
  'resource',
  'jti',
  'targetType',
  'targetId',
  'sourceIp',
  'userAgent',
  'requestId',
] as const;

function parseLine(text: string, n: number): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VerifySourceError(`line ${n}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new VerifySourceError(`line ${n}: not a JSON object`);
  const o = value as Record<string, unknown>;
  const bad = (what: string) => new VerifySourceError(`line ${n}: ${what}`);
  const text_ = (k: string) => typeof o[k] === 'string';
  const int = (k: string) => Number.isSafeInteger(o[k]);
  switch (o.kind) {
    case 'export':
      if (o.version !== 1) throw bad(`export version ${String(o.version)} is not supported`);
      if (!text_('tenant') || !int('exportedAt')) throw bad('the header needs tenant and exportedAt');
      for (const k of ['since', 'until'] as const) if (o[k] !== null && o[k] !== undefined && !int(k)) throw bad(`${k} must be a number or null`);
      return { kind: 'header', header: { ...(o as unknown as ExportHeader), since: (o.since as number | null | undefined) ?? null, until: (o.until as number | null | undefined) ?? null } };
    case 'event': {
      for (const k of ['id', 'tenantId', 'chainId', 'prevHash', 'hash', 'type', 'outcome'] as const) if (!text_(k)) throw bad(`event field ${k} must be a string`);
      for (const k of ['seq', 'time'] as const) if (!int(k)) throw bad(`event field ${k} must be an integer`);
      for (const k of NULLABLE_TEXT) if (o[k] !== null && !text_(k)) throw bad(`event field ${k} must be a string or null`);
      if (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)) throw bad('event field data must be an object');
      return { kind: 'event', record: o as unknown as AuditRecord };
    }
    case 'checkpoint':
      for (const k of ['id', 'writer', 'body', 'hash', 'signature'] as const) if (!text_(k)) throw bad(`checkpoint field ${k} must be a string`);
      if (!int('time')) throw bad('checkpoint field time must be an integer');
      return { kind: 'checkpoint', checkpoint: { id: o.id as string, writer: o.writer as string, time: o.time as number, body: o.body as string, hash: o.hash as string, signature: o.signature as string } };
    default:
      throw bad(`unknown line kind ${JSON.stringify(o.kind)}`);
  }
}

async function* lines(path: string): AsyncGenerator<Line> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new VerifySourceError(`cannot read ${path}: ${error.message}`)));
  });
  await opened;
  let n = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    n += 1;
    if (text.trim() === '') continue;
    const line = parseLine(text, n);
    if ((n === 1) !== (line.kind === 'header')) throw new VerifySourceError(`line ${n}: ${n === 1 ? 'the first line must be the export header' : 'a second header'}`);
    yield line;
  }
  if (n === 0) throw new VerifySourceError(`${path} is empty`);
}

/**
 * Verifies an export offline. Two passes over the file: the first reads the header and the
 * checkpoints and notes, per chain, whether its events come in seq order (an export writes them
 * oldest first, which is seq order within a chain); the second feeds those chains event by event
 * and sorts only the chains that were out of order.
 */
export async function verifyExportFile(path: string, opts: FileSourceOptions): Promise<VerifyReport> {
  let header: ExportHeader | undefined;
  const checkpoints: CheckpointRecord[] = [];
  const chains = new Map<string, { tenantId: string; lastSeq: number; ordered: boolean }>();
  for await (const line of lines(path)) {
    if (line.kind === 'header') header = line.header;
    else if (line.kind === 'checkpoint') checkpoints.push(line.checkpoint);
    else {
      const r = line.record;
      const chain = chains.get(r.chainId);
      if (!chain) chains.set(r.chainId, { tenantId: r.tenantId, lastSeq: r.seq, ordered: true });
      else {
        if (r.seq < chain.lastSeq) chain.ordered = false;
        chain.lastSeq = Math.max(chain.lastSeq, r.seq);
      }
    }
  }
  if (!header) throw new VerifySourceError(`${path} has no export header`);

  const verifier = await AuditVerifier.create({
    checkpoints,
    publicKeys: opts.publicKeys,
    retentionDays: opts.retentionDays === undefined ? undefined : new Map([[header.tenant, opts.retentionDays]]),
    now: header.exportedAt,
    range: { since: header.since, until: header.until },
    tenants: [header.tenant],
    skewMs: opts.skewMs,
    maxFindings: opts.maxFindings,
  });
  const open = new Map<string, ChainVerifier>();
  const unordered = new Map<string, AuditRecord[]>();
  for (const [id, chain] of chains) {
    open.set(id, verifier.chain({ id, tenantId: chain.tenantId }));
    if (!chain.ordered) unordered.set(id, []);
  }
  for await (const line of lines(path)) {
    if (line.kind !== 'event') continue;
    const r = line.record;
    const buffer = unordered.get(r.chainId);
    if (buffer) buffer.push(r);
    else open.get(r.chainId)?.push(chainRecordOf(r));
  }
  for (const [id, buffer] of unordered) {
    const cv = open.get(id);
    for (const r of buffer.sort((a, b) => a.seq - b.seq)) cv?.push(chainRecordOf(r));
  }
  for (const cv of open.values()) cv.end();
  return verifier.finish();
}
