// A large directory for the memory and listing scenarios.
//
// Creating principals through the admin API runs at a few hundred per second on this machine
// (each is a transaction with its audit event), so 100,000 would take minutes. Instead the
// principals are written straight into Signet's SQLite file while Signet is stopped, the way
// principalStore.insert writes them (packages/server/src/principals/store.ts): one `principals`
// row each, kind `service`, status `active`, UUIDv7 id, epoch-ms timestamps, no sponsors (services
// have none). No audit events are written for them (the audit trail is hash-chained; forging rows
// into it would be wrong): the report says so.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startSignet, setupBench } from './signet.mjs';

/** UUIDv7 strings that sort in creation order: ms timestamp, 12-bit sequence, 62 random bits. */
export function uuidv7Sequence(startMs) {
  let i = 0;
  return () => {
    const ms = startMs + Math.floor(i / 4096);
    const seq = i % 4096;
    i += 1;
    const b = randomBytes(16);
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (seq >> 8);
    b[7] = seq & 0xff;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

/** Inserts `count` service principals into the default tenant of a stopped Signet's SQLite file. */
export function insertPrincipals(signetDir, dataDir, count) {
  const Database = createRequire(join(signetDir, 'package.json'))('better-sqlite3');
  const db = new Database(join(dataDir, 'signet.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const tenant = db.prepare("SELECT id FROM tenants WHERE name = 'default'").get();
    if (!tenant) throw new Error('the default tenant does not exist (start Signet once first)');
    const insert = db.prepare(
      'INSERT INTO principals (id, tenant_id, kind, display_name, description, status, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const started = process.hrtime.bigint();
    const now = Date.now();
    const nextId = uuidv7Sequence(now - Math.ceil(count / 4096) - 1000);
    const batch = db.transaction((from, to) => {
      for (let i = from; i < to; i++) insert.run(nextId(), tenant.id, 'service', `bench-principal-${String(i).padStart(6, '0')}`, null, 'active', now, now, null);
    });
    for (let from = 0; from < count; from += 10_000) batch(from, Math.min(count, from + 10_000));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const total = db.prepare('SELECT count(*) AS n FROM principals WHERE tenant_id = ?').get(tenant.id).n;
    return { seconds, rowsPerSecond: count / seconds, totalPrincipals: total, tenantId: tenant.id };
  } finally {
    db.close();
  }
}

/**
 * The shared large-directory fixture: Signet's bench setup (plus `burstClients` extra clients
 * with secrets and grants, created through the admin API) and `count` more principals written
 * directly. Built once per run; scenarios start their own Signet on a copy-free shared data dir,
 * one after the other.
 */
export function largeDirectory(ctx) {
  return ctx.fixture('large-directory', async () => {
    const { principals, burstClients } = ctx.settings.directory;
    const dataDir = ctx.tempDir('large-directory');
    ctx.log(`  building the large directory: ${burstClients} clients through the admin API, then ${principals.toLocaleString('en')} principals into SQLite`);
    const signet = await startSignet(ctx, { dataDir, name: 'signet-directory-setup' });
    let bench;
    const apiStarted = process.hrtime.bigint();
    try {
      bench = await setupBench(signet, { extraSecretClients: burstClients });
    } finally {
      await signet.stop();
    }
    const apiSeconds = Number(process.hrtime.bigint() - apiStarted) / 1e9;
    const inserted = insertPrincipals(ctx.signetDir, dataDir, principals);
    ctx.log(`  inserted ${principals.toLocaleString('en')} principals in ${inserted.seconds.toFixed(1)} s (${Math.round(inserted.rowsPerSecond).toLocaleString('en')} rows/s); ${inserted.totalPrincipals.toLocaleString('en')} in the tenant`);
    return {
      dataDir,
      bench: { secretClient: bench.secretClient, keyClient: bench.keyClient, extraClients: bench.extraClients },
      inserted: principals,
      totalPrincipals: inserted.totalPrincipals,
      insertSeconds: inserted.seconds,
      insertRowsPerSecond: inserted.rowsPerSecond,
      apiSetupSeconds: apiSeconds,
      apiWrites: 7 + 3 * burstClients,
      method: 'direct SQLite insert (better-sqlite3) while Signet was stopped; no audit events for these rows',
    };
  });
}
