/** Who holds the gate: nobody, the event loop (an audit group commit) or the checkpointing thread (a WAL restart). */
export const GATE_FREE = 0;
export const GATE_EVENT_LOOP = 1;
export const GATE_THREAD = 2;

/** Longest the event loop waits for the thread before committing anyway (SQLite's busy handler then waits, as without the gate). */
const MAX_WAIT_MS = 1000;

/**
 * Keeps the event loop's audit commits and the checkpointing thread's WAL restarts apart without
 * blocking the event loop. A RESTART checkpoint holds SQLite's write lock for its copy and fsync
 * (≈ 10–40 ms); a commit that met it used to sleep in SQLite's busy handler, and the whole event
 * loop with it. Now the thread takes this gate first and a commit waits for it asynchronously, so
 * requests keep being served and their events join the next commit.
 *
 * One Int32 in shared memory: the thread takes it with compareExchange and waits with
 * Atomics.wait (it may block); the event loop takes it with compareExchange and waits with
 * Atomics.waitAsync (it must not). Only audit group commits take it on the event loop; other
 * writes there are rare (directory changes) and still meet a restart in SQLite's busy handler.
 */
export class WriteGate {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly cell = new Int32Array(this.buffer);

  /**
   * Takes the gate for the event loop, waiting (asynchronously) while it is held. Resolves to
   * whether it was taken: after MAX_WAIT_MS it gives up (a thread that died holding it must not
   * stop every audit commit) and the commit goes ahead without it.
   */
  async acquire(): Promise<boolean> {
    const deadline = performance.now() + MAX_WAIT_MS;
    for (;;) {
      const holder = Atomics.compareExchange(this.cell, 0, GATE_FREE, GATE_EVENT_LOOP);
      if (holder === GATE_FREE) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const waiting = Atomics.waitAsync(this.cell, 0, holder, left);
      if (!waiting.async) continue;
      // A pending waitAsync does not keep Node's event loop alive by itself.
      const alive = setTimeout(() => undefined, left + 100);
      await waiting.value;
      clearTimeout(alive);
    }
  }

  /** Releases the event loop's hold. */
  release(): void {
    if (Atomics.compareExchange(this.cell, 0, GATE_EVENT_LOOP, GATE_FREE) === GATE_EVENT_LOOP) Atomics.notify(this.cell, 0);
  }

  /** Frees the gate whoever holds it: the thread has exited and can no longer release it. */
  reset(): void {
    Atomics.store(this.cell, 0, GATE_FREE);
    Atomics.notify(this.cell, 0);
  }
}
