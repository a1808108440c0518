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
});
