import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { SsfOutboxTable, SsfReceiversTable } from '../db/schema.js';
import type { Receiver, StopSignal } from './model.js';

function toReceiver(row: SsfReceiversTable): Receiver {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    endpointUrl: row.endpoint_url,
    audience: row.audience,
    authorization: row.authorization,
    description: row.description,
    createdAt: row.created_at,
  };
}

export interface OutboxEntry {
  id: string;
  tenantId: string;
  receiverId: string;
  signal: StopSignal;
  attempts: number;
  nextAttemptAt: number;
}

function toEntry(row: SsfOutboxTable): OutboxEntry {
  return { id: row.id, tenantId: row.tenant_id, receiverId: row.receiver_id, signal: parseJson<StopSignal>(row.event, 'ssf_outbox.event'), attempts: row.attempts, nextAttemptAt: row.next_attempt_at };
}

/** Storage for Shared Signals receivers and the delivery outbox. */
export const ssfStore = {
  async insertReceiver(db: Db, r: Receiver): Promise<void> {
    await db
      .insertInto('ssf_receivers')
      .values({ id: r.id, tenant_id: r.tenantId, endpoint_url: r.endpointUrl, audience: r.audience, authorization: r.authorization, description: r.description, created_at: r.createdAt })
      .execute();
  },

  async receiver(db: Db, tenantId: string, id: string): Promise<Receiver | undefined> {
    const row = await db.selectFrom('ssf_receivers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toReceiver(row);
  },

  async receivers(db: Db, tenantId: string): Promise<Receiver[]> {
    return (await db.selectFrom('ssf_receivers').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(1000).execute()).map(toReceiver);
  },

  async deleteReceiver(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('ssf_outbox').where('tenant_id', '=', tenantId).where('receiver_id', '=', id).execute();
    await db.deleteFrom('ssf_receivers').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async pending(db: Db, tenantId: string, receiverId: string): Promise<number> {
    const row = await db
      .selectFrom('ssf_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('receiver_id', '=', receiverId)
      .where('delivered_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async enqueue(db: Db, rows: { id: string; tenantId: string; receiverId: string; signal: StopSignal; now: number }[]): Promise<void> {
    if (rows.length === 0) return;
    await db
      .insertInto('ssf_outbox')
      .values(rows.map((r) => ({ id: r.id, tenant_id: r.tenantId, receiver_id: r.receiverId, event: JSON.stringify(r.signal), attempts: 0, next_attempt_at: r.now, delivered_at: null, last_error: null, created_at: r.now })))
      .execute();
  },

};

/**
 * The delivery worker's view of the outbox: every tenant's entries, addressed by entry id (each row
 * carries its tenant, and the receiver is loaded through the tenant-scoped store).
 */
export const outboxStore = {
  /** Undelivered entries due at `now` that have not used up their attempts, oldest first. */
  async due(db: Db, now: number, maxAttempts: number, limit: number): Promise<OutboxEntry[]> {
    const rows = await db
      .selectFrom('ssf_outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .where('attempts', '<', maxAttempts)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  },

  /** Claims an entry for one attempt (until `leaseUntil`); false when another node claimed it first. */
  async claim(db: Db, entry: OutboxEntry, leaseUntil: number): Promise<boolean> {
    const result = await db
      .updateTable('ssf_outbox')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', entry.id)
      .where('next_attempt_at', '=', entry.nextAttemptAt)
      .where('delivered_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  async delivered(db: Db, id: string, attempts: number, now: number): Promise<void> {
    await db.updateTable('ssf_outbox').set({ delivered_at: now, attempts, last_error: null }).where('id', '=', id).execute();
  },

  async failed(db: Db, id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await db.updateTable('ssf_outbox').set({ attempts, next_attempt_at: nextAttemptAt, last_error: error.slice(0, 500) }).where('id', '=', id).execute();
  },
};
