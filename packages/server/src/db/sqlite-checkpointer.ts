import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { GATE_EVENT_LOOP, GATE_FREE, GATE_THREAD, WriteGate } from './write-gate.js';

export interface CheckpointResult {
  /** Frames in the WAL when the checkpoint ran. */
  log: number;
  /** Frames copied back into the database file (so far, in total). */
  checkpointed: number;
  /** Whether this checkpoint also restarted the WAL (it had reached `restartBytes` and the RESTART got through). */
  restarted: boolean;
}

export interface SqliteCheckpointer {
  /** Called after each checkpoint (tests, metrics). */
  onCheckpoint(listener: (result: CheckpointResult) => void): void;
  /** Taken by the thread for a WAL restart; audit commits on the event loop take it too (write-gate.ts). */
  writeGate: WriteGate;
  /** Runs a last checkpoint and stops the thread. */
  close(): Promise<void>;
}

/**
 * The checkpointing thread's code. A PASSIVE checkpoint copies committed WAL frames into the
 * database file and fsyncs it without blocking the writer; a failing checkpoint is retried at the
 * next tick (the WAL only grows meanwhile, and the writer's own fallback bounds it).
 *
 * A busy writer never lets the WAL start over by itself: SQLite rewinds it only when a write
 * begins with every frame already copied back, and a passive checkpoint always trails the commits
 * made while it runs. So once the WAL reaches `restartBytes` the thread follows its passive
 * checkpoint with a RESTART one, which copies the few frames committed meanwhile, holding writes
 * back for that long (≈ 15 ms here, mostly the fsync), so the next write rewinds the WAL. It never
 * waits for the writer or for readers: one that cannot get through returns at once, and the next
 * attempt comes four ticks later. It takes the write gate first (waiting up to 20 ms for an audit
 * commit in progress), so audit commits wait for it asynchronously instead of in SQLite's busy
 * handler, which used to stall the event loop for as long as the restart took.
 * Otherwise the WAL grew to the writer's fallback threshold and the writer checkpointed on the
 * event loop, then cut the file back to its size limit there: a 100–180 ms stall every few
 * seconds at 1,400 single-event commits/s.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const gate = new Int32Array(workerData.gate);
const { FREE, EVENT_LOOP, THREAD } = workerData.holders;
// The write gate (write-gate.ts): taken unless an audit commit holds it beyond a short wait.
const takeGate = () => {
  if (Atomics.compareExchange(gate, 0, FREE, THREAD) === FREE) return true;
  Atomics.wait(gate, 0, EVENT_LOOP, 20);
  return Atomics.compareExchange(gate, 0, FREE, THREAD) === FREE;
};
const releaseGate = () => {
  Atomics.store(gate, 0, FREE);
  Atomics.notify(gate, 0);
};
const pageSize = db.pragma('page_size', { simple: true });
// Ticks to skip after a RESTART that could not get through (the writer busy, or a reader still on the WAL).
let backoff = 0;
const run = () => {
  try {
    let [row] = db.pragma('wal_checkpoint(PASSIVE)');
    let restarted = false;
    if (row.log * pageSize >= workerData.restartBytes && (backoff -= 1) < 0) {
      // Never wait: a RESTART holds writers back while it waits for readers, and a reader may be
      // the event loop's own transaction, paused at an await until its next write gets through.
      if (takeGate()) {
        db.pragma('busy_timeout = 0');
        try {
          [row] = db.pragma('wal_checkpoint(RESTART)');
        } finally {
          db.pragma('busy_timeout = 1000');
          releaseGate();
        }
        restarted = row.busy === 0;
      }
      backoff = restarted ? 0 : 4;
    }
    parentPort.postMessage({ log: row.log, checkpointed: row.checkpointed, restarted });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  run();
  db.close();
  parentPort.close();
});
`;

/**
 * Moves SQLite's WAL checkpoints off the event loop. With automatic checkpoints, the commit that
 * crosses the threshold copies the WAL into the database file and waits for two fsyncs, stalling
 * every request behind it; a thread with its own connection does that work instead, and the
 * writer keeps a much larger automatic threshold only as a fallback should the thread fall behind.
 */
export function startSqliteCheckpointer(file: string, opts: { intervalMs: number; restartBytes: number; onError: (message: string) => void }): SqliteCheckpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const writeGate = new WriteGate();
  const workerData = { file, module, intervalMs: opts.intervalMs, restartBytes: opts.restartBytes, gate: writeGate.buffer, holders: { FREE: GATE_FREE, EVENT_LOOP: GATE_EVENT_LOOP, THREAD: GATE_THREAD } };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  // The thread must not keep a finished process alive.
  worker.unref();
  const listeners: ((result: CheckpointResult) => void)[] = [];
  worker.on('message', (message: CheckpointResult | { error: string }) => {
    if ('error' in message) opts.onError(message.error);
    else for (const listener of listeners) listener(message);
  });
  worker.on('error', (error) => opts.onError(error.message));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      // A thread gone while holding the gate can never release it.
      writeGate.reset();
      resolve();
    }),
  );
  let closing: Promise<void> | undefined;
  return {
    onCheckpoint: (listener) => listeners.push(listener),
    writeGate,
    // Idempotent: a second close (or one after the thread died) resolves with the first.
    close: () => {
      closing ??= (async () => {
        // Held open until the last checkpoint is done.
        worker.ref();
        worker.postMessage('close');
        await exited;
      })();
      return closing;
    },
  };
}
