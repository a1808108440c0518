/**
 * Audit query benchmark: fills a SQLite database with synthetic audit events, prints the query
 * plan of every filter of the audit API (failing if any scans a table or a whole index), and times
 * each filter's first and second page.
 *
 *   npx tsx scripts/audit-query-bench.ts [--events 1000000] [--file /tmp/audit-bench.db] [--keep] [--runs 20]
 *
 * Not a test: it takes about a minute for a million events.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { type AuditFilter, auditQuery } from '../src/audit/query.js';
import { connect } from '../src/db/connect.js';
import type { Database } from '../src/db/schema.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    file: { type: 'string' },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string', default: '20' },
  },
});
const EVENTS = Number(args.events);
const RUNS = Number(args.runs);
const dir = args.file ? undefined : mkdtempSync(join(tmpdir(), 'signet-audit-bench-'));
const file = args.file ?? join(dir ?? '.', 'audit.db');

// A small deterministic PRNG, so two runs build the same trail.
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
/** Skewed towards the first items, as real traffic is (a few busy clients, a long tail). */
const skewed = <T>(items: readonly T[]): T => items[Math.floor(random() ** 3 * items.length)] as T;
const ids = (n: number) => Array.from({ length: n }, () => uuidv7());

const TENANT = uuidv7();
const OTHER_TENANT = uuidv7();
const PRINCIPALS = ids(10_000);
const USERS = ids(5_000);
const CREDENTIALS = ids(15_000);
const RESOURCES = Array.from({ length: 50 }, (_, i) => `api://service-${i}`);
const DIRECTORY_TYPES = [
  'principal.created', 'principal.updated', 'principal.disabled', 'principal.enabled', 'principal.deleted',
  'credential.added', 'credential.removed', 'grant.added', 'grant.removed',
  'resource.created', 'resource.updated', 'tenant.updated', 'signing_key.rotated',
] as const;

interface Synthetic {
  row: Record<string, string | number | null>;
  principals: string[];
}

function synthetic(tenantId: string, chainId: string, seq: number, time: number): Synthetic {
  const r = random();
  const id = uuidv7({ msecs: time });
  const base = { id, tenant_id: tenantId, chain_id: chainId, seq, prev_hash: randomBytes(32).toString('base64url'), hash: randomBytes(32).toString('base64url'), time };
  const source = { source_ip: `10.0.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}`, user_agent: 'bench/1.0', request_id: uuidv7() };
  if (r < 0.95) {
    const refused = r >= 0.85;
    const client = skewed(PRINCIPALS);
    const subject = random() < 0.1 ? pick(USERS) : null;
    const delegation = random() < 0.03 ? [client, pick(PRINCIPALS), ...(random() < 0.5 ? [pick(PRINCIPALS)] : [])] : undefined;
    const data = refused
      ? { grantType: 'client_credentials', error: 'invalid_scope', description: 'scope not granted', reason: 'no grant', scope: 'x' }
      : { grantType: 'client_credentials', authMethod: 'client_secret_basic', roles: ['orders.read'], scope: null, expiresAt: Math.floor(time / 1000) + 600, ...(delegation ? { delegation } : {}) };
    return {
      row: {
        ...base,
        ...source,
        type: refused ? 'token.refused' : 'token.issued',
        outcome: refused ? 'failure' : 'success',
        actor_id: client,
        actor_kind: 'service',
        subject_id: subject,
        client_id: client,
        credential_id: skewed(CREDENTIALS),
        credential_type: 'secret',
        resource: skewed(RESOURCES),
        jti: refused ? null : uuidv7(),
        target_type: null,
        target_id: null,
        data: JSON.stringify(data),
      },
      principals: [...new Set([client, ...(subject ? [subject] : []), ...(delegation ?? [])])],
    };
  }
  const type = pick(DIRECTORY_TYPES);
  const admin = pick(PRINCIPALS.slice(0, 20));
  const target = type.startsWith('principal.') ? pick(PRINCIPALS) : uuidv7();
  return {
    row: {
      ...base,
      ...source,
      type,
      outcome: 'success',
      actor_id: admin,
      actor_kind: null,
      subject_id: null,
      client_id: null,
      credential_id: null,
      credential_type: null,
      resource: null,
      jti: uuidv7(),
      target_type: type.slice(0, type.indexOf('.')),
      target_id: target,
      data: JSON.stringify({ actorTenantId: tenantId, before: null, after: { id: target } }),
    },
    principals: [...new Set([admin, ...(type.startsWith('principal.') ? [target] : [])])],
  };
}

async function fill(): Promise<void> {
  const setup = await connect({ kind: 'sqlite', file });
  await setup.close();
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF');
  const existing = (sqlite.prepare('select count(*) as n from audit_events').get() as { n: number }).n;
  if (existing > 0) {
    console.log(`using the ${existing} events already in ${file}`);
    sqlite.close();
    return;
  }
  const columns = ['id', 'tenant_id', 'chain_id', 'seq', 'prev_hash', 'hash', 'time', 'type', 'outcome', 'actor_id', 'actor_kind', 'subject_id', 'client_id', 'credential_id', 'credential_type', 'resource', 'jti', 'target_type', 'target_id', 'source_ip', 'user_agent', 'request_id', 'data'];
  const insertEvent = sqlite.prepare(`insert into audit_events (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
  const insertPrincipal = sqlite.prepare('insert into audit_event_principals (tenant_id, principal_id, event_id) values (?, ?, ?)');
  const insertCredential = sqlite.prepare('insert into audit_event_credentials (tenant_id, credential_id, event_id) values (?, ?, ?)');
  const started = performance.now();
  const end = Date.now();
  const span = 30 * 24 * 3600 * 1000;
  for (const [tenantId, count] of [[TENANT, EVENTS], [OTHER_TENANT, Math.floor(EVENTS / 10)]] as const) {
    const chainId = uuidv7();
    const step = span / count;
    const insert = sqlite.transaction((from: number, to: number) => {
      for (let i = from; i < to; i += 1) {
        const { row, principals } = synthetic(tenantId, chainId, i + 1, Math.floor(end - span + i * step));
        insertEvent.run(row);
        for (const p of principals) insertPrincipal.run(tenantId, p, row.id);
        if (row.credential_id !== null) insertCredential.run(tenantId, row.credential_id, row.id);
      }
    });
    for (let i = 0; i < count; i += 50_000) insert(i, Math.min(count, i + 50_000));
  }
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  console.log(`filled ${EVENTS} + ${EVENTS / 10} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Query plans of the statements a call issues, through a second connection that logs them. */
async function plans(filter: AuditFilter, tenantId: string): Promise<string[]> {
  const sqlite = new BetterSqlite3(file, { readonly: true });
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }), log: (event) => void statements.push({ sql: event.query.sql, parameters: event.query.parameters }) });
  await auditQuery.list(db, 'sqlite', tenantId, filter, { limit: 50 });
  const lines: string[] = [];
  for (const s of statements) {
    const rows = sqlite.prepare(`explain query plan ${s.sql}`).all(...(s.parameters as unknown[])) as { detail: string }[];
    lines.push(rows.map((r) => r.detail).join(' | '));
  }
  await db.destroy();
  return [...new Set(lines)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  if (!args.file || !existsSync(file)) console.log(`building ${EVENTS} events in ${file} …`);
  await fill();
  const conn = await connect({ kind: 'sqlite', file });
  const db = conn.db;
  const tenantId = (await db.selectFrom('audit_events').select('tenant_id').groupBy('tenant_id').orderBy((eb) => eb.fn.countAll(), 'desc').limit(1).executeTakeFirstOrThrow()).tenant_id;
  const sample = async (column: 'actor_id' | 'subject_id' | 'client_id' | 'credential_id' | 'resource', where: 'busy' | 'rare'): Promise<string> => {
    const row = await db
      .selectFrom('audit_events')
      .select(column)
      .where('tenant_id', '=', tenantId)
      .where(column, 'is not', null)
      .groupBy(column)
      .orderBy((eb) => eb.fn.countAll(), where === 'busy' ? 'desc' : 'asc')
      .limit(1)
      .executeTakeFirstOrThrow();
    return row[column] as string;
  };
  const delegated = await db
    .selectFrom('audit_events')
    .select('data')
    .where('tenant_id', '=', tenantId)
    .where('type', '=', 'token.issued')
    .where('data', 'like', '%delegation%')
    .limit(1)
    .executeTakeFirstOrThrow();
  const hop = (JSON.parse(delegated.data) as { delegation: string[] }).delegation[1] as string;
  const newest = (await db.selectFrom('audit_events').select('time').where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).time;
  const hour = 3600_000;

  const cases: [string, AuditFilter][] = [
    ['no filter', {}],
    ['type exact, common (token.issued)', { type: 'token.issued' }],
    ['type exact, rare (tenant.updated)', { type: 'tenant.updated' }],
    ['type prefix, common (token.*)', { type: 'token.*' }],
    ['type prefix, rare (principal.*)', { type: 'principal.*' }],
    ['outcome=failure', { outcome: 'failure' }],
    ['actor, busiest', { actor: await sample('actor_id', 'busy') }],
    ['actor, rarest', { actor: await sample('actor_id', 'rare') }],
    ['subject', { subject: await sample('subject_id', 'busy') }],
    ['client', { client: await sample('client_id', 'busy') }],
    ['resource', { resource: await sample('resource', 'busy') }],
    ['credential', { credential: await sample('credential_id', 'rare') }],
    ['principal anywhere (delegation hop)', { principal: hop }],
    ['principal anywhere, busiest', { principal: await sample('actor_id', 'busy') }],
    ['since/until: one hour, 10 days back', { since: newest - 10 * 24 * hour, until: newest - 10 * 24 * hour + hour }],
    ['since: last 24 h', { since: newest - 24 * hour }],
    ['type + actor', { type: 'token.refused', actor: await sample('actor_id', 'busy') }],
    ['type prefix + outcome', { type: 'token.*', outcome: 'failure' }],
    ['outcome + principal', { outcome: 'failure', principal: await sample('actor_id', 'busy') }],
    ['resource + one hour', { resource: await sample('resource', 'busy'), since: newest - 5 * 24 * hour, until: newest - 5 * 24 * hour + hour }],
    ['nothing matches (unknown actor)', { actor: uuidv7() }],
  ];

  let bad = 0;
  console.log(`\nquery plans and timings, tenant with ${EVENTS} events (median of ${RUNS} runs, limit 50)\n`);
  console.log('| filter | page 1 ms | page 2 ms | rows | plan |');
  console.log('|---|---:|---:|---:|---|');
  for (const [name, filter] of cases) {
    const plan = await plans(filter, tenantId);
    const full = plan.some((p) => /(^|\| )SCAN /.test(p));
    if (full) bad += 1;
    const first: number[] = [];
    const second: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i += 1) {
      let t = performance.now();
      const page = await auditQuery.list(db, 'sqlite', tenantId, filter, { limit: 50 });
      first.push(performance.now() - t);
      rows = page.items.length;
      if (page.nextCursor) {
        t = performance.now();
        await auditQuery.list(db, 'sqlite', tenantId, filter, { limit: 50, cursor: page.nextCursor });
        second.push(performance.now() - t);
      }
    }
    const planText = plan.length > 1 ? `${plan.length} statements (a type prefix: loose index scan + one per type; a lookup: its catch-up check first), the last: ${plan[plan.length - 1]}` : plan[0];
    console.log(`| ${name} | ${median(first).toFixed(2)} | ${second.length ? median(second).toFixed(2) : '-'} | ${rows} | ${full ? '**FULL SCAN** ' : ''}${planText} |`);
  }

  // Export and stream read paths: oldest first, in pages.
  let t = performance.now();
  let after: string | undefined;
  let exported = 0;
  for (;;) {
    const events = await auditQuery.after(db, 'sqlite', tenantId, {}, after, 1000);
    exported += events.length;
    const last = events[events.length - 1];
    if (!last || events.length < 1000) break;
    after = last.id;
  }
  const exportMs = performance.now() - t;
  console.log(`\nexport read path: ${exported} events oldest first in ${(exportMs / 1000).toFixed(1)} s (${Math.round(exported / (exportMs / 1000))} events/s)`);
  const head = await auditQuery.newestId(db, tenantId);
  const polls: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    t = performance.now();
    await auditQuery.after(db, 'sqlite', tenantId, { type: 'token.*' }, head, 500);
    polls.push(performance.now() - t);
  }
  console.log(`stream poll at the head (type=token.*, nothing new): ${median(polls).toFixed(2)} ms`);

  await conn.close();
  if (!args.keep && dir) rmSync(dir, { recursive: true, force: true });
  if (bad > 0) {
    console.error(`\n${bad} filter(s) scan a whole table or index`);
    process.exitCode = 1;
  }
}

await main();
