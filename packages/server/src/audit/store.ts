import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { newId } from '../crypto/ids.js';
import type { AuditRecord, DirectoryEvent } from './model.js';

/** Append-only audit storage. */
export const auditStore = {
  /** Writes a directory-change event; call inside the transaction that makes the change. */
  async recordDirectoryChange(db: Db, event: DirectoryEvent, now: number): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        id: newId(),
        tenant_id: event.tenantId,
        time: now,
        type: event.type,
        outcome: 'success',
        actor_id: event.actor.id,
        actor_jti: event.actor.jti,
        target_type: event.target.type,
        target_id: event.target.id,
        data: JSON.stringify({ actorTenantId: event.actor.tenantId, before: event.before ?? null, after: event.after ?? null }),
      })
      .execute();
  },

  /** Newest first. */
  async list(db: Db, tenantId: string, limit: number): Promise<AuditRecord[]> {
    const rows = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      time: r.time,
      type: r.type,
      outcome: r.outcome as AuditRecord['outcome'],
      actorId: r.actor_id,
      actorJti: r.actor_jti,
      targetType: r.target_type,
      targetId: r.target_id,
      data: parseJson<Record<string, unknown>>(r.data, 'audit_events.data'),
    }));
  },
};
