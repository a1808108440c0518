import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The audit trail's per-principal and per-credential lookups move out of the group commit, and
 * only failures keep an outcome index.
 *
 * A commit writes every B-tree page an event touches, and lookups keyed by principal or credential
 * touch a different page for nearly every event (one insertion point per principal), so they were
 * three quarters of the pages a small commit wrote. On SQLite they are now built behind the commit
 * from the committed rows, many events at a time (`audit/indexer.ts`); `indexed_seq` is how far a
 * chain has been indexed. PostgreSQL keeps writing them in the commit and advances `indexed_seq`
 * with the head.
 */
export const auditDeferredIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('audit_chains').addColumn('indexed_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    // Every event so far was indexed in its commit.
    await sql`UPDATE audit_chains SET indexed_seq = head_seq`.execute(db);

    await db.schema
      .createTable('audit_event_credentials')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('credential_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('audit_event_credentials_pk', ['tenant_id', 'credential_id', 'event_id'])
      .execute();
    await sql`INSERT INTO audit_event_credentials (tenant_id, credential_id, event_id)
              SELECT tenant_id, credential_id, id FROM audit_events WHERE credential_id IS NOT NULL`.execute(db);
    await db.schema.dropIndex('audit_events_credential_id').execute();

    // Failures are the rare outcome: index only them. `outcome=success` is most of the trail and
    // is answered from (tenant_id, id) with the outcome checked on each row.
    await db.schema.dropIndex('audit_events_outcome').execute();
    await sql`CREATE INDEX audit_events_failures ON audit_events (tenant_id, id) WHERE outcome = 'failure'`.execute(db);
  },
};
