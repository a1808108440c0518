import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyAuditRetention } from '../../src/audit/retention.js';
import { verifyDatabase } from '../../src/audit/verify-source.js';
import type { Connection } from '../../src/db/connect.js';
import { runMaintenance } from '../../src/maintenance.js';
import { type Admin, createPrincipal, createTenant, expectError, expectStatus, startAdmin, type TenantView } from '../admin/helpers.js';
import { describeEachBackend } from '../contract/backends.js';
import { clockAt, DAY, failing, newTrail, standardTrail, unsealed } from './trail-fixture.js';

function scenario(title: string, body: (conn: Connection) => Promise<void>): void {
  describeEachBackend(`audit retention: ${title}`, (conn) => {
    it(title, () => body(conn()));
  });
}

async function seqs(conn: Connection, chain: string): Promise<number[]> {
  const rows = await conn.db.selectFrom('audit_events').select('seq').where('chain_id', '=', chain).orderBy('seq').execute();
  return rows.map((r) => r.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

scenario('deletes whole sealed segments older than the tenant’s retention, with their principal rows; the rest still verifies', async (conn) => {
  const { trail, chain } = await standardTrail(conn, { retentionDays: 30 });
  const principalRows = async (seqFrom: number, seqTo: number) => {
    const ids = conn.db.selectFrom('audit_events').select('id').where('chain_id', '=', chain).where('seq', '>=', seqFrom).where('seq', '<=', seqTo);
    const row = await conn.db.selectFrom('audit_event_principals').select((eb) => eb.fn.countAll<number>().as('n')).where('event_id', 'in', ids).executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const deletedIds = (await conn.db.selectFrom('audit_events').select('id').where('chain_id', '=', chain).where('seq', '<=', 25).execute()).map((r) => r.id);
  assert.ok((await principalRows(1, 25)) > 0);
  trail.clock.advance(31 * DAY);
  await trail.write(5);
  await trail.seal();

  const done = await applyAuditRetention(conn.db, conn.kind, trail.clock.now());
  assert.deepEqual(done, [{ tenantId: trail.tenantId, chainId: chain, throughSeq: 25, deleted: 25 }]);
  assert.deepEqual(await seqs(conn, chain), range(26, 33));
  const left = await conn.db.selectFrom('audit_event_principals').select('event_id').where('event_id', 'in', deletedIds).execute();
  assert.deepEqual(left, []);
  assert.ok((await principalRows(26, 33)) > 0);

  const report = await trail.verify();
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.deepEqual(report.findings, []);
  // Running again deletes nothing more.
  assert.deepEqual(await applyAuditRetention(conn.db, conn.kind, trail.clock.now()), []);
});

scenario('never deletes unsealed events, however old', async (conn) => {
  const trail = await newTrail(conn, { retentionDays: 1 });
  await trail.write(6);
  trail.clock.advance(10 * DAY);
  assert.deepEqual(await applyAuditRetention(conn.db, conn.kind, trail.clock.now()), []);
  assert.deepEqual(await seqs(conn, await trail.chainId()), range(1, 6));
  assert.deepEqual(unsealed(await trail.verify()), [{ kind: 'unsealed', seq: 1, toSeq: 6, count: 6 }]);
});

scenario('stops at the last boundary a checkpoint older than the cutoff sealed, even when later events are old', async (conn) => {
  const trail = await newTrail(conn, { retentionDays: 30 });
  await trail.write(10);
  await trail.seal();
  await trail.write(10);
  trail.clock.advance(31 * DAY);
  // Events 11–20 are 31 days old, but the checkpoint that seals them is new.
  await trail.seal();
  const chain = await trail.chainId();
  assert.deepEqual(await applyAuditRetention(conn.db, conn.kind, trail.clock.now()), [{ tenantId: trail.tenantId, chainId: chain, throughSeq: 10, deleted: 10 }]);
  assert.deepEqual(await seqs(conn, chain), range(11, 20));
  assert.deepEqual((await trail.verify()).findings, []);
});

scenario('applies each tenant’s own retention', async (conn) => {
  const clock = clockAt();
  const short = await newTrail(conn, { retentionDays: 7, clock });
  const long = await newTrail(conn, { retentionDays: 90, clock });
  await short.write(3);
  await long.write(4);
  await short.seal();
  clock.advance(8 * DAY);
  const done = await applyAuditRetention(conn.db, conn.kind, clock.now());
  assert.deepEqual(
    done.map((d) => [d.tenantId, d.throughSeq]),
    [[short.tenantId, 3]],
  );
  assert.deepEqual(await seqs(conn, await short.chainId()), []);
  assert.deepEqual(await seqs(conn, await long.chainId()), range(1, 4));
  // A chain retention emptied entirely is explained by its old checkpoint.
  const report = await verifyDatabase(conn.db, { now: clock.now() });
  assert.deepEqual(failing(report), []);
});

scenario('a chain emptied before its retention is due is reported deleted', async (conn) => {
  const trail = await newTrail(conn, { retentionDays: 30 });
  await trail.write(4);
  await trail.seal();
  const chain = await trail.chainId();
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 1, toSeq: 4 }]);
  // …also when the store's chain row is gone: the checkpoint still names the chain.
  await conn.db.deleteFrom('audit_chains').where('id', '=', chain).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 1, toSeq: 4 }]);
  trail.clock.advance(31 * DAY);
  assert.deepEqual(failing(await trail.verify()), []);
});

scenario('does not cut a chain at a record that no longer matches its checkpoint', async (conn) => {
  const trail = await newTrail(conn, { retentionDays: 1 });
  await trail.write(5);
  await trail.seal();
  const chain = await trail.chainId();
  await conn.db.updateTable('audit_events').set({ hash: 'tampered' }).where('chain_id', '=', chain).where('seq', '=', 5).execute();
  trail.clock.advance(2 * DAY);
  assert.deepEqual(await applyAuditRetention(conn.db, conn.kind, trail.clock.now()), []);
  assert.deepEqual(await seqs(conn, chain), range(1, 5));
});

scenario('deletes a backlog in steps that each end at a sealed head, and stops before a record that no longer matches its checkpoint', async (conn) => {
  const trail = await newTrail(conn, { retentionDays: 30 });
  for (let i = 0; i < 4; i += 1) {
    await trail.write(10);
    await trail.seal();
  }
  const chain = await trail.chainId();
  trail.clock.advance(31 * DAY);
  // The record ending the third step (seq 30) no longer has the hash its checkpoint sealed.
  await conn.db.updateTable('audit_events').set({ hash: 'tampered' }).where('chain_id', '=', chain).where('seq', '=', 30).execute();
  const lookupRows = async (throughSeq?: number) => {
    let query = conn.db.selectFrom('audit_event_principals').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', trail.tenantId);
    if (throughSeq !== undefined) query = query.where('event_id', 'in', conn.db.selectFrom('audit_events').select('id').where('chain_id', '=', chain).where('seq', '<=', throughSeq));
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const before = await lookupRows();
  const ofFirstTwenty = await lookupRows(20);
  assert.ok(ofFirstTwenty >= 20);

  // With one step to the largest sealed head (40) the whole backlog, the tampered record with it, would go.
  assert.deepEqual(await applyAuditRetention(conn.db, conn.kind, trail.clock.now(), { stepEvents: 10 }), [
    { tenantId: trail.tenantId, chainId: chain, throughSeq: 20, deleted: 20 },
  ]);
  assert.deepEqual(await seqs(conn, chain), range(21, 40));
  // Exactly the deleted events' lookup rows went.
  assert.equal(await lookupRows(), before - ofFirstTwenty);
  assert.deepEqual(
    failing(await trail.verify()).map((f) => [f.kind, f.seq]),
    [
      ['altered', 30],
      ['head_mismatch', 30],
    ],
  );
});

describe('audit retention through maintenance and the tenant settings', () => {
  let a: Admin;
  before(async () => {
    a = await startAdmin({ SIGNET_AUDIT_SEAL_SECONDS: '3600' });
  });
  after(() => a.close());

  it('defaults to 90 days and accepts 1 to 3650', async () => {
    const tenant = await createTenant(a);
    assert.equal(tenant.settings.auditRetentionDays, 90);
    for (const bad of [0, 3651, '30']) expectError(await a.call('PATCH', `/tenants/${tenant.name}`, { settings: { auditRetentionDays: bad } }), 400, 'invalid_request');
    const updated = expectStatus(await a.call<TenantView>('PATCH', `/tenants/${tenant.name}`, { settings: { auditRetentionDays: 3650 } }), 200);
    assert.equal(updated.settings.auditRetentionDays, 3650);
  });

  it('runMaintenance deletes the due sealed events of a tenant and the install still verifies', async () => {
    const signet = a.s.signet;
    const tenant = await createTenant(a, { settings: { auditRetentionDays: 1 } });
    await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'Orders worker' });
    await signet.auditTrail.writer.drain();
    await signet.auditTrail.sealer.seal();
    const ids = async () => (await signet.deps.db.selectFrom('audit_events').select('id').where('tenant_id', '=', tenant.id).execute()).map((r) => r.id);
    const sealed = await ids();
    assert.ok(sealed.length >= 2);
    a.s.advance(2 * DAY);
    await runMaintenance(signet.deps);
    // What maintenance itself recorded (key rotation) is new; everything sealed two days ago is gone.
    const left = await ids();
    assert.deepEqual(left.filter((id) => sealed.includes(id)), []);
    const report = await verifyDatabase(signet.deps.db, { now: a.s.now() });
    assert.deepEqual(failing(report), []);
  });
});
