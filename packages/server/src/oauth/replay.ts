import type { Db } from '../db/connect.js';

interface PendingJti {
  tenantId: string;
  clientId: string;
  jti: string;
  expiresAt: number;
  resolve: (firstUse: boolean) => void;
  reject: (error: unknown) => void;
}

/** Most jtis inserted by one statement (4 parameters each; well under SQLite's and PostgreSQL's limits). */
const MAX_BATCH = 500;

/**
 * Remembers single-use `jti` values until they expire, in the shared database so that every node
 * sees them (RFC 7523 §3 item 7, RFC 9449 §11.1). Concurrent requests share one statement
 * (`INSERT … ON CONFLICT DO NOTHING RETURNING`): each jti learns from the returned rows whether it
 * was new, and only a durable insert counts as first use.
 */
class JtiLedger {
  private readonly queue: PendingJti[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(private readonly db: Db) {}

  remember(tenantId: string, clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, clientId, jti, expiresAt, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flushing) return;
      const batch = this.queue.splice(0, MAX_BATCH);
      if (batch.length === 0) return;
      this.flushing = this.insert(batch).finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async insert(batch: PendingJti[]): Promise<void> {
    // A jti twice in one batch: the later copy is a replay of the earlier one.
    const first = new Map<string, PendingJti>();
    const repeats: PendingJti[] = [];
    for (const p of batch) {
      const key = keyOf(p.tenantId, p.clientId, p.jti);
      if (first.has(key)) repeats.push(p);
      else first.set(key, p);
    }
    try {
      const inserted = await this.db
        .insertInto('used_jtis')
        .values([...first.values()].map((p) => ({ tenant_id: p.tenantId, client_id: p.clientId, jti: p.jti, expires_at: p.expiresAt })))
        .onConflict((oc) => oc.columns(['tenant_id', 'client_id', 'jti']).doNothing())
        .returning(['tenant_id', 'client_id', 'jti'])
        .execute();
      const isNew = new Set(inserted.map((r) => keyOf(r.tenant_id, r.client_id, r.jti)));
      for (const [key, p] of first) p.resolve(isNew.has(key));
      for (const p of repeats) p.resolve(false);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}

const keyOf = (tenantId: string, clientId: string, jti: string): string => `${tenantId}\u0000${clientId}\u0000${jti}`;

/** One ledger per database handle (a handle is one Signet instance's pool). */
const ledgers = new WeakMap<Db, JtiLedger>();

/**
 * Records a single-use `jti` for a client until `expiresAt` (ms). Resolves false when it was
 * already used (a replay), true once the first use is durable.
 */
export function rememberJti(db: Db, tenantId: string, clientId: string, jti: string, expiresAt: number): Promise<boolean> {
  let ledger = ledgers.get(db);
  if (!ledger) {
    ledger = new JtiLedger(db);
    ledgers.set(db, ledger);
  }
  return ledger.remember(tenantId, clientId, jti, expiresAt);
}

export async function forgetExpiredJtis(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('used_jtis').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
