import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import { AuditIndexer, indexPass, indexPendingAuditEvents, PASS_EVENTS } from '../../src/audit/indexer.js';
import type { AuditEventInput } from '../../src/audit/model.js';
import { auditQuery } from '../../src/audit/query.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { newId } from '../../src/crypto/ids.js';
import type { Connection } from '../../src/db/connect.js';
import { describeEachBackend } from '../contract/backends.js';
import { newTrail } from './trail-fixture.js';

const silent = pino({ level: 'silent' });

describeEachBackend('audit lookups (principals and credentials)', (connection) => {
  const A = newId();
  const U = newId();
  const X = newId();
  const Y = newId();
  const T = newId();
  const C = newId();

  /** A writer as the server runs it: on SQLite with the prepared appender, which leaves the lookups to the indexer. */
  async function setup(conn: Connection) {
    const { tenantId } = await newTrail(conn);
    const writer = new AuditWriter({ db: conn.db, dbKind: conn.kind, sqlite: conn.sqlite, log: silent, clock: Date.now, writerId: newId() });
    const events: AuditEventInput[] = [
      { tenantId, type: 'token.issued', outcome: 'success', actorId: A, actorKind: 'service', clientId: A, credentialId: C, credentialType: 'secret' },
      { tenantId, type: 'token.exchanged', outcome: 'success', actorId: Y, subjectId: U, clientId: A, delegation: [Y, X] },
      { tenantId, type: 'principal.disabled', outcome: 'success', actorId: U, target: { type: 'principal', id: T } },
      { tenantId, type: 'token.refused', outcome: 'failure', data: { delegation: 'not a list' } },
    ];
    await Promise.all(events.map((e) => writer.record(e)));
    const ids = (await conn.db.selectFrom('audit_events').select(['id', 'type']).where('tenant_id', '=', tenantId).execute()).reduce(
      (m, r) => m.set(r.type, r.id),
      new Map<string, string>(),
    );
    return { tenantId, ids };
  }

  const lookups = async (conn: Connection, tenantId: string) => {
    const principals = await conn.db.selectFrom('audit_event_principals').select(['principal_id', 'event_id']).where('tenant_id', '=', tenantId).execute();
    const credentials = await conn.db.selectFrom('audit_event_credentials').select(['credential_id', 'event_id']).where('tenant_id', '=', tenantId).execute();
    return {
      principals: principals.map((r) => `${r.principal_id}→${r.event_id}`).sort(),
      credentials: credentials.map((r) => `${r.credential_id}→${r.event_id}`).sort(),
    };
  };

  const expected = (ids: Map<string, string>) => ({
    principals: [
      `${A}→${ids.get('token.issued')}`,
      `${Y}→${ids.get('token.exchanged')}`,
      `${U}→${ids.get('token.exchanged')}`,
      `${A}→${ids.get('token.exchanged')}`,
      `${X}→${ids.get('token.exchanged')}`,
      `${U}→${ids.get('principal.disabled')}`,
      `${T}→${ids.get('principal.disabled')}`,
    ].sort(),
    credentials: [`${C}→${ids.get('token.issued')}`],
  });

  it('every principal an event names and its credential; on SQLite built after the commit, on PostgreSQL in it', async () => {
    const conn = connection();
    const { tenantId, ids } = await setup(conn);
    if (conn.kind === 'sqlite') {
      assert.deepEqual(await lookups(conn, tenantId), { principals: [], credentials: [] });
      assert.equal(await indexPendingAuditEvents(conn.db, conn.kind), 4);
    }
    assert.deepEqual(await lookups(conn, tenantId), expected(ids));
    assert.equal(await indexPendingAuditEvents(conn.db, conn.kind), 0);
    const chains = await conn.db.selectFrom('audit_chains').select(['head_seq', 'indexed_seq']).where('tenant_id', '=', tenantId).where('head_seq', '>', 0).execute();
    assert.deepEqual(chains.map((c) => [Number(c.head_seq), Number(c.indexed_seq)]), [[4, 4]]);
  });

  it('indexing a range again (a crash between commit and index, or another process) adds nothing twice', async () => {
    const conn = connection();
    const { tenantId, ids } = await setup(conn);
    await indexPendingAuditEvents(conn.db, conn.kind);
    await conn.db.updateTable('audit_chains').set({ indexed_seq: 0 }).where('tenant_id', '=', tenantId).execute();
    assert.equal(await indexPendingAuditEvents(conn.db, conn.kind), 4);
    assert.deepEqual(await lookups(conn, tenantId), expected(ids));
  });

  it('a filtered read right after the commit finds the event, before any indexing pass', async () => {
    const conn = connection();
    const { tenantId, ids } = await setup(conn);
    const found = async (filter: Parameters<typeof auditQuery.list>[3]) =>
      (await auditQuery.list(conn.db, conn.kind, tenantId, filter, { limit: 10 })).items.map((e) => e.type).sort();
    assert.deepEqual(await found({ credential: C }), ['token.issued']);
    assert.deepEqual(await found({ principal: X }), ['token.exchanged']);
    assert.deepEqual(await found({ principal: A }), ['token.exchanged', 'token.issued']);
    assert.deepEqual(await found({ actor: A, credential: C }), ['token.issued']);
    assert.deepEqual(await found({ principal: T, type: 'principal.*' }), ['principal.disabled']);
    assert.deepEqual(await found({ credential: newId() }), []);
    assert.ok(ids.size === 4);
  });

  it('the background indexer first catches up every chain (a crashed process’s too), then only its own', async () => {
    const conn = connection();
    const { tenantId } = await newTrail(conn);
    const writer = () => new AuditWriter({ db: conn.db, dbKind: conn.kind, sqlite: conn.sqlite, log: silent, clock: Date.now, writerId: newId() });
    const crashed = writer();
    const live = writer();
    const event = (actorId: string): AuditEventInput => ({ tenantId, type: 'token.issued', outcome: 'success', actorId });
    const indexed = async (actorId: string) =>
      (await conn.db.selectFrom('audit_event_principals').select('event_id').where('tenant_id', '=', tenantId).where('principal_id', '=', actorId).execute()).length;
    const [P1, P2, P3] = [newId(), newId(), newId()];
    await crashed.record(event(P1));
    const indexer = new AuditIndexer({ db: conn.db, dbKind: conn.kind, log: silent, everyEvents: 1_000_000, intervalMs: 3_600_000, ownChains: () => live.chainIds() });
    try {
      await indexer.kick();
      assert.equal(await indexed(P1), 1);
      await crashed.record(event(P2));
      await live.record(event(P3));
      await indexer.kick();
      assert.equal(await indexed(P3), 1);
      // Another process's chain is left to that process, or to the next read or start that needs it.
      assert.equal(await indexed(P2), conn.kind === 'sqlite' ? 0 : 1);
    } finally {
      await indexer.stop();
      await indexPendingAuditEvents(conn.db, conn.kind);
    }
  });

  it('indexes in passes of at most the given size, each chain from where it stopped', async () => {
    const conn = connection();
    const { tenantId, ids } = await setup(conn);
    if (conn.kind === 'sqlite') {
      assert.equal(await indexPass(conn.db, conn.kind, { tenantId: newId() }), 0);
      assert.equal(await indexPass(conn.db, conn.kind, { tenantId, maxEvents: 3 }), 3);
      assert.equal(await indexPass(conn.db, conn.kind, { maxEvents: 3 }), 1);
    }
    assert.deepEqual(await lookups(conn, tenantId), expected(ids));
  });

  it('catching up more than one pass lets the event loop run between passes, and indexes everything', async () => {
    const conn = connection();
    const { tenantId } = await newTrail(conn);
    const writer = new AuditWriter({ db: conn.db, dbKind: conn.kind, sqlite: conn.sqlite, log: silent, clock: Date.now, writerId: newId() });
    const events = PASS_EVENTS + 100;
    await Promise.all(Array.from({ length: events }, () => writer.record({ tenantId, type: 'token.issued', outcome: 'success', actorId: A, credentialId: C })));
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    assert.equal(await indexPendingAuditEvents(conn.db, conn.kind, { tenantId }), conn.kind === 'sqlite' ? events : 0);
    // SQLite answers synchronously: only a yield between passes lets other work (requests) in.
    if (conn.kind === 'sqlite') assert.equal(turned, true);
    const count = async (table: 'audit_event_principals' | 'audit_event_credentials') =>
      Number((await conn.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
    assert.equal(await count('audit_event_principals'), events);
    assert.equal(await count('audit_event_credentials'), events);
  });
});
