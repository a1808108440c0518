import type BetterSqlite3 from 'better-sqlite3';
import type { AuditEventPrincipalsTable, AuditEventsTable } from '../db/schema.js';

const COLUMNS = [
  'id', 'tenant_id', 'chain_id', 'seq', 'prev_hash', 'hash', 'time', 'type', 'outcome', 'actor_id', 'actor_kind', 'subject_id',
  'client_id', 'credential_id', 'credential_type', 'resource', 'jti', 'target_type', 'target_id', 'source_ip', 'user_agent', 'request_id', 'data',
] as const satisfies readonly (keyof AuditEventsTable)[];

/**
 * Appends audit rows on SQLite with statements prepared once. Audit ingest is the hottest write
 * path (every token), and building a multi-row INSERT through the query builder costs more than
 * the insert itself. Called inside the writer's Kysely transaction, on the same connection.
 */
export class SqliteAuditAppender {
  private readonly insertEvent: BetterSqlite3.Statement<unknown[]>;
  private readonly insertPrincipal: BetterSqlite3.Statement<unknown[]>;

  constructor(sqlite: BetterSqlite3.Database) {
    this.insertEvent = sqlite.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    this.insertPrincipal = sqlite.prepare('INSERT INTO audit_event_principals (tenant_id, principal_id, event_id) VALUES (?, ?, ?)');
  }

  append(rows: AuditEventsTable[], principals: AuditEventPrincipalsTable[]): void {
    for (const row of rows) this.insertEvent.run(COLUMNS.map((c) => row[c]));
    for (const p of principals) this.insertPrincipal.run(p.tenant_id, p.principal_id, p.event_id);
  }
}
