import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { PeopleSessionsTable } from '../db/schema.js';

/** A sign-in is `active` once complete; the other states are steps still to take. */
export type SessionState = 'active' | 'mfa' | 'password_change' | 'mfa_enroll';

export interface SessionRecord {
  id: string;
  tenantId: string;
  userId: string;
  state: SessionState;
  amr: string[];
  acr: string;
  /** Epoch ms of the last primary authentication. */
  authTime: number;
  /** Where to go once the sign-in is complete (validated same-origin path). */
  returnTo: string | null;
  requireMfa: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  sourceIp: string | null;
  userAgent: string | null;
}

function toRecord(row: PeopleSessionsTable): SessionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    state: row.state as SessionState,
    amr: parseJson<string[]>(row.amr, 'people_sessions.amr'),
    acr: row.acr,
    authTime: row.auth_time,
    returnTo: row.return_to,
    requireMfa: row.require_mfa === 1,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    sourceIp: row.source_ip,
    userAgent: row.user_agent,
  };
}

/** Sign-in sessions, found only by the digest of their cookie and always scoped by tenant. */
export const sessionStore = {
  async insert(db: Db, s: SessionRecord, tokenDigest: string): Promise<void> {
    await db
      .insertInto('people_sessions')
      .values({
        id: s.id,
        tenant_id: s.tenantId,
        user_id: s.userId,
        token_digest: tokenDigest,
        state: s.state,
        amr: JSON.stringify(s.amr),
        acr: s.acr,
        auth_time: s.authTime,
        return_to: s.returnTo,
        require_mfa: s.requireMfa ? 1 : 0,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        expires_at: s.expiresAt,
        source_ip: s.sourceIp,
        user_agent: s.userAgent,
      })
      .execute();
  },

  async byDigest(db: Db, tenantId: string, tokenDigest: string): Promise<SessionRecord | undefined> {
    const row = await db.selectFrom('people_sessions').selectAll().where('tenant_id', '=', tenantId).where('token_digest', '=', tokenDigest).executeTakeFirst();
    return row && toRecord(row);
  },

  async touch(db: Db, tenantId: string, id: string, now: number): Promise<void> {
    await db.updateTable('people_sessions').set({ last_seen_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('people_sessions').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** Ends every session of a user (password reset, disable). Returns how many ended. */
  async deleteForUser(db: Db, tenantId: string, userId: string, exceptId?: string): Promise<number> {
    let q = db.deleteFrom('people_sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const result = await q.executeTakeFirst();
    return Number(result.numDeletedRows);
  },

};
