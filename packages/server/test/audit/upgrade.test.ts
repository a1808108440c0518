import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { auditQuery } from '../../src/audit/query.js';
import { newId } from '../../src/crypto/ids.js';
import { connect } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrations.js';
import type { Database } from '../../src/db/schema.js';
import { forgedRow } from './trail-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'signet-audit-upgrade-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('an audit trail written before migration 0009 keeps every filter: credential lookups are filled, failures indexed', async () => {
  const file = join(dir, 'signet.db');
  const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  await migrate(old as Kysely<unknown>, '0008_bound_refresh_tokens');
  const tenantId = newId();
  const chainId = newId();
  const credentialId = newId();
  const actorId = newId();
  const first = forgedRow({ tenant_id: tenantId, chain_id: chainId, seq: 1, prev_hash: '', time: Date.now(), actor_id: actorId, credential_id: credentialId });
  const second = forgedRow({ tenant_id: tenantId, chain_id: chainId, seq: 2, prev_hash: first.hash, time: Date.now(), outcome: 'failure' });
  await old.insertInto('audit_events').values([first, second]).execute();
  await old.insertInto('audit_event_principals').values({ tenant_id: tenantId, principal_id: actorId, event_id: first.id }).execute();
  // As 0008 stored a chain: no indexed_seq column yet.
  await old.insertInto('audit_chains' as never).values({ id: chainId, tenant_id: tenantId, writer_id: newId(), created_at: 0, head_seq: 2, head_hash: second.hash } as never).execute();
  await old.destroy();

  const conn = await connect({ kind: 'sqlite', file });
  try {
    const chain = await conn.db.selectFrom('audit_chains').select(['head_seq', 'indexed_seq']).where('id', '=', chainId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(chain.head_seq), Number(chain.indexed_seq)], [2, 2]);
    const ids = async (filter: Parameters<typeof auditQuery.list>[3]) => (await auditQuery.list(conn.db, conn.kind, tenantId, filter, { limit: 10 })).items.map((e) => e.id);
    assert.deepEqual(await ids({ credential: credentialId }), [first.id]);
    assert.deepEqual(await ids({ actor: actorId }), [first.id]);
    assert.deepEqual(await ids({ outcome: 'failure' }), [second.id]);
    assert.deepEqual(await ids({ outcome: 'success' }), [first.id]);
    const indexes = conn.sqlite?.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    assert.deepEqual(indexes, ['audit_events_failures', 'audit_events_resource', 'audit_events_tenant', 'audit_events_type']);
  } finally {
    await conn.close();
  }
});

it('migration 0010 keeps every lookup row and stores both lookups in their key (WITHOUT ROWID)', async () => {
  const file = join(dir, 'signet-0009.db');
  const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  await migrate(old as Kysely<unknown>, '0009_audit_deferred_index');
  const tenantId = newId();
  const principals = Array.from({ length: 3 }, () => ({ tenant_id: tenantId, principal_id: newId(), event_id: newId() }));
  const credentials = Array.from({ length: 2 }, () => ({ tenant_id: tenantId, credential_id: newId(), event_id: newId() }));
  await old.insertInto('audit_event_principals').values(principals).execute();
  await old.insertInto('audit_event_credentials').values(credentials).execute();
  await old.destroy();

  const conn = await connect({ kind: 'sqlite', file });
  try {
    const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(sorted(await conn.db.selectFrom('audit_event_principals').select(['tenant_id', 'principal_id', 'event_id']).execute()), sorted(principals));
    assert.deepEqual(sorted(await conn.db.selectFrom('audit_event_credentials').select(['tenant_id', 'credential_id', 'event_id']).execute()), sorted(credentials));
    const ddl = conn.sqlite?.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('audit_event_principals', 'audit_event_credentials') ORDER BY name").all() as { name: string; sql: string }[];
    assert.deepEqual(
      ddl.map((t) => [t.name, /WITHOUT ROWID\s*$/.test(t.sql)]),
      [
        ['audit_event_credentials', true],
        ['audit_event_principals', true],
      ],
    );
    // The key still refuses a duplicate, as the indexer's ON CONFLICT DO NOTHING relies on.
    await assert.rejects(conn.db.insertInto('audit_event_principals').values(principals[0]!).execute(), /UNIQUE constraint failed/);
  } finally {
    await conn.close();
  }
});
