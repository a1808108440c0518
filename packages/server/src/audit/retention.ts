import type { JWK } from 'jose';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { tenantStore } from '../tenants/store.js';
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
 * Deletes audit events older than each tenant's `auditRetentionDays`, in whole sealed segments so
 * that what remains still verifies: for each chain, the events up to the largest head S that a
 * valid checkpoint older than the cutoff sealed (so every deleted event is older than the cutoff
 * too), in one transaction with their `audit_event_principals` and `audit_event_credentials` rows. Unsealed events and events
 * past a sealed boundary are never deleted; checkpoints are kept. The verifier accepts a chain
 * starting at S+1 exactly when such a checkpoint exists (`verify.ts`, `judgePrefix`).
 */
export async function applyAuditRetention(db: Db, now: number): Promise<RetainedSegment[]> {
  const cutoffs = new Map<string, number>();
  for (const [tenantId, days] of await retentionDays(db)) cutoffs.set(tenantId, now - days * DAY_MS);

  // Chains with an event older than their tenant's cutoff: only those can lose anything. Once
  // retention has caught up, this reads only what became due since the last run (tenant_id, time index).
  const due = new Map<string, { tenantId: string; cutoff: number; firstSeq: number; firstTime: number }>();
  for (const [tenantId, cutoff] of cutoffs) {
    const old = await db
      .selectFrom('audit_events')
      .select((eb) => ['chain_id', eb.fn.min('seq').as('first_seq'), eb.fn.min('time').as('first_time')])
      .where('tenant_id', '=', tenantId)
      .where('time', '<', cutoff)
      .groupBy('chain_id')
      .execute();
    for (const chain of old) due.set(chain.chain_id, { tenantId, cutoff, firstSeq: Number(chain.first_seq), firstTime: Number(chain.first_time) });
  }
  if (due.size === 0) return [];

  // The largest head each due chain has in a valid checkpoint older than its cutoff.
  const keys = importAuditKeys((await db.selectFrom('audit_keys').select('public_jwk').execute()).map((k) => parseJson<JWK>(k.public_jwk, 'audit_keys.public_jwk')));
  const maxCutoff = Math.max(...[...due.values()].map((d) => d.cutoff));
  const minTime = Math.min(...[...due.values()].map((d) => d.firstTime)) - SCAN_MARGIN_MS;
  const boundary = new Map<string, { seq: number; hash: string }>();
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
        if ((boundary.get(head.chain)?.seq ?? 0) < head.seq) boundary.set(head.chain, { seq: head.seq, hash: head.hash });
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < 500) break;
    after = last.id;
  }

  const done: RetainedSegment[] = [];
  for (const [chainId, { seq, hash }] of boundary) {
    const d = due.get(chainId);
    if (!d) continue;
    const deleted = await db.transaction().execute(async (trx) => {
      // Never cut a chain at a record that no longer matches its checkpoint: that is evidence.
      const head = await trx.selectFrom('audit_events').select('hash').where('chain_id', '=', chainId).where('seq', '=', seq).executeTakeFirst();
      if (head?.hash !== hash) return 0;
      const ids = trx.selectFrom('audit_events').select('id').where('chain_id', '=', chainId).where('seq', '<=', seq);
      await trx.deleteFrom('audit_event_principals').where('tenant_id', '=', d.tenantId).where('event_id', 'in', ids).execute();
      await trx.deleteFrom('audit_event_credentials').where('tenant_id', '=', d.tenantId).where('event_id', 'in', ids).execute();
      const result = await trx.deleteFrom('audit_events').where('chain_id', '=', chainId).where('seq', '<=', seq).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
    if (deleted > 0) done.push({ tenantId: d.tenantId, chainId, throughSeq: seq, deleted });
  }
  return done;
}
