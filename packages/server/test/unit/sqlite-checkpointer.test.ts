import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import type { CheckpointResult } from '../../src/db/sqlite-checkpointer.js';

describe('SQLite background checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-ckpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copies committed WAL frames into the database file on its own thread, and loses nothing at close', async () => {
    const file = join(dir, 'signet.db');
    const errors: string[] = [];
    const conn = await connect({ kind: 'sqlite', file }, { backgroundCheckpoints: { intervalMs: 20, onError: (m) => errors.push(m) } });
    assert.ok(conn.checkpointer);
    assert.equal(conn.sqlite?.pragma('wal_autocheckpoint', { simple: true }), 65_536);
    const sizeBefore = statSync(file).size;
    const insert = conn.sqlite!.prepare('INSERT INTO used_jtis (tenant_id, client_id, jti, expires_at) VALUES (?, ?, ?, ?)');
    conn.sqlite!.transaction(() => {
      for (let i = 0; i < 5000; i++) insert.run('t', 'c', `jti-${i}-${'x'.repeat(100)}`, i);
    })();
    // The thread is unref'd (it never keeps a process alive): hold the loop open while waiting.
    const keepAlive = setInterval(() => undefined, 1000);
    const done = await new Promise<CheckpointResult>((resolve) =>
      conn.checkpointer!.onCheckpoint((r) => {
        if (r.log > 0 && r.checkpointed === r.log) resolve(r);
      }),
    ).finally(() => clearInterval(keepAlive));
    assert.ok(done.checkpointed > 0);
    // The pages reached the database file itself, not only the WAL.
    assert.ok(statSync(file).size > sizeBefore + 5000 * 100);
    await conn.close();
    assert.deepEqual(errors, []);

    const reopened = await connect({ kind: 'sqlite', file });
    const { count } = await reopened.db.selectFrom('used_jtis').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    assert.equal(Number(count), 5000);
    assert.equal(reopened.checkpointer, undefined);
    await reopened.close();
  });

  it('restarts the WAL of a writer that never pauses, so it stays near its limit without the writer checkpointing', { timeout: 15_000 }, async () => {
    const file = join(dir, 'busy.db');
    const errors: string[] = [];
    const restartBytes = 64 * 4096;
    const conn = await connect({ kind: 'sqlite', file }, { backgroundCheckpoints: { intervalMs: 10, restartBytes, onError: (m) => errors.push(m) } });
    const results: CheckpointResult[] = [];
    const started = new Promise<void>((resolve) =>
      conn.checkpointer!.onCheckpoint((r) => {
        results.push(r);
        resolve();
      }),
    );
    const keepAlive = setInterval(() => undefined, 1000);
    await started.finally(() => clearInterval(keepAlive));
    const insert = conn.sqlite!.prepare('INSERT INTO used_jtis (tenant_id, client_id, jti, expires_at) VALUES (?, ?, ?, ?)');
    // A commit (ten rows, several WAL frames) every millisecond or so for a second: the WAL never
    // stands still for as long as a checkpoint takes, as under a steady stream of token requests.
    const commit = conn.sqlite!.transaction((from: number) => {
      for (let i = from; i < from + 10; i++) insert.run('t', 'c', `jti-${i}`, i);
    });
    const until = Date.now() + 1000;
    for (let i = 0; Date.now() < until; i += 10) {
      commit(i);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const walBytes = statSync(`${file}-wal`).size;
    const written = (conn.sqlite!.prepare('SELECT count(*) FROM used_jtis').pluck().get() as number) / 10;
    await conn.close();
    assert.deepEqual(errors, []);
    assert.ok(results.some((r) => r.restarted), 'the thread restarted the WAL');
    // Without the restarts the WAL holds every commit's frames, five or so each (≈ 3,800 frames and
    // 15 MB after 670 commits here); with them, a few hundred frames.
    assert.ok(written > 200, `${written} commits`);
    const frames = Math.max(...results.map((r) => r.log));
    assert.ok(frames < 1_000, `the WAL held at most ${frames} frames after ${written} commits`);
    assert.ok(walBytes < 1_000 * 4096, `the WAL file is ${walBytes} bytes after ${written} commits`);
  });

  it('takes the write gate for a RESTART: none while an audit commit holds it, one once it is released', { timeout: 15_000 }, async () => {
    const file = join(dir, 'gated.db');
    const errors: string[] = [];
    const conn = await connect({ kind: 'sqlite', file }, { backgroundCheckpoints: { intervalMs: 10, restartBytes: 16 * 4096, onError: (m) => errors.push(m) } });
    const gate = conn.checkpointer!.writeGate;
    const results: CheckpointResult[] = [];
    conn.checkpointer!.onCheckpoint((r) => results.push(r));
    const insert = conn.sqlite!.prepare('INSERT INTO used_jtis (tenant_id, client_id, jti, expires_at) VALUES (?, ?, ?, ?)');
    const commitRows = conn.sqlite!.transaction((from: number) => {
      for (let i = from; i < from + 10; i++) insert.run('t', 'c', `jti-${i}-${'x'.repeat(200)}`, i);
    });
    assert.equal(await gate.acquire(), true);
    // Held (as by a commit in progress): the WAL passes the restart size, and stays there.
    let n = 0;
    const until = Date.now() + 400;
    while (Date.now() < until) {
      commitRows(n);
      n += 10;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.ok(results.some((r) => r.log * 4096 >= 16 * 4096), 'the WAL reached the restart size');
    assert.equal(results.filter((r) => r.restarted).length, 0);
    gate.release();
    const keepAlive = setInterval(() => undefined, 1000);
    await new Promise<void>((resolve) => conn.checkpointer!.onCheckpoint((r) => r.restarted && resolve())).finally(() => clearInterval(keepAlive));
    await conn.close();
    assert.deepEqual(errors, []);
  });

  // Bounded: a RESTART that waits for readers holds this test's write back, and its own retries can keep it there.
  it('never holds back a write of a transaction that paused at an await while reading (a RESTART does not wait for readers)', { timeout: 15_000 }, async () => {
    const file = join(dir, 'reader.db');
    const errors: string[] = [];
    const conn = await connect({ kind: 'sqlite', file }, { backgroundCheckpoints: { intervalMs: 10, restartBytes: 8 * 4096, onError: (m) => errors.push(m) } });
    const insert = conn.sqlite!.prepare('INSERT INTO used_jtis (tenant_id, client_id, jti, expires_at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 50; i++) insert.run('t', 'c', `before-${i}`, i);
    const waited = await conn.db.transaction().execute(async (trx) => {
      // A read opens the transaction's snapshot on the WAL; the transaction then awaits something.
      await trx.selectFrom('used_jtis').select('jti').limit(1).execute();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const started = performance.now();
      await trx.insertInto('used_jtis').values({ tenant_id: 't', client_id: 'c', jti: 'after', expires_at: 0 }).execute();
      return performance.now() - started;
    });
    await conn.close();
    assert.deepEqual(errors, []);
    // A RESTART that waited for this reader (up to its busy timeout, 1 s) held the write back that long.
    assert.ok(waited < 200, `the write waited ${Math.round(waited)} ms`);
  });
});
