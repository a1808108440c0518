// Runs inside a child process pinned to the server core: Signet's own audit writer (hashing,
// per-tenant chains, group commit, prepared appends) and lookup indexer on a fresh SQLite database, fed token-shaped
// events as fast as it commits them, with a bounded number waiting. Prints one JSON line.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [signetDir, dataFile, secondsArg, windowArg] = process.argv.slice(2);
const dist = (p) => pathToFileURL(join(signetDir, 'dist', p)).href;
const { connect } = await import(dist('db/connect.js'));
const { AuditWriter } = await import(dist('audit/writer.js'));
const { AuditIndexer, AUDIT_INDEX_CADENCE } = await import(dist('audit/indexer.js'));
const { newId } = await import(dist('crypto/ids.js'));
const { pino } = await import('pino');

// As the server opens it: WAL checkpoints on a thread of their own.
const conn = await connect({ kind: 'sqlite', file: dataFile }, { backgroundCheckpoints: { onError: (m) => process.stderr.write(`checkpoint failed: ${m}\n`) } });
const writer = new AuditWriter({ db: conn.db, dbKind: 'sqlite', sqlite: conn.sqlite, writeGate: conn.checkpointer?.writeGate, log: pino({ level: 'silent' }), clock: Date.now, writerId: newId() });
// As the server runs it: the principal and credential lookups built behind the commits.
const indexer = new AuditIndexer({ db: conn.db, dbKind: 'sqlite', log: pino({ level: 'silent' }), ...AUDIT_INDEX_CADENCE, ownChains: () => writer.chainIds() });
writer.onCommit((events) => indexer.committed(events));
const tenants = [newId(), newId()];
const clients = Array.from({ length: 50 }, () => newId());
let n = 0;
const event = () => {
  n += 1;
  const client = clients[n % clients.length];
  return {
    tenantId: tenants[n % tenants.length],
    type: 'token.issued',
    outcome: 'success',
    actorId: client,
    actorKind: 'service',
    clientId: client,
    credentialId: client,
    credentialType: 'secret',
    resource: 'api://bench',
    jti: newId(),
    source: { ip: '127.0.0.1', userAgent: 'bench', requestId: newId() },
    data: { grantType: 'client_credentials', authMethod: 'client_secret_basic', roles: ['read'], scope: null, expiresAt: 1_900_000_000 },
  };
};

const seconds = Number(secondsArg);
const window = Number(windowArg);
let committed = 0;
const cpu0 = process.cpuUsage();
const start = performance.now();
const end = start + seconds * 1000;
await new Promise((resolve, reject) => {
  let inFlight = 0;
  const pump = () => {
    while (inFlight < window && performance.now() < end) {
      inFlight += 1;
      writer.record(event()).then(() => {
        inFlight -= 1;
        committed += 1;
        if (performance.now() < end) pump();
        else if (inFlight === 0) resolve();
      }, reject);
    }
  };
  pump();
});
// Counted until every committed event is in the lookups too.
await indexer.stop();
const elapsed = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0);
await conn.close();
process.stdout.write(JSON.stringify({ events: committed, seconds: elapsed, eventsPerSecond: committed / elapsed, cpuMicrosPerEvent: (cpu.user + cpu.system) / committed }) + '\n');
