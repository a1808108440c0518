import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { it } from 'node:test';
import { sql } from 'kysely';
import type { Connection } from '../../src/db/connect.js';
import { describeEachBackend } from '../contract/backends.js';
import { DAY, failing, forgedRow, newTrail, rehash, standardTrail, unsealed } from './trail-fixture.js';

/** Each scenario gets a database of its own: tampering must not leak into the next one. */
function scenario(title: string, body: (conn: Connection) => Promise<void>): void {
  describeEachBackend(`audit verify: ${title}`, (conn) => {
    it(title, () => body(conn()));
  });
}

const SEALED_TAIL = [{ kind: 'unsealed', seq: 26, toSeq: 28, count: 3 }];

scenario('a clean trail verifies, with the events after the last checkpoint counted as unsealed', async (conn) => {
  const { trail } = await standardTrail(conn);
  const report = await trail.verify();
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.deepEqual(failing(report), []);
  assert.deepEqual(unsealed(report), SEALED_TAIL);
  assert.equal(report.stats.events, 28);
  assert.equal(report.stats.unsealedEvents, 3);
  assert.equal(report.stats.validCheckpoints, 3);
  // Scoped to the tenant, the same.
  assert.deepEqual((await trail.verify({ tenant: trail.tenantId })).findings, report.findings);
});

scenario('several writers and tenants verify, each chain on its own', async (conn) => {
  const a = await standardTrail(conn);
  const b = await newTrail(conn);
  const c = await newTrail(conn, { tenantId: a.trail.tenantId, clock: a.trail.clock });
  await b.write(4);
  await c.write(6);
  await b.seal();
  await c.seal();
  await c.write(2);
  const report = await a.trail.verify();
  assert.deepEqual(failing(report), []);
  assert.equal(report.stats.chains, 3);
  // b's first checkpoint sealed every chain (a new process seals what others left unsealed).
  assert.deepEqual(unsealed(report), [{ kind: 'unsealed', seq: 7, toSeq: 8, count: 2 }]);
});

scenario('an edited field of one event is reported altered at that seq', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.updateTable('audit_events').set({ source_ip: '203.0.113.9' }).where('chain_id', '=', chain).where('seq', '=', 7).execute();
  const report = await trail.verify();
  assert.equal(report.ok, false);
  assert.deepEqual(failing(report), [{ kind: 'altered', seq: 7 }]);
  assert.equal(report.findings[0]?.id, (await trail.event(7)).id);
  assert.deepEqual(unsealed(report), SEALED_TAIL);
});

scenario('edited data text and an edited unsealed event are altered too', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  const row = await trail.event(12);
  await conn.db.updateTable('audit_events').set({ data: row.data.replace('"reader"', '"admin"') }).where('id', '=', row.id).execute();
  await conn.db.updateTable('audit_events').set({ outcome: 'failure' }).where('chain_id', '=', chain).where('seq', '=', 27).execute();
  assert.deepEqual(failing(await trail.verify()), [
    { kind: 'altered', seq: 12 },
    { kind: 'altered', seq: 27 },
  ]);
});

scenario('an event rewritten with a recomputed hash is altered (its successor links another hash)', async (conn) => {
  const { trail } = await standardTrail(conn);
  const row = rehash({ ...(await trail.event(14)), resource: 'api://innocent' });
  await conn.db.updateTable('audit_events').set({ resource: row.resource, hash: row.hash }).where('id', '=', row.id).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'altered', seq: 14 }]);
});

scenario('a sealed head rewritten with a recomputed hash is a head mismatch', async (conn) => {
  const { trail } = await standardTrail(conn);
  const row = rehash({ ...(await trail.event(20)), resource: 'api://innocent' });
  await conn.db.updateTable('audit_events').set({ resource: row.resource, hash: row.hash }).where('id', '=', row.id).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'head_mismatch', seq: 20 }]);
});

scenario('one event deleted in the middle is reported deleted at exactly that seq', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '=', 15).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 15, toSeq: 15 }]);
});

scenario('a run of deleted events is one deleted range', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '>=', 9).where('seq', '<=', 12).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 9, toSeq: 12 }]);
});

scenario('the sealed tail deleted, chain head rolled back too: the checkpointed seqs are deleted', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '>=', 24).execute();
  const head = await trail.event(23);
  await conn.db.updateTable('audit_chains').set({ head_seq: 23, head_hash: head.hash }).where('id', '=', chain).execute();
  const report = await trail.verify();
  assert.deepEqual(failing(report), [{ kind: 'deleted', seq: 24, toSeq: 25 }]);
  assert.match(report.findings[0]?.detail ?? '', /checkpoint/);
});

scenario('the unsealed tail deleted: the chain head in the store still names it', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '>=', 24).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 24, toSeq: 28 }]);
});

scenario('a sealed tail replaced by forged events that link correctly: head mismatch at the sealed head', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '>=', 21).execute();
  let prev = (await trail.event(20)).hash;
  for (let seq = 21; seq <= 25; seq++) {
    const row = forgedRow({ tenant_id: trail.tenantId, chain_id: chain, seq, prev_hash: prev, time: trail.clock.now() });
    await conn.db.insertInto('audit_events').values(row).execute();
    prev = row.hash;
  }
  await conn.db.updateTable('audit_chains').set({ head_seq: 25, head_hash: prev }).where('id', '=', chain).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'head_mismatch', seq: 25 }]);
});

scenario('a forged event appended with a correct link but backdated is inserted', async (conn) => {
  const { trail, chain, checkpoints } = await standardTrail(conn);
  const last = await trail.event(28);
  const row = forgedRow({ tenant_id: trail.tenantId, chain_id: chain, seq: 29, prev_hash: last.hash, time: (checkpoints[0]?.time ?? 0) - DAY });
  await conn.db.insertInto('audit_events').values(row).execute();
  await conn.db.updateTable('audit_chains').set({ head_seq: 29, head_hash: row.hash }).where('id', '=', chain).execute();
  const report = await trail.verify();
  assert.deepEqual(failing(report), [{ kind: 'inserted', seq: 29 }]);
  assert.equal(report.findings.find((f) => f.kind === 'inserted')?.id, row.id);
  assert.deepEqual(unsealed(report), SEALED_TAIL);
});

scenario('a forged event with a wrong link after the sealed head is inserted', async (conn) => {
  const trail = await newTrail(conn);
  await trail.write(5);
  await trail.seal();
  const chain = await trail.chainId();
  const row = forgedRow({ tenant_id: trail.tenantId, chain_id: chain, seq: 6, prev_hash: 'not-the-head', time: trail.clock.now() });
  await conn.db.insertInto('audit_events').values(row).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'inserted', seq: 6 }]);
});

scenario('a forged event in a chain the store does not know is inserted', async (conn) => {
  const { trail } = await standardTrail(conn);
  const row = forgedRow({ tenant_id: trail.tenantId, chain_id: 'forged-chain', seq: 1, prev_hash: '', time: trail.clock.now() - DAY });
  await conn.db.insertInto('audit_events').values(row).execute();
  const report = await trail.verify({ tenant: trail.tenantId });
  assert.deepEqual(failing(report), [{ kind: 'inserted', seq: 1, toSeq: 1 }]);
  assert.equal(report.findings.find((f) => f.kind === 'inserted')?.chain, 'forged-chain');
});

scenario('an unsealed event older than a later checkpoint of its writer is inserted', async (conn) => {
  const trail = await newTrail(conn);
  const other = await newTrail(conn, { clock: trail.clock });
  await trail.write(3);
  await trail.seal();
  await other.write(2);
  trail.clock.advance(60_000);
  await other.seal();
  // A chain of `trail`'s writer, backdated before its checkpoint, that no checkpoint names.
  const chain = 'forged-registered-chain';
  await conn.db.insertInto('audit_chains').values({ id: chain, tenant_id: trail.tenantId, writer_id: trail.writerId, created_at: 0, head_seq: 1, head_hash: 'x', indexed_seq: 0 }).execute();
  const row = forgedRow({ tenant_id: trail.tenantId, chain_id: chain, seq: 1, prev_hash: '', time: trail.clock.now() - DAY });
  await conn.db.insertInto('audit_events').values(row).execute();
  await conn.db.updateTable('audit_chains').set({ head_hash: row.hash }).where('id', '=', chain).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'inserted', seq: 1 }]);
});

scenario('an event replaced by a forgery that fits neither neighbour is inserted', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '=', 12).execute();
  const row = forgedRow({ tenant_id: trail.tenantId, chain_id: chain, seq: 12, prev_hash: 'made-up', time: trail.clock.now() });
  await conn.db.insertInto('audit_events').values(row).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'inserted', seq: 12 }]);
});

async function swapSeq(conn: Connection, chain: string, a: number, b: number): Promise<void> {
  // (chain_id, seq) is unique: move one out of the way first.
  const move = (from: number, to: number) => conn.db.updateTable('audit_events').set({ seq: to }).where('chain_id', '=', chain).where('seq', '=', from).execute();
  await move(a, -1);
  await move(b, a);
  await move(-1, b);
}

scenario('two adjacent events with swapped seq are reordered', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  const [five, six] = [await trail.event(5), await trail.event(6)];
  await swapSeq(conn, chain, 5, 6);
  const report = await trail.verify();
  assert.deepEqual(failing(report), [
    { kind: 'reordered', seq: 5 },
    { kind: 'reordered', seq: 6 },
  ]);
  assert.deepEqual(
    report.findings.filter((f) => f.kind === 'reordered').map((f) => f.id),
    [six.id, five.id],
  );
});

scenario('two distant events with swapped seq are reordered', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await swapSeq(conn, chain, 3, 8);
  assert.deepEqual(failing(await trail.verify()), [
    { kind: 'reordered', seq: 3 },
    { kind: 'reordered', seq: 8 },
  ]);
});

scenario('swapping the last sealed event with an unsealed one is reordered', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  await swapSeq(conn, chain, 27, 28);
  assert.deepEqual(failing(await trail.verify()), [
    { kind: 'reordered', seq: 27 },
    { kind: 'reordered', seq: 28 },
  ]);
});

scenario('a checkpoint deleted in the middle is reported missing', async (conn) => {
  const { trail, checkpoints } = await standardTrail(conn);
  const k2 = checkpoints[1]?.id ?? '';
  await conn.db.deleteFrom('audit_checkpoints').where('id', '=', k2).execute();
  const report = await trail.verify();
  assert.deepEqual(failing(report), [{ kind: 'checkpoint_missing', id: k2 }]);
  assert.match(report.findings[0]?.detail ?? '', new RegExp(checkpoints[2]?.id ?? '-'));
});

scenario('a tampered checkpoint body is invalid', async (conn) => {
  const { trail, checkpoints } = await standardTrail(conn);
  const k2 = checkpoints[1]?.id ?? '';
  const row = await conn.db.selectFrom('audit_checkpoints').selectAll().where('id', '=', k2).executeTakeFirstOrThrow();
  await conn.db.updateTable('audit_checkpoints').set({ body: row.body.replace('"seq":20', '"seq":19') }).where('id', '=', k2).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'checkpoint_invalid', id: k2 }]);
});

scenario('a checkpoint body re-hashed after tampering is still invalid (signature, and the next checkpoint’s link)', async (conn) => {
  const { trail, checkpoints } = await standardTrail(conn);
  const k2 = checkpoints[1]?.id ?? '';
  const row = await conn.db.selectFrom('audit_checkpoints').selectAll().where('id', '=', k2).executeTakeFirstOrThrow();
  const body = row.body.replace('"seq":20', '"seq":19');
  const { sha256 } = await import('../../src/audit/chain.js');
  await conn.db.updateTable('audit_checkpoints').set({ body, hash: sha256(body) }).where('id', '=', k2).execute();
  const report = await trail.verify();
  assert.deepEqual(failing(report), [{ kind: 'checkpoint_invalid', id: k2 }]);
  assert.match(report.findings[0]?.detail ?? '', /signature.*recorded/);
});

scenario('a checkpoint with another checkpoint’s signature is invalid', async (conn) => {
  const { trail, checkpoints } = await standardTrail(conn);
  const [k1, k2] = [checkpoints[0]?.id ?? '', checkpoints[1]?.id ?? ''];
  const one = await conn.db.selectFrom('audit_checkpoints').select('signature').where('id', '=', k1).executeTakeFirstOrThrow();
  await conn.db.updateTable('audit_checkpoints').set({ signature: one.signature }).where('id', '=', k2).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'checkpoint_invalid', id: k2 }]);
});

scenario('verifying with the wrong public key: every checkpoint is invalid', async (conn) => {
  const { trail, checkpoints } = await standardTrail(conn);
  const wrong = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  await conn.db.updateTable('audit_keys').set({ public_jwk: JSON.stringify({ ...wrong, kid: trail.key.kid }) }).execute();
  const report = await trail.verify();
  assert.deepEqual(
    failing(report),
    checkpoints.map((c) => ({ kind: 'checkpoint_invalid', id: c.id })).sort((a, b) => (a.id < b.id ? -1 : 1)),
  );
  // Nothing is sealed without a valid checkpoint.
  assert.deepEqual(unsealed(report), [{ kind: 'unsealed', seq: 1, toSeq: 28, count: 28 }]);
});

scenario('retention: a sealed prefix deleted when due verifies; the same deletion before it is due is deleted', async (conn) => {
  const { trail, chain } = await standardTrail(conn, { retentionDays: 30 });
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '<=', 20).execute();
  const early = await trail.verify();
  assert.deepEqual(failing(early), [{ kind: 'deleted', seq: 1, toSeq: 20 }]);
  assert.match(early.findings[0]?.detail ?? '', /30-day retention/);
  trail.clock.advance(31 * DAY);
  const due = await trail.verify();
  assert.deepEqual(failing(due), []);
  assert.deepEqual(unsealed(due), SEALED_TAIL);
});

scenario('retention: a prefix deleted past a sealed boundary is deleted from that boundary', async (conn) => {
  const { trail, chain } = await standardTrail(conn, { retentionDays: 30 });
  trail.clock.advance(31 * DAY);
  // Seq 1–20 may go; 21–22 are not at a sealed boundary.
  await conn.db.deleteFrom('audit_events').where('chain_id', '=', chain).where('seq', '<=', 22).execute();
  assert.deepEqual(failing(await trail.verify()), [{ kind: 'deleted', seq: 21, toSeq: 22 }]);
});

scenario('an event moved to the end of its chain is reordered; one moved to another tenant is altered', async (conn) => {
  const { trail, chain } = await standardTrail(conn);
  const other = await newTrail(conn, { clock: trail.clock });
  await sql`update audit_events set seq = 100 where chain_id = ${chain} and seq = 4`.execute(conn.db);
  await conn.db.updateTable('audit_events').set({ tenant_id: other.tenantId }).where('chain_id', '=', chain).where('seq', '=', 9).execute();
  const report = await trail.verify();
  assert.deepEqual(failing(report), [
    { kind: 'altered', seq: 9 },
    { kind: 'reordered', seq: 100 },
  ]);
  assert.match(report.findings.find((f) => f.kind === 'reordered')?.detail ?? '', /made for seq 4/);
});
