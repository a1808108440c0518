/**
 * Verifies an audit trail: the hash chain of every chain, the signed checkpoint chain, and that
 * every gap is explained by retention. Pure: it reads nothing but its input (the loaders are in
 * `verify-source.ts`), so the same code checks the database and an offline export.
 *
 * A chain is verified record by record in seq order. Clean records (hash valid, seq one more than
 * the last, `prev_hash` = the last record's hash) take the fast path and only the last one is kept.
 * Anything else opens a segment: the records are buffered until a run of clean records closes it
 * again, and the segment is classified as a whole (see `ChainVerifier.analyze`). Memory is
 * therefore O(1) per chain on an intact trail, plus the checkpoint index.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, type JWK } from 'jose';
import type { AuditEventsTable } from '../db/schema.js';
import { eventHash, GENESIS, recordHash, sha256 } from './chain.js';
import type { AuditRecord, ChainHead, CheckpointBody } from './model.js';
import { canonicalCheckpoint } from './sealer.js';

export type FindingKind =
  | 'altered'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'broken_link'
  | 'checkpoint_invalid'
  | 'checkpoint_missing'
  | 'head_mismatch'
  | 'unsealed';

/** Findings that describe the trail without failing it. */
export const INFO_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>(['unsealed']);

export interface Finding {
  kind: FindingKind;
  chain?: string;
  tenant?: string;
  /** The record's seq; for ranges (`deleted`, `unsealed`, a whole `inserted` chain) the first one. */
  seq?: number;
  /** The last seq of a range (`deleted`, `unsealed`, a whole `inserted` chain). */
  toSeq?: number;
  /** Event id; for checkpoint findings the checkpoint id (for `checkpoint_missing`, the absent one). */
  id?: string;
  /** Number of events (`unsealed`). */
  count?: number;
  detail: string;
}

export interface VerifyReport {
  /** True when no finding fails the trail (only `unsealed` ones, or none). */
  ok: boolean;
  findings: Finding[];
  /** Findings per kind, including any left out of `findings` by `maxFindings`. */
  counts: Partial<Record<FindingKind, number>>;
  truncated: boolean;
  stats: { chains: number; events: number; checkpoints: number; validCheckpoints: number; unsealedEvents: number };
}

/** A stored checkpoint (a row of `audit_checkpoints`, or a checkpoint line of an export). */
export interface CheckpointRecord {
  id: string;
  writer: string;
  time: number;
  body: string;
  hash: string;
  signature: string;
}

/** One event as the verifier needs it. */
export interface ChainRecord {
  id: string;
  seq: number;
  prevHash: string;
  /** The stored hash. */
  hash: string;
  time: number;
  /** The hash of the record's content with `seq` in place of its stored seq. */
  hashAt(seq: number): string;
}

/** What is known about a chain besides its events. */
export interface ChainInfo {
  id: string;
  tenantId: string;
  /** The writer that owns the chain (the database knows it; an export does not). */
  writerId?: string | undefined;
  /** The head the store records for the chain (`audit_chains`), read before the events. */
  head?: { seq: number; hash: string } | undefined;
  /** False when the store has no row for the chain (database only); undefined when unknown. */
  registered?: boolean | undefined;
}

export interface VerifyOptions {
  checkpoints: Iterable<CheckpointRecord> | AsyncIterable<CheckpointRecord>;
  /** The audit public key(s). */
  publicKeys: readonly JWK[];
  /** Retention per tenant id, in days. A tenant without an entry may not have lost any prefix. */
  retentionDays?: ReadonlyMap<string, number> | undefined;
  /** When the trail was read (the database: now; an export: its `exportedAt`). */
  now: number;
  /**
   * The time range of a partial input (an export with since/until): with `since`, chains may start
   * anywhere; with `until`, they may end before their last checkpoint. Absent: the whole trail.
   */
  range?: { since: number | null; until: number | null } | undefined;
  /**
   * Tenants being verified (default all). Checkpoint findings are reported for checkpoints that
   * name a chain of these tenants (an export holds only those and the checkpoints they link to);
   * chains of these tenants that checkpoints name but that have no events are reported deleted.
   */
  tenants?: readonly string[] | undefined;
  /** Tolerance between an event's time and a checkpoint's time (commit latency, clock skew). */
  skewMs?: number | undefined;
  /** Most findings listed (all are counted). */
  maxFindings?: number | undefined;
}

const DAY_MS = 86_400_000;
/** Default tolerance between event times and checkpoint times. */
export const DEFAULT_SKEW_MS = 5 * 60_000;
/** Past this many buffered records an unresolved segment is classified as it stands. */
const MAX_SEGMENT = 50_000;
/**
 * A segment closes after this many clean records in a row: records moved up to about this far
 * apart are still in one segment and recognised as reordered.
 */
const CLOSE_RUN = 32;
const CHECKPOINT_TYP = 'signet-audit-checkpoint+jws';

// ---------------------------------------------------------------------------------------------
// Records

/** A record read back from an export (data as an object). */
export function chainRecordOf(r: AuditRecord): ChainRecord {
  return { id: r.id, seq: r.seq, prevHash: r.prevHash, hash: r.hash, time: r.time, hashAt: (seq) => recordHash({ ...r, seq }) };
}

/** A row of `audit_events`, hashed exactly as stored (its `data` text is not re-serialized). */
export function chainRecordOfRow(row: AuditEventsTable): ChainRecord {
  const { hash, ...content } = row;
  return { id: row.id, seq: row.seq, prevHash: row.prev_hash, hash, time: row.time, hashAt: (seq) => eventHash({ ...content, seq }) };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

export interface AuditPublicKey {
  kid: string | undefined;
  key: KeyObject;
}

/** Imports the audit public keys (private members, if any, are ignored). */
export function importAuditKeys(jwks: readonly JWK[]): AuditPublicKey[] {
  return jwks.map((jwk) => {
    const { d: _d, ...pub } = jwk;
    return { kid: jwk.kid, key: createPublicKey({ key: pub as JsonWebKey, format: 'jwk' }) };
  });
}

export type CheckpointCheck = { ok: true; body: CheckpointBody } | { ok: false; reasons: string[] };

function isHead(value: unknown): value is ChainHead {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return typeof h.chain === 'string' && typeof h.tenant === 'string' && Number.isSafeInteger(h.seq) && (h.seq as number) > 0 && typeof h.hash === 'string';
}

function parseBody(text: string): CheckpointBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const b = value as Record<string, unknown>;
  const prev = b.prev as Record<string, unknown> | null | undefined;
  const prevOk = prev === null || (typeof prev === 'object' && prev !== undefined && typeof prev.id === 'string' && typeof prev.hash === 'string');
  if (b.v !== 1 || typeof b.id !== 'string' || typeof b.writer !== 'string' || !Number.isSafeInteger(b.time) || !prevOk) return undefined;
  if (!Array.isArray(b.heads) || !b.heads.every(isHead)) return undefined;
  return value as CheckpointBody;
}

/**
 * Checks one checkpoint on its own: `hash` = sha256(body), the body is canonical and names the
 * row's id, writer and time, and the signature is a valid EdDSA JWS by an audit key over exactly
 * the body.
 */
export async function checkCheckpoint(row: CheckpointRecord, keys: readonly AuditPublicKey[]): Promise<CheckpointCheck> {
  const reasons: string[] = [];
  if (sha256(row.body) !== row.hash) reasons.push('hash is not sha256(body)');
  const body = parseBody(row.body);
  if (!body) return { ok: false, reasons: [...reasons, 'body is not a checkpoint'] };
  if (canonicalCheckpoint(body) !== row.body) reasons.push('body is not in canonical form');
  if (body.id !== row.id) reasons.push(`body names id ${body.id}`);
  if (body.writer !== row.writer) reasons.push(`body names writer ${body.writer}, the row ${row.writer}`);
  if (body.time !== row.time) reasons.push(`body names time ${body.time}, the row ${row.time}`);
  if (!(await signatureValid(row, keys))) reasons.push('signature is not valid for the body under the audit public key');
  return reasons.length === 0 ? { ok: true, body } : { ok: false, reasons };
}

async function signatureValid(row: CheckpointRecord, keys: readonly AuditPublicKey[]): Promise<boolean> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(row.signature);
    if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_TYP) return false;
    kid = header.kid;
  } catch {
    return false;
  }
  const candidates = keys.some((k) => k.kid === kid) ? keys.filter((k) => k.kid === kid) : keys;
  for (const { key } of candidates) {
    try {
      const { payload } = await compactVerify(row.signature, key, { algorithms: ['EdDSA'] });
      if (new TextDecoder().decode(payload) === row.body) return true;
    } catch {
      // not this key
    }
  }
  return false;
}

interface Seal {
  seq: number;
  hash: string;
  /** The earliest and the latest valid checkpoint that sealed this head. */
  first: { id: string; time: number };
  last: { id: string; time: number };
}

/** The sealed heads of one chain. */
class ChainSeals {
  readonly bySeq = new Map<number, Seal>();
  private sorted: Seal[] = [];
  /** latest[i]: of sorted[0..i], the seal whose latest checkpoint is the newest. */
  private latest: Seal[] = [];
  maxSeq = 0;

  constructor(readonly tenant: string) {}

  add(head: ChainHead, checkpoint: { id: string; time: number }): void {
    const seal = this.bySeq.get(head.seq);
    if (!seal) {
      this.bySeq.set(head.seq, { seq: head.seq, hash: head.hash, first: checkpoint, last: checkpoint });
      this.maxSeq = Math.max(this.maxSeq, head.seq);
      return;
    }
    // Two valid checkpoints cannot disagree on a head short of a compromised key; the first one stands.
    if (seal.hash !== head.hash) return;
    if (checkpoint.time < seal.first.time) seal.first = checkpoint;
    if (checkpoint.time > seal.last.time) seal.last = checkpoint;
  }

  freeze(): void {
    this.sorted = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.latest = [];
    let best: Seal | undefined;
    for (const seal of this.sorted) {
      if (!best || seal.last.time > best.last.time) best = seal;
      this.latest.push(best);
    }
  }

  /** Of the heads below `seq`, the one sealed most recently: every record at `seq` was written after it. */
  latestBelow(seq: number): Seal | undefined {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.sorted[mid] as Seal).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.latest[lo - 1];
  }

  /** The largest sealed seq below `seq` whose first checkpoint is older than `cutoff` (0 when none). */
  retainableBelow(seq: number, cutoff: number): number {
    for (let i = this.sorted.length - 1; i >= 0; i--) {
      const seal = this.sorted[i] as Seal;
      if (seal.seq < seq && seal.first.time < cutoff) return seal.seq;
    }
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

class FindingList {
  readonly items: Finding[] = [];
  readonly counts: Partial<Record<FindingKind, number>> = {};
  truncated = false;

  constructor(private readonly max: number) {}

  add(finding: Finding): void {
    this.counts[finding.kind] = (this.counts[finding.kind] ?? 0) + 1;
    if (this.items.length < this.max) this.items.push(finding);
    else this.truncated = true;
  }

  get failing(): boolean {
    return Object.entries(this.counts).some(([kind, n]) => !INFO_KINDS.has(kind as FindingKind) && (n ?? 0) > 0);
  }
}

// ---------------------------------------------------------------------------------------------
// The verifier

/**
 * Verifies a trail fed chain by chain (or several chains at once, each in seq order):
 * `create` checks the checkpoints, `chain(info)` returns a verifier to push that chain's records
 * into, `finish` reports. `verifyAuditTrail` wraps it for inputs held in memory.
 */
export class AuditVerifier {
  readonly findings: FindingList;
  readonly skewMs: number;
  readonly since: number | null;
  readonly until: number | null;
  private readonly seals = new Map<string, ChainSeals>();
  /** The newest valid checkpoint of each writer. */
  private readonly writerLast = new Map<string, { id: string; time: number }>();
  private readonly opened = new Set<string>();
  private readonly scope: ReadonlySet<string> | undefined;
  private checkpointCount = 0;
  private validCount = 0;
  events = 0;
  unsealed = 0;

  private constructor(private readonly opts: VerifyOptions) {
    this.findings = new FindingList(opts.maxFindings ?? 10_000);
    this.skewMs = opts.skewMs ?? DEFAULT_SKEW_MS;
    this.since = opts.range?.since ?? null;
    this.until = opts.range?.until ?? null;
    this.scope = opts.tenants ? new Set(opts.tenants) : undefined;
  }

  /** Checks every checkpoint and the links between them, and indexes the heads they seal. */
  static async create(opts: VerifyOptions): Promise<AuditVerifier> {
    const v = new AuditVerifier(opts);
    await v.indexCheckpoints();
    return v;
  }

  private inScope(tenant: string): boolean {
    return !this.scope || this.scope.has(tenant);
  }

  /** Whether a checkpoint is this verification's business (any, when all tenants are verified). */
  private concerns(body: CheckpointBody): boolean {
    return !this.scope || body.heads.some((h) => this.inScope(h.tenant));
  }

  private async indexCheckpoints(): Promise<void> {
    const keys = importAuditKeys(this.opts.publicKeys);
    const hashes = new Map<string, string>();
    const valid = new Map<string, CheckpointBody>();
    const invalid = new Map<string, { reasons: string[]; body: CheckpointBody | undefined }>();
    for await (const row of this.opts.checkpoints) {
      this.checkpointCount += 1;
      hashes.set(row.id, row.hash);
      const check = await checkCheckpoint(row, keys);
      if (check.ok) valid.set(row.id, check.body);
      else invalid.set(row.id, { reasons: check.reasons, body: parseBody(row.body) });
    }
    // The checkpoint chain: each checkpoint names the one before it.
    for (const body of [...valid.values()].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))) {
      if (!body.prev) continue;
      const prevHash = hashes.get(body.prev.id);
      if (prevHash === undefined) {
        if (this.concerns(body)) {
          this.findings.add({ kind: 'checkpoint_missing', id: body.prev.id, detail: `checkpoint ${body.id} (${iso(body.time)}) names ${body.prev.id} as the checkpoint before it, which is absent` });
        }
      } else if (prevHash !== body.prev.hash) {
        const bad = invalid.get(body.prev.id) ?? { reasons: [], body: valid.get(body.prev.id) };
        bad.reasons.push(`hash differs from the one checkpoint ${body.id} recorded for it`);
        invalid.set(body.prev.id, bad);
        valid.delete(body.prev.id);
      }
    }
    for (const [id, { reasons, body }] of invalid) {
      if (!body || this.concerns(body)) this.findings.add({ kind: 'checkpoint_invalid', id, detail: reasons.join('; ') });
    }

    for (const body of valid.values()) {
      this.validCount += 1;
      const at = { id: body.id, time: body.time };
      const last = this.writerLast.get(body.writer);
      if (!last || body.time > last.time) this.writerLast.set(body.writer, at);
      for (const head of body.heads) {
        let seals = this.seals.get(head.chain);
        if (!seals) {
          seals = new ChainSeals(head.tenant);
          this.seals.set(head.chain, seals);
        }
        seals.add(head, at);
      }
    }
    for (const seals of this.seals.values()) seals.freeze();
  }

  /** The verifier for one chain; push its records in seq order, then call `end()`. */
  chain(info: ChainInfo): ChainVerifier {
    this.opened.add(info.id);
    return new ChainVerifier(this, info, this.seals.get(info.id) ?? new ChainSeals(info.tenantId));
  }

  /** Retention cutoff for a tenant: a prefix sealed by a checkpoint older than this may be gone. */
  cutoff(tenant: string): { time: number; days: number | undefined } {
    const days = this.opts.retentionDays?.get(tenant);
    return days === undefined ? { time: -Infinity, days } : { time: this.opts.now - days * DAY_MS, days };
  }

  latestOfWriter(writer: string | undefined): { id: string; time: number } | undefined {
    return writer === undefined ? undefined : this.writerLast.get(writer);
  }

  /** Chains that checkpoints name but that were never fed (no events at all), then the report. */
  finish(): VerifyReport {
    for (const [chain, seals] of this.seals) {
      if (this.opened.has(chain) || !this.inScope(seals.tenant)) continue;
      this.chain({ id: chain, tenantId: seals.tenant }).end();
    }
    return {
      ok: !this.findings.failing,
      findings: this.findings.items,
      counts: this.findings.counts,
      truncated: this.findings.truncated,
      stats: { chains: this.opened.size, events: this.events, checkpoints: this.checkpointCount, validCheckpoints: this.validCount, unsealedEvents: this.unsealed },
    };
  }
}

type LinkState = 'ok' | 'fail' | 'na' | 'explained';

interface Entry {
  r: ChainRecord;
  /** The stored hash matches the content at the stored seq. */
  valid: boolean;
  /** The seq at which the stored hash matches the content; null when none does (content edited). */
  orig: number | null;
  /** Where the record sits in the chain: `orig`, or the stored seq for an edited record. */
  eff: number;
}

/** The record before a position: a real one, or the genesis / a sealed head standing in for it. */
interface Pred {
  hash: string;
  eff: number;
  entry: Entry | undefined;
  /** A checkpoint (or the genesis rule) vouches for this hash at this seq. */
  confirmed: boolean;
}

interface Position {
  eff: number;
  g: Entry;
  pred: Pred | undefined;
  link: LinkState;
}

/** Verifies one chain from its records in seq order. */
export class ChainVerifier {
  private anchor: Entry | undefined;
  private readonly segment: Entry[] = [];
  /** How many records at the end of the segment link cleanly, one to the next. */
  private cleanRun = 0;
  private lastSeq = -Infinity;
  private lastEff = 0;
  private records = 0;
  private readonly unsealed = { count: 0, first: 0, last: 0 };
  /** Set for a chain nothing explains: its seq range is all that is reported. */
  private readonly foreign: { first: number; last: number } | undefined;

  constructor(
    private readonly v: AuditVerifier,
    private readonly info: ChainInfo,
    private readonly seals: ChainSeals,
  ) {
    // A chain the store does not know and no checkpoint names: nothing explains its events.
    this.foreign = info.registered === false && seals.bySeq.size === 0 ? { first: 0, last: 0 } : undefined;
  }

  push(record: ChainRecord): void {
    if (record.seq < this.lastSeq) throw new Error(`events of chain ${this.info.id} must be pushed in seq order (${record.seq} after ${this.lastSeq})`);
    this.records += 1;
    this.v.events += 1;
    if (this.foreign) {
      if (this.records === 1) this.foreign.first = record.seq;
      this.foreign.last = record.seq;
      this.lastSeq = record.seq;
      return;
    }
    const valid = record.hashAt(record.seq) === record.hash;
    const entry: Entry = { r: record, valid, orig: valid ? record.seq : null, eff: record.seq };
    if (this.segment.length > 0 && record.seq > this.lastSeq) this.settle(false);
    const prev = this.segment[this.segment.length - 1];
    const linked = prev !== undefined && prev.valid && valid && record.seq === prev.r.seq + 1 && record.prevHash === prev.r.hash;
    this.cleanRun = linked ? this.cleanRun + 1 : valid ? 1 : 0;
    this.segment.push(entry);
    this.lastSeq = record.seq;
  }

  /** Call after the last record. */
  end(): void {
    if (this.foreign) {
      if (this.records > 0) {
        this.add({ kind: 'inserted', seq: this.foreign.first, toSeq: this.foreign.last, detail: `chain ${this.info.id} is not a chain of this store and no checkpoint seals it: its ${this.records} event(s) were inserted` });
      }
      return;
    }
    if (this.segment.length > 0) this.settle(true);
    const storeHead = this.info.head?.seq ?? 0;
    const top = Math.max(this.seals.maxSeq, storeHead);
    const cutoff = this.v.cutoff(this.info.tenantId);
    if (this.records === 0) {
      if (this.v.since === null && this.v.until === null && top > 0) {
        const kept = this.seals.retainableBelow(top + 1, cutoff.time);
        if (kept < top) this.add({ kind: 'deleted', seq: kept + 1, toSeq: top, detail: `the chain has no events, but ${this.headSource(top)}${retentionNote(kept, cutoff.days)}` });
      }
    } else if (this.v.until === null && top > this.lastEff) {
      this.add({ kind: 'deleted', seq: this.lastEff + 1, toSeq: top, detail: `the chain ends at seq ${this.lastEff}, but ${this.headSource(top)}` });
    }
    if (this.unsealed.count > 0) {
      this.v.unsealed += this.unsealed.count;
      this.add({ kind: 'unsealed', seq: this.unsealed.first, toSeq: this.unsealed.last, count: this.unsealed.count, detail: `${this.unsealed.count} event(s) after the last checkpoint of the chain (not yet sealed)` });
    }
  }

  private headSource(seq: number): string {
    const seal = this.seals.bySeq.get(this.seals.maxSeq);
    if (seal && this.seals.maxSeq >= seq) return `checkpoint ${seal.first.id} sealed it up to seq ${seal.seq}`;
    return `the store records its head at seq ${seq}`;
  }

  /** Reports a finding of this chain now, or into `out` (a segment's findings, sorted before they are added). */
  private add(finding: Omit<Finding, 'chain' | 'tenant'>, out?: Finding[]): void {
    const full = { ...finding, chain: this.info.id, tenant: this.info.tenantId };
    if (out) out.push(full);
    else this.v.findings.add(full);
  }

  /** The buffered records before a record with a higher seq (or the end): accept or classify them. */
  private settle(atEnd: boolean): void {
    const seg = this.segment;
    const only = seg[0];
    if (seg.length === 1 && only && this.anchor && only.valid && only.r.seq === this.anchor.eff + 1 && only.r.prevHash === this.anchor.r.hash) {
      this.accept(only);
      this.anchor = only;
      seg.length = 0;
      return;
    }
    if (atEnd || this.cleanRun >= CLOSE_RUN || seg.length >= MAX_SEGMENT) {
      this.analyze(seg, atEnd);
      seg.length = 0;
    }
  }

  /** Per-record checks of a record that belongs to the chain at `eff`. */
  private accept(e: Entry, out?: Finding[]): void {
    const report = (f: Omit<Finding, 'chain' | 'tenant'>) => this.add(f, out);
    const r = e.r;
    const eff = e.eff;
    const seal = this.seals.bySeq.get(eff);
    if (seal && seal.hash !== r.hash) {
      report({ kind: 'head_mismatch', seq: eff, id: r.id, detail: `checkpoint ${seal.first.id} sealed seq ${eff} with hash ${seal.hash}; the record has ${r.hash}` });
    } else if (this.info.head && this.info.head.seq === eff && this.info.head.hash !== r.hash) {
      report({ kind: 'head_mismatch', seq: eff, id: r.id, detail: `the store records the chain head at seq ${eff} with hash ${this.info.head.hash}; the record has ${r.hash}` });
    }
    // Every record above a sealed head was committed after that checkpoint read the head.
    const before = this.seals.latestBelow(eff);
    const writerLast = eff > this.seals.maxSeq ? this.v.latestOfWriter(this.info.writerId) : undefined;
    if (before && r.time < before.last.time - this.v.skewMs) {
      report({ kind: 'inserted', seq: r.seq, id: r.id, detail: `its time ${iso(r.time)} is before checkpoint ${before.last.id} (${iso(before.last.time)}), which sealed the chain at seq ${before.seq} < ${eff}` });
    } else if (writerLast && r.time < writerLast.time - this.v.skewMs) {
      // The writer's sealer seals every chain of its own that grew: this record would be sealed.
      report({ kind: 'inserted', seq: r.seq, id: r.id, detail: `not sealed, yet older (${iso(r.time)}) than checkpoint ${writerLast.id} (${iso(writerLast.time)}) of the chain's writer` });
    } else if (eff > this.seals.maxSeq) {
      if (this.unsealed.count === 0) this.unsealed.first = eff;
      this.unsealed.count += 1;
      this.unsealed.last = eff;
    }
    this.lastEff = Math.max(this.lastEff, eff);
  }

  /**
   * Classifies a segment. Rules, in order:
   * - a record whose hash matches its content at another seq was moved there: `reordered`; one
   *   whose hash matches its content at no seq was edited: `altered`;
   * - records are placed at the seq their hash was made for; a missing seq is `deleted` (a missing
   *   prefix only when retention does not explain it); of several records for one seq, the one the
   *   chain links (next record's prev_hash, checkpoint head, own prev_hash) belongs, the others are
   *   `inserted`;
   * - a link that does not hold between two unedited records: if the record does not link to its
   *   predecessor and its successor does not link to it either, it is `inserted`; if its successor
   *   links to it, the predecessor was rewritten (`altered`) unless a checkpoint vouches for the
   *   predecessor; at the end of the data a checkpoint on either side decides (`inserted` record
   *   or `altered` predecessor); otherwise `broken_link`. Links touching a `head_mismatch` or an
   *   edited record are explained by that finding.
   */
  private analyze(seg: Entry[], atEnd: boolean): void {
    const A = this.anchor;
    const out: Finding[] = [];
    const emit = (kind: FindingKind, e: Entry, detail: string, seq = e.r.seq) => out.push({ kind, chain: this.info.id, tenant: this.info.tenantId, seq, id: e.r.id, detail });
    resolveOrigins(seg, A);

    const slots = new Map<number, Entry[]>();
    for (const e of seg) {
      if (A && e.eff <= A.eff) {
        emit('inserted', e, `a record for seq ${e.eff} is already in the chain`);
        continue;
      }
      const slot = slots.get(e.eff);
      if (slot) slot.push(e);
      else slots.set(e.eff, [e]);
    }
    const keys = [...slots.keys()].sort((a, b) => a - b);
    if (atEnd) {
      // Edited records past a gap at the very end do not stretch the chain: their seq is as
      // untrustworthy as the rest of their content.
      let tail = keys.length;
      while (tail > 0 && (slots.get(keys[tail - 1] as number) as Entry[]).every((e) => e.orig === null)) tail--;
      const lastKept = tail > 0 ? (keys[tail - 1] as number) : A ? A.eff : undefined;
      if (tail < keys.length && lastKept !== undefined && (keys[tail] as number) > lastKept + 1) {
        for (const eff of keys.splice(tail)) for (const e of slots.get(eff) as Entry[]) emit('altered', e, 'content does not match its hash; its seq lies past the end of the chain');
      }
    }
    const first = keys[0];
    if (first === undefined) return this.flush(out);

    let pred: Pred | undefined;
    let prevEff: number;
    if (A) {
      pred = { hash: A.r.hash, eff: A.eff, entry: A, confirmed: this.confirmed(A) };
      prevEff = A.eff;
    } else {
      pred = this.startPred(first);
      prevEff = first - 1;
    }
    const positions: Position[] = [];
    for (const eff of keys) {
      if (eff > prevEff + 1) {
        out.push({ kind: 'deleted', chain: this.info.id, tenant: this.info.tenantId, seq: prevEff + 1, toSeq: eff - 1, detail: `seq ${range(prevEff + 1, eff - 1)} missing between seq ${prevEff} and ${eff}` });
        pred = undefined;
      }
      const g = this.pick(slots.get(eff) as Entry[], pred, slots.get(eff + 1), eff, emit);
      if (!A && eff === first && first > 1) this.judgePrefix(first, g, out);
      positions.push({ eff, g, pred, link: this.linkState(g, pred) });
      pred = { hash: g.r.hash, eff, entry: g, confirmed: this.confirmed(g) };
      prevEff = eff;
    }

    const inserted = new Set<Entry>();
    const handled = new Set<number>();
    for (let i = 0; i < positions.length; i++) {
      const pos = positions[i] as Position;
      if (pos.link !== 'fail' || handled.has(i)) continue;
      const p = pos.pred as Pred;
      const nextLink = positions[i + 1]?.link ?? 'na';
      if (nextLink === 'fail') {
        emit('inserted', pos.g, `does not link to seq ${pos.eff - 1}, and seq ${pos.eff + 1} does not link to it`);
        inserted.add(pos.g);
        handled.add(i + 1);
        continue;
      }
      const gConfirmed = this.confirmed(pos.g);
      if (nextLink === 'ok') {
        if (p.confirmed || !p.entry) emit('broken_link', pos.g, p.eff === 0 ? 'the first record of the chain does not start from the genesis' : `prev_hash does not match the sealed record at seq ${p.eff}`);
        else emit('altered', p.entry, `rewritten: seq ${pos.eff} links a different hash for it`, p.entry.r.seq);
      } else if (gConfirmed && !p.confirmed && p.entry) {
        emit('altered', p.entry, `rewritten: the sealed seq ${pos.eff} links a different hash for it`, p.entry.r.seq);
      } else if (p.confirmed && !gConfirmed) {
        emit('inserted', pos.g, p.eff === 0 ? 'the first record of the chain does not start from the genesis' : `does not link to the sealed ${p.entry ? 'record' : 'head'} at seq ${p.eff}`);
        inserted.add(pos.g);
      } else {
        emit('broken_link', pos.g, `prev_hash does not match the record at seq ${p.eff}`);
      }
    }

    for (const pos of positions) {
      const g = pos.g;
      if (g.orig === null) emit('altered', g, 'content does not match its hash');
      else if (g.orig !== g.r.seq) emit('reordered', g, `stored at seq ${g.r.seq}, but its hash was made for seq ${g.orig}`);
      if (!inserted.has(g) && g !== A) this.accept(g, out);
    }
    const last = positions[positions.length - 1];
    if (last) this.anchor = last.g;
    this.flush(out);
  }

  private flush(out: Finding[]): void {
    out.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    for (const f of out) this.v.findings.add(f);
  }

  private confirmed(e: Entry): boolean {
    return this.seals.bySeq.get(e.eff)?.hash === e.r.hash;
  }

  private mismatched(e: Entry): boolean {
    const seal = this.seals.bySeq.get(e.eff);
    if (seal) return seal.hash !== e.r.hash;
    return this.info.head !== undefined && this.info.head.seq === e.eff && this.info.head.hash !== e.r.hash;
  }

  private linkState(g: Entry, pred: Pred | undefined): LinkState {
    if (!pred) return 'na';
    if (g.r.prevHash === pred.hash) return 'ok';
    if (g.orig === null || pred.entry?.orig === null) return 'explained';
    if (this.mismatched(g) || (pred.entry && this.mismatched(pred.entry))) return 'explained';
    return 'fail';
  }

  /** What stands before the first record of a chain: the genesis, or the sealed head before it. */
  private startPred(first: number): Pred | undefined {
    if (first === 1) return { hash: GENESIS, eff: 0, entry: undefined, confirmed: true };
    const seal = this.seals.bySeq.get(first - 1);
    return seal && { hash: seal.hash, eff: first - 1, entry: undefined, confirmed: true };
  }

  /**
   * A chain may start at seq S+1 > 1 only when a valid checkpoint older than the tenant's retention
   * sealed (chain, S) with the hash the first record links to. Otherwise the prefix is deleted,
   * from the last seq retention could have removed.
   */
  private judgePrefix(first: number, g: Entry, out: Finding[]): void {
    if (this.v.since !== null) return;
    const cutoff = this.v.cutoff(this.info.tenantId);
    const seal = this.seals.bySeq.get(first - 1);
    if (seal && seal.hash === g.r.prevHash && seal.first.time < cutoff.time) return;
    const kept = this.seals.retainableBelow(first, cutoff.time);
    if (kept >= first - 1) return;
    out.push({
      kind: 'deleted',
      chain: this.info.id,
      tenant: this.info.tenantId,
      seq: kept + 1,
      toSeq: first - 1,
      detail: `the chain starts at seq ${first}: seq ${range(kept + 1, first - 1)} missing${retentionNote(kept, cutoff.days)}`,
    });
  }

  /** Of several records for one seq, the one the chain links; the others are reported inserted. */
  private pick(cands: Entry[], pred: Pred | undefined, next: Entry[] | undefined, eff: number, emit: (kind: FindingKind, e: Entry, detail: string) => void): Entry {
    if (cands.length === 1) return cands[0] as Entry;
    const seal = this.seals.bySeq.get(eff);
    const score = (x: Entry) =>
      (x.orig !== null ? 8 : 0) + (next?.some((n) => n.r.prevHash === x.r.hash) ? 4 : 0) + (seal?.hash === x.r.hash ? 2 : 0) + (pred && x.r.prevHash === pred.hash ? 1 : 0);
    let best = cands[0] as Entry;
    for (const x of cands) if (score(x) > score(best)) best = x;
    for (const x of cands) if (x !== best) emit('inserted', x, `seq ${eff} appears more than once; the chain links another record there`);
    return best;
  }
}

/**
 * For records whose hash does not match their content at their stored seq, tries the seqs their
 * neighbours' links suggest (and the adjacent ones): a match means the record was moved.
 */
function resolveOrigins(seg: Entry[], anchor: Entry | undefined): void {
  const pending = seg.filter((e) => !e.valid);
  if (pending.length === 0) return;
  const all = anchor ? [anchor, ...seg] : seg;
  const byHash = new Map<string, Entry[]>();
  const byPrev = new Map<string, Entry[]>();
  const index = (map: Map<string, Entry[]>, key: string, e: Entry) => {
    const list = map.get(key);
    if (list) list.push(e);
    else map.set(key, [e]);
  };
  for (const e of all) {
    index(byHash, e.r.hash, e);
    index(byPrev, e.r.prevHash, e);
  }
  const tried = new Map<Entry, Set<number>>();
  for (let round = 0; round < 3; round++) {
    let progress = false;
    for (const e of pending) {
      if (e.orig !== null) continue;
      const candidates = new Set<number>([e.r.seq - 1, e.r.seq + 1]);
      for (const q of byHash.get(e.r.prevHash) ?? []) if (q.orig !== null) candidates.add(q.orig + 1);
      for (const q of byPrev.get(e.r.hash) ?? []) if (q.orig !== null) candidates.add(q.orig - 1);
      const seen = tried.get(e) ?? new Set<number>();
      tried.set(e, seen);
      for (const seq of candidates) {
        if (seq < 1 || seq === e.r.seq || seen.has(seq)) continue;
        seen.add(seq);
        if (e.r.hashAt(seq) === e.r.hash) {
          e.orig = seq;
          e.eff = seq;
          progress = true;
          break;
        }
      }
    }
    if (!progress) break;
  }
}

function range(from: number, to: number): string {
  return from === to ? String(from) : `${from}–${to}`;
}

function retentionNote(kept: number, days: number | undefined): string {
  if (days === undefined) return ' (no retention policy applies)';
  return kept > 0 ? ` (retention of ${days} days explains seq ≤ ${kept} only)` : ` (no checkpoint older than the ${days}-day retention seals it)`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

// ---------------------------------------------------------------------------------------------
// In-memory input

export interface ChainEvents {
  chain: ChainInfo;
  /** Arrays may be in any order; an async source must yield in seq order. */
  events: readonly ChainRecord[] | AsyncIterable<ChainRecord>;
}

/** Verifies a whole input: checkpoints first, then each chain. */
export async function verifyAuditTrail(input: VerifyOptions & { chains: Iterable<ChainEvents> | AsyncIterable<ChainEvents> }): Promise<VerifyReport> {
  const verifier = await AuditVerifier.create(input);
  for await (const { chain, events } of input.chains) {
    const cv = verifier.chain(chain);
    if (Array.isArray(events)) {
      const sorted = [...(events as readonly ChainRecord[])].sort((a, b) => a.seq - b.seq);
      for (const r of sorted) cv.push(r);
    } else {
      for await (const r of events as AsyncIterable<ChainRecord>) cv.push(r);
    }
    cv.end();
  }
  return verifier.finish();
}
