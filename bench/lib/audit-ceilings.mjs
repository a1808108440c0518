// What bounds audit ingest, measured apart (a diagnostic, not part of `npm run bench`):
//   storage-rows  the event rows alone: prepared INSERTs, 2,000 per transaction (a saturated group commit)
//   storage       the rows and the principal/credential lookups (the indexer's own SQL, one pass per commit)
//   writer-js     Signet's AuditWriter with every statement of its group commit skipped: hashing, canonical
//                 encoding, ids, rows, promises and GC, and the benchmark's own event generator
// Storage modes use Signet's migrated schema and pre-built rows (no JS per event but the loop); WAL
// checkpoints run on their thread as in the server. Usage (pin with taskset to compare cores):
//   node bench/lib/audit-ceilings.mjs <packages/server> <fresh .db path> <mode> [events]
// Prints one JSON line: events/s, and CPU µs per event for the whole process.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';

const [signetDir, dataFile, mode, eventsArg] = process.argv.slice(2);
const events = Number(eventsArg ?? 200_000);
const dist = (p) => pathToFileURL(join(signetDir, 'dist', p)).href;
const { connect } = await import(dist('db/connect.js'));
const { chainRangeLookups } = await import(dist('audit/indexer.js'));
const { AuditWriter } = await import(dist('audit/writer.js'));
const { newId } = await import(dist('crypto/ids.js'));
const { pino } = await import('pino');

const conn = await connect({ kind: 'sqlite', file: dataFile }, { backgroundCheckpoints: { onError: (m) => process.stderr.write(`checkpoint failed: ${m}\n`) } });
const tenants = [newId(), newId()];
const clients = Array.from({ length: 50 }, () => newId());
const BATCH = 2000;

function measure(run) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  return Promise.resolve(run()).then(() => {
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { mode, events, eventsPerSecond: Math.round(events / seconds), cpuMicrosPerEvent: Number(((cpu.user + cpu.system) / events).toFixed(1)) };
  });
}

let result;
if (mode === 'storage-rows' || mode === 'storage') {
  const db = conn.sqlite;
  const chains = [newId(), newId()];
  const addChain = db.prepare('INSERT INTO audit_chains (id, tenant_id, writer_id, created_at, head_seq, head_hash, indexed_seq) VALUES (?, ?, ?, ?, 0, ?, 0)');
  chains.forEach((id, t) => addChain.run(id, tenants[t], 'ceilings', Date.now(), ''));
  const columns = ['id', 'tenant_id', 'chain_id', 'seq', 'prev_hash', 'hash', 'time', 'type', 'outcome', 'actor_id', 'actor_kind', 'subject_id', 'client_id', 'credential_id', 'credential_type', 'resource', 'jti', 'target_type', 'target_id', 'source_ip', 'user_agent', 'request_id', 'data'];
  const insert = db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  const { principals, credentials } = chainRangeLookups('sqlite', sql.raw('@chain'), sql.raw('@from'), sql.raw('@to'));
  const indexPrincipals = db.prepare(sql`INSERT INTO audit_event_principals (tenant_id, principal_id, event_id) ${principals} ON CONFLICT DO NOTHING`.compile(conn.db).sql);
  const indexCredentials = db.prepare(sql`INSERT INTO audit_event_credentials (tenant_id, credential_id, event_id) ${credentials} ON CONFLICT DO NOTHING`.compile(conn.db).sql);
  const data = JSON.stringify({ grantType: 'client_credentials', authMethod: 'client_secret_basic', roles: ['read'], scope: null, expiresAt: 1_900_000_000 });
  const hash = () => randomUUID().replaceAll('-', '').padEnd(43, 'h');
  const rows = Array.from({ length: events }, (_, i) => {
    const client = clients[i % clients.length];
    return [newId(), tenants[i % 2], chains[i % 2], Math.floor(i / 2) + 1, hash(), hash(), Date.now(), 'token.issued', 'success', client, 'service', null, client, client, 'secret', 'api://bench', randomUUID(), null, null, '127.0.0.1', 'bench', randomUUID(), data];
  });
  result = await measure(() => {
    for (let from = 0; from < events; from += BATCH) {
      const to = Math.min(from + BATCH, events);
      db.exec('BEGIN IMMEDIATE');
      for (let i = from; i < to; i++) insert.run(rows[i]);
      db.exec('COMMIT');
      if (mode !== 'storage') continue;
      db.exec('BEGIN IMMEDIATE');
      // Each chain's events so far: chain t holds the events i with i % 2 = t, seq = floor(i / 2) + 1.
      for (let t = 0; t < 2; t++) {
        const range = { chain: chains[t], from: Math.floor((from + 1 - t) / 2), to: Math.floor((to + 1 - t) / 2) };
        indexPrincipals.run(range);
        indexCredentials.run(range);
      }
      db.exec('COMMIT');
    }
  });
  const count = (table) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
  result.stored = { events: count('audit_events'), principals: count('audit_event_principals'), credentials: count('audit_event_credentials') };
} else if (mode === 'writer-js') {
  const writer = new AuditWriter({ db: conn.db, dbKind: 'sqlite', sqlite: conn.sqlite, log: pino({ level: 'silent' }), clock: Date.now, writerId: newId() });
  // The group commit's statements are skipped; everything the writer does around them still runs.
  const appender = writer.appender;
  appender.transaction = async (work) => work();
  appender.append = () => undefined;
  appender.setHead = () => undefined;
  let n = 0;
  const event = () => {
    n += 1;
    const client = clients[n % clients.length];
    return {
      tenantId: tenants[n % 2], type: 'token.issued', outcome: 'success', actorId: client, actorKind: 'service', clientId: client, credentialId: client, credentialType: 'secret', resource: 'api://bench', jti: newId(),
      source: { ip: '127.0.0.1', userAgent: 'bench', requestId: newId() },
      data: { grantType: 'client_credentials', authMethod: 'client_secret_basic', roles: ['read'], scope: null, expiresAt: 1_900_000_000 },
    };
  };
  result = await measure(async () => {
    for (let from = 0; from < events; from += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, events - from) }, () => writer.record(event())));
  });
} else {
  throw new Error(`mode must be storage-rows, storage or writer-js, not ${mode}`);
}
await conn.close();
process.stdout.write(JSON.stringify(result) + '\n');
