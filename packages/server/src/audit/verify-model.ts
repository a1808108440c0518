/** Types, limits and shared state of the audit verifier (see verify.ts). */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type JWK } from 'jose';
import type { AuditEventsTable } from '../db/schema.js';
import { eventHash, recordHash } from './chain.js';
import type { AuditRecord, ChainHead, CheckpointBody } from './model.js';


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

export const DAY_MS = 86_400_000;
/** Default tolerance between event times and checkpoint times. */
export const DEFAULT_SKEW_MS = 5 * 60_000;
/** Past this many buffered records an unresolved segment is classified as it stands. */
export const MAX_SEGMENT = 50_000;
/**
 * A segment closes after this many clean records in a row: records moved up to about this far
 * apart are still in one segment and recognised as reordered.
 */
export const CLOSE_RUN = 32;
export const CHECKPOINT_TYP = 'signet-audit-checkpoint+jws';

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


interface Seal {
  seq: number;
  hash: string;
  /** The earliest and the latest valid checkpoint that sealed this head. */
  first: { id: string; time: number };
  last: { id: string; time: number };
}

/** The sealed heads of one chain. */
export class ChainSeals {
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

export class FindingList {
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

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
