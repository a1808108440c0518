// Event-loop stalls under a steady stream of single-event audit commits (a diagnostic, not part of
// `npm run bench`): the WAL is restarted by the checkpointing thread every 16 MB, and each commit
// waits for it through the write gate. Usage, on a fresh .db path:
//   node bench/lib/audit-commit-stalls.mjs <packages/server> <fresh .db path> [seconds=10] [events/s=1000]
// Prints one JSON line: restarts, event-loop delay (max, p99, p99.9) and commit latency percentiles, in ms.
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [signetDir, dataFile, secondsArg = '10', rateArg = '1000'] = process.argv.slice(2);
const dist = (p) => pathToFileURL(join(signetDir, 'dist', p)).href;
const { connect } = await import(dist('db/connect.js'));
const { AuditWriter } = await import(dist('audit/writer.js'));
const { newId } = await import(dist('crypto/ids.js'));
const { pino } = await import('pino');

const conn = await connect({ kind: 'sqlite', file: dataFile }, { backgroundCheckpoints: { restartBytes: 16 * 1024 * 1024, onError: (m) => process.stderr.write(`checkpoint failed: ${m}\n`) } });
let restarts = 0;
conn.checkpointer.onCheckpoint((r) => (restarts += r.restarted ? 1 : 0));
const writer = new AuditWriter({ db: conn.db, dbKind: 'sqlite', sqlite: conn.sqlite, writeGate: conn.checkpointer.writeGate, log: pino({ level: 'silent' }), clock: Date.now, writerId: newId() });
const tenant = newId();
const client = newId();
// A token event with a larger payload than usual, so that the WAL fills in seconds.
const event = () => ({
  tenantId: tenant, type: 'token.issued', outcome: 'success', actorId: client, actorKind: 'service', clientId: client, credentialId: client, credentialType: 'secret', resource: 'api://bench', jti: newId(),
  source: { ip: '127.0.0.1', userAgent: 'bench', requestId: newId() }, data: { grantType: 'client_credentials', roles: ['read'], expiresAt: 1_900_000_000, pad: 'x'.repeat(600) },
});

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const latencies = [];
const end = performance.now() + Number(secondsArg) * 1000;
let events = 0;
await new Promise((resolve) => {
  const tick = () => {
    if (performance.now() >= end) return resolve();
    const started = performance.now();
    events += 1;
    writer.record(event()).then(() => latencies.push(performance.now() - started));
    setTimeout(tick, 1000 / Number(rateArg));
  };
  tick();
});
await writer.drain();
loop.disable();
latencies.sort((a, b) => a - b);
const ms = (ns) => Number((ns / 1e6).toFixed(1));
const at = (q) => Number(latencies[Math.floor(q * (latencies.length - 1))].toFixed(1));
process.stdout.write(JSON.stringify({ events, restarts, loopMaxMs: ms(loop.max), loopP99Ms: ms(loop.percentile(99)), loopP999Ms: ms(loop.percentile(99.9)), commitP50Ms: at(0.5), commitP99Ms: at(0.99), commitP999Ms: at(0.999), commitMaxMs: at(1) }) + '\n');
await conn.close();
