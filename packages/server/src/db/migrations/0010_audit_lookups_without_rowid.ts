import { type Kysely, type Migration, SqliteAdapter, sql } from 'kysely';

/**
 * SQLite: the audit lookups become WITHOUT ROWID tables, stored in their primary key's B-tree.
 *
 * A lookup row is three ids and its primary key is all of them, so as an ordinary table every row
 * was written twice, once in the table and once in the key's index. Clustered on the key, a row is
 * one B-tree insert: the lookup pass behind the audit commits does about half the work (it is
 * most of the per-event cost after the event row itself). PostgreSQL has no such table kind and
 * keeps its tables as they are.
 */
export const auditLookupsWithoutRowid: Migration = {
  async up(db: Kysely<unknown>) {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
    for (const [table, column] of [
      ['audit_event_principals', 'principal_id'],
      ['audit_event_credentials', 'credential_id'],
    ] as const) {
      await sql`CREATE TABLE ${sql.id(`${table}_new`)} (
                  tenant_id text NOT NULL, ${sql.id(column)} text NOT NULL, event_id text NOT NULL,
                  CONSTRAINT ${sql.id(`${table}_pk`)} PRIMARY KEY (tenant_id, ${sql.id(column)}, event_id)
                ) WITHOUT ROWID`.execute(db);
      await sql`INSERT INTO ${sql.id(`${table}_new`)} SELECT tenant_id, ${sql.id(column)}, event_id FROM ${sql.id(table)}`.execute(db);
      await sql`DROP TABLE ${sql.id(table)}`.execute(db);
      await sql`ALTER TABLE ${sql.id(`${table}_new`)} RENAME TO ${sql.id(table)}`.execute(db);
    }
  },
};
