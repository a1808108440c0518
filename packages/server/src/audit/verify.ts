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
import { compactVerify, decodeProtectedHeader } from 'jose';
import { sha256 } from './chain.js';
import type { ChainHead, CheckpointBody } from './model.js';
import { canonicalCheckpoint } from './sealer.js';
import { ChainVerifier } from './verify-chain.js';
import { DAY_MS, DEFAULT_SKEW_MS, CHECKPOINT_TYP, importAuditKeys, ChainSeals, FindingList, iso, type VerifyReport, type CheckpointRecord, type ChainRecord, type ChainInfo, type VerifyOptions, type AuditPublicKey, type CheckpointCheck } from './verify-model.js';

export * from './verify-model.js';
export { ChainVerifier } from './verify-chain.js';

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
