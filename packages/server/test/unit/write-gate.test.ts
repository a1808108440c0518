import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { GATE_FREE, GATE_THREAD, WriteGate } from '../../src/db/write-gate.js';

/** A thread that takes the gate as the checkpointer does, holds it for `holdMs` (blocking), then releases it. */
function holdOnThread(gate: WriteGate, holdMs: number): Promise<void> {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const cell = new Int32Array(workerData.buffer);
    if (Atomics.compareExchange(cell, 0, ${GATE_FREE}, ${GATE_THREAD}) !== ${GATE_FREE}) throw new Error('gate busy');
    parentPort.postMessage('held');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
    Atomics.store(cell, 0, ${GATE_FREE});
    Atomics.notify(cell, 0);
  `;
  const worker = new Worker(source, { eval: true, workerData: { buffer: gate.buffer, holdMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
}

describe('write gate (event loop ⇄ checkpointing thread)', () => {
  it('while the thread holds it, the event loop waits without blocking, then takes it', async () => {
    const gate = new WriteGate();
    await holdOnThread(gate, 150);
    const started = performance.now();
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 10);
    const taken = await gate.acquire();
    clearInterval(timer);
    assert.equal(taken, true);
    assert.ok(performance.now() - started >= 100, 'it waited for the thread');
    // The event loop kept running meanwhile: a blocked loop would have fired none of these.
    assert.ok(ticks >= 5, `${ticks} timer ticks while waiting`);
    gate.release();
  });

  it('two holders on the event loop take turns', async () => {
    const gate = new WriteGate();
    assert.equal(await gate.acquire(), true);
    let second = false;
    const next = gate.acquire().then((taken) => (second = taken));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(second, false);
    gate.release();
    await next;
    assert.equal(second, true);
    gate.release();
    assert.equal(await gate.acquire(), true);
  });

  it('gives up after a second when the holder never releases it, so audit commits go on', { timeout: 5000 }, async () => {
    const gate = new WriteGate();
    Atomics.store(new Int32Array(gate.buffer), 0, GATE_THREAD);
    const started = performance.now();
    assert.equal(await gate.acquire(), false);
    assert.ok(performance.now() - started >= 990);
    // A release by a commit that did not take the gate frees nothing; a reset (the thread exited) does.
    gate.release();
    assert.equal(Atomics.load(new Int32Array(gate.buffer), 0), GATE_THREAD);
    gate.reset();
    assert.equal(await gate.acquire(), true);
  });
});
