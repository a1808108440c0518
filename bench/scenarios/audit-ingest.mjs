// Audit ingest (issue 3): sustained events per second through Signet's own audit writer on the
// embedded default — SHA-256 chain hashing, group commit, every index — in a process pinned to the
// server core. Median of the rounds. Token-path cost of the audit is in scenario 1 (audit on/off).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../lib/stats.mjs';
import { spawnNode } from '../lib/procs.mjs';

const WORKER = new URL('../lib/audit-ingest-worker.mjs', import.meta.url).pathname;

export async function auditIngest(ctx) {
  const seconds = ctx.quick ? 3 : 10;
  const rounds = ctx.quick ? 1 : 3;
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const logFile = ctx.logFile(`audit-ingest-${round}`);
    const dir = ctx.tempDir(`audit-ingest-${round}`);
    mkdirSync(dir, { recursive: true });
    const child = spawnNode([WORKER, ctx.signetDir, join(dir, 'audit.db'), String(seconds), '4096'], { role: 'server', logFile });
    const { code } = await child.exitPromise;
    if (code !== 0) throw new Error(`audit ingest worker exited ${code}; log: ${logFile}`);
    const line = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => l.startsWith('{')).pop();
    results.push(JSON.parse(line));
    ctx.log(`  round ${round + 1}: ${Math.round(results.at(-1).eventsPerSecond).toLocaleString('en')} events/s, ${results.at(-1).cpuMicrosPerEvent.toFixed(1)} µs CPU/event`);
  }
  return {
    rounds: results,
    eventsPerSecond: median(results.map((r) => r.eventsPerSecond)),
    cpuMicrosPerEvent: median(results.map((r) => r.cpuMicrosPerEvent)),
  };
}
