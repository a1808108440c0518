import type { JWK } from 'jose';
import { sql } from 'kysely';
import type { Db, DbKind } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { tenantStore } from '../tenants/store.js';
import { chainRangeLookups } from './indexer.js';
import { checkCheckpoint, importAuditKeys } from './verify.js';

const DAY_MS = 86_400_000;
/** Checkpoints are read from this long before a chain's oldest event (clock differences between nodes). */
const SCAN_MARGIN_MS = 3_600_000;

/** Every tenant's `auditRetentionDays`, by tenant id (disabled tenants included). */
export async function retentionDays(db: Db): Promise<Map<string, number>> {
  const days = new Map<string, number>();
  let cursor: string | undefined;
  for (;;) {
    const page = await tenantStore.list(db, { limit: 200, cursor });
    for (const t of page.items) days.set(t.id, t.settings.auditRetentionDays);
    if (!page.nextCursor || page.items.length === 0) return days;
    cursor = page.items.at(-1)?.id;
  }
}

export interface RetainedSegment {
  tenantId: string;
  chainId: string;
  /** Events with seq ≤ this were deleted. */
  throughSeq: number;
  deleted: number;
}

/**
 * Most events retention deletes in one transaction, where the checkpoints allow (a step always
 * ends at a sealed head, so it is at least the distance between two checkpoints of the chain).
 * The deletes run on the event loop; between steps it runs other work.
 */
export const RETENTION_STEP_EVENTS = 2048;

/**
 * Deletes audit events older than each tenant's `auditRetentionDays`, in whole sealed segments so
 * that what remains still verifies: for each chain, the events up to the largest head S that a
 * valid checkpoint older than the cutoff sealed (so every deleted event is older than the cutoff
 * too), with their `audit_event_principals` and `audit_event_credentials` rows. Unsealed events and
 * events past a sealed boundary are never deleted; checkpoints are kept. The verifier accepts a
 * chain starting at S+1 exactly when such a checkpoint exists (`verify.ts`, `judgePrefix`).
 *
 * A backlog is deleted in steps of about `RETENTION_STEP_EVENTS`, each ending at a sealed head and
 * committed on its own, so the chain verifies after every step (and after a crash between two).
 * Finding what is due costs an index seek per chain, not a read of the tenant's events.
 */
export async function applyAuditRetention(db: Db, kind: DbKind, now: number, opts: { stepEvents?: number } = {}): Promise<RetainedSegment[]> {
  const stepEvents = opts.stepEvents ?? RETENTION_STEP_EVENTS;
  const cutoffs = new Map<string, number>();
  for (const [tenantId, days] of await retentionDays(db)) cutoffs.set(tenantId, now - days * DAY_MS);

  // Chains whose oldest remaining event is older than their tenant's cutoff: only those can lose anything.
  const due = new Map<string, { tenantId: string; cutoff: number; firstSeq: number; firstTime: number }>();
  for (const [tenantId, cutoff] of cutoffs) {
    const chains = await db.selectFrom('audit_chains').select('id').where('tenant_id', '=', tenantId).where('head_seq', '>', 0).execute();
    for (const { id } of chains) {
      const first = await db.selectFrom('audit_events').select(['seq', 'time']).where('chain_id', '=', id).orderBy('seq').limit(1).executeTakeFirst();
      if (first && first.time < cutoff) due.set(id, { tenantId, cutoff, firstSeq: Number(first.seq), firstTime: Number(first.time) });
    }
  }
  if (due.size === 0) return [];

  // The heads each due chain has in valid checkpoints older than its cutoff: the largest, and
  // enough below it to cut the backlog into steps.
  const keys = importAuditKeys((await db.selectFrom('audit_keys').select('public_jwk').execute()).map((k) => parseJson<JWK>(k.public_jwk, 'audit_keys.public_jwk')));
  const maxCutoff = Math.max(...[...due.values()].map((d) => d.cutoff));
  const minTime = Math.min(...[...due.values()].map((d) => d.firstTime)) - SCAN_MARGIN_MS;
  const steps = new Map<string, Steps>();
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('time', '<', maxCutoff)
      .where('time', '>=', minTime)
      .where('id', '>', after)
      .orderBy('id')
      .limit(500)
      .execute();
    for (const row of rows) {
      const check = await checkCheckpoint({ id: row.id, writer: row.writer_id, time: row.time, body: row.body, hash: row.hash, signature: row.signature }, keys);
      if (!check.ok) continue;
      for (const head of check.body.heads) {
        const d = due.get(head.chain);
        if (!d || row.time >= d.cutoff || head.seq < d.firstSeq) continue;
        addStep(steps, head.chain, { seq: head.seq, hash: head.hash }, stepEvents);
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < 500) break;
    after = last.id;
  }

  const done: RetainedSegment[] = [];
  for (const [chainId, { ends, last }] of steps) {
    const d = due.get(chainId);
    if (!d) continue;
    let deleted = 0;
    let through = 0;
    for (const { seq, hash } of [...ends, last]) {
      const n = await deleteThrough(db, kind, chainId, seq, hash);
      // A record that no longer matches its checkpoint is evidence: the chain is never cut there or past it.
      if (n === undefined) break;
      deleted += n;
      through = seq;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (deleted > 0) done.push({ tenantId: d.tenantId, chainId, throughSeq: through, deleted });
  }
  return done;
}

/** A due chain's sealed heads: the largest, and the ends of the steps before it. */
interface Steps {
  ends: { seq: number; hash: string }[];
  last: { seq: number; hash: string };
}

/** Keeps the largest head, and earlier ones at least `stepEvents` apart as step ends. */
function addStep(steps: Map<string, Steps>, chain: string, head: { seq: number; hash: string }, stepEvents: number): void {
  const s = steps.get(chain);
  if (!s) {
    steps.set(chain, { ends: [], last: head });
    return;
  }
  if (head.seq <= s.last.seq) return;
  if (s.last.seq - (s.ends.at(-1)?.seq ?? 0) >= stepEvents) s.ends.push(s.last);
  s.last = head;
}

/**
 * Deletes a chain's events up to `seq` and their lookup rows (found by key) in one transaction;
 * undefined when the record at `seq` no longer has the sealed hash.
 */
async function deleteThrough(db: Db, kind: DbKind, chainId: string, seq: number, hash: string): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    const head = await trx.selectFrom('audit_events').select('hash').where('chain_id', '=', chainId).where('seq', '=', seq).executeTakeFirst();
    if (head?.hash !== hash) return undefined;
    const { principals, credentials } = chainRangeLookups(kind, chainId, 0, seq);
    // Each lookup row by its key. (Selected through a subquery: SQLite plans a compound query on
    // the right of IN as a scan of the whole lookup table, and a plain one as key searches.)
    await sql`DELETE FROM audit_event_principals WHERE (tenant_id, principal_id, event_id) IN (SELECT * FROM (${principals}) AS l)`.execute(trx);
    await sql`DELETE FROM audit_event_credentials WHERE (tenant_id, credential_id, event_id) IN (SELECT * FROM (${credentials}) AS l)`.execute(trx);
    const result = await trx.deleteFrom('audit_events').where('chain_id', '=', chainId).where('seq', '<=', seq).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}
