import type BetterSqlite3 from 'better-sqlite3';
import type { AuditEventsTable } from '../db/schema.js';

const COLUMNS = [
  'id', 'tenant_id', 'chain_id', 'seq', 'prev_hash', 'hash', 'time', 'type', 'outcome', 'actor_id', 'actor_kind', 'subject_id',
  'client_id', 'credential_id', 'credential_type', 'resource', 'jti', 'target_type', 'target_id', 'source_ip', 'user_agent', 'request_id', 'data',
] as const satisfies readonly (keyof AuditEventsTable)[];

/**
 * The writer's statements on SQLite, prepared once. Audit ingest is the hottest write path (every
 * token), and building statements through the query builder costs more than running them. They run
 * on the Kysely connection: in `transaction` (group commits) or in a caller's Kysely transaction
 * (directory changes). The principal and credential lookups are not written here: the indexer
 * builds them behind the commit (audit/indexer.ts).
 */
export class SqliteAuditAppender {
  private readonly insertEvent: BetterSqlite3.Statement<unknown[]>;
  private readonly readHead: BetterSqlite3.Statement<[string], { head_seq: number; head_hash: string }>;
  private readonly writeHead: BetterSqlite3.Statement<[number, string, string]>;
  private readonly begin: BetterSqlite3.Statement<[]>;
  private readonly commit: BetterSqlite3.Statement<[]>;
  private readonly rollback: BetterSqlite3.Statement<[]>;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.insertEvent = sqlite.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    this.readHead = sqlite.prepare('SELECT head_seq, head_hash FROM audit_chains WHERE id = ?');
    this.writeHead = sqlite.prepare('UPDATE audit_chains SET head_seq = ?, head_hash = ? WHERE id = ?');
    this.begin = sqlite.prepare('BEGIN IMMEDIATE');
    this.commit = sqlite.prepare('COMMIT');
    this.rollback = sqlite.prepare('ROLLBACK');
  }

  /**
   * Runs `work` in a transaction begun and committed with prepared statements: a group commit that
   * carries one or two events (a server below saturation) otherwise spends as much on the query
   * builder's BEGIN and COMMIT as on the events. The caller must hold the Kysely connection
   * (`db.connection()`), so that nothing else runs a statement on it meanwhile.
   */
  async transaction(work: () => Promise<void>): Promise<void> {
    this.begin.run();
    try {
      await work();
      this.commit.run();
    } catch (error) {
      if (this.sqlite.inTransaction) this.rollback.run();
      throw error;
    }
  }

  head(chainId: string): { seq: number; hash: string } | undefined {
    const row = this.readHead.get(chainId);
    return row && { seq: row.head_seq, hash: row.head_hash };
  }

  setHead(chainId: string, seq: number, hash: string): void {
    this.writeHead.run(seq, hash, chainId);
  }

  append(rows: AuditEventsTable[]): void {
    for (const row of rows) this.insertEvent.run(COLUMNS.map((c) => row[c]));
  }
}
