/** Per-chain verification and classification of anomalies (see verify.ts for the overview). */
import { GENESIS } from './chain.js';
import type { AuditVerifier } from './verify.js';
import { MAX_SEGMENT, CLOSE_RUN, ChainSeals, iso, type FindingKind, type Finding, type ChainRecord, type ChainInfo } from './verify-model.js';

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


// ---------------------------------------------------------------------------------------------
// In-memory input

