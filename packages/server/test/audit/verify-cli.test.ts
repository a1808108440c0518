import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordHash } from '../../src/audit/chain.js';
import type { ExportedEvent, ExportLine } from '../../src/audit/export-format.js';
import type { VerifyReport } from '../../src/audit/verify.js';
import { run } from '../../src/cli/index.js';
import { connect, type Connection } from '../../src/db/connect.js';
import { adminClient, createTenant, startAdmin, type Admin } from '../admin/helpers.js';
import { describeEachBackend } from '../contract/backends.js';
import { failing, standardTrail, type Trail, unsealed, writeExport } from './trail-fixture.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function signet(args: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    cwd: tmpdir(),
  });
  return { code, stdout, stderr };
}

function readLines(file: string): ExportLine[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ExportLine);
}

function writeLines(file: string, lines: ExportLine[]): void {
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

const isEvent = (l: ExportLine, seq: number): l is ExportedEvent => l.kind === 'event' && l.seq === seq;

describeEachBackend('signet audit verify --file (offline, an NDJSON export)', (conn) => {
  let dir = '';
  let trail: Trail;
  let file = '';
  let keyFile = '';
  let lines: ExportLine[] = [];
  const verifyFile = (f = file, extra: string[] = []) => signet(['audit', 'verify', '--file', f, '--public-key', keyFile, ...extra]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signet-verify-'));
    ({ trail } = await standardTrail(conn()));
    file = join(dir, 'export.ndjson');
    keyFile = join(dir, 'audit-key.json');
    writeFileSync(keyFile, JSON.stringify(trail.key.publicJwk));
    lines = await writeExport(conn().db, trail.tenantId, file, { exportedAt: trail.clock.now() });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a clean export verifies: exit 0, a line per finding and a summary', async () => {
    const r = await verifyFile();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.stderr, '');
    const out = r.stdout.trim().split('\n');
    assert.match(out[0] ?? '', /^unsealed +chain \S+ seq 26-28: 3 event\(s\) after the last checkpoint/);
    assert.match(out[1] ?? '', /^OK: 1 chain\(s\), 28 event\(s\), 3 checkpoint\(s\) \(3 valid\); 3 event\(s\) not yet sealed$/);
  });

  it('--json prints the report', async () => {
    const r = await signet(['--json', 'audit', 'verify', '--file', file, '--public-key', keyFile]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.equal(report.ok, true);
    assert.deepEqual(unsealed(report), [{ kind: 'unsealed', seq: 26, toSeq: 28, count: 3 }]);
  });

  it('an edited event: exit 1 and the altered seq', async () => {
    const tampered = join(dir, 'edited.ndjson');
    writeLines(
      tampered,
      lines.map((l) => (isEvent(l, 11) ? { ...l, resource: 'api://elsewhere' } : l)),
    );
    const r = await signet(['--json', 'audit', 'verify', '--file', tampered, '--public-key', keyFile]);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(JSON.parse(r.stdout) as VerifyReport), [{ kind: 'altered', seq: 11 }]);
    assert.equal(r.stderr, 'error: audit_verification_failed: the audit trail does not verify: 1 finding(s)\n');
    const text = await verifyFile(tampered);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^altered +chain \S+ seq 11 event \S+: content does not match its hash$/m);
    assert.match(text.stdout, /^FAILED: 1 altered; 1 chain\(s\), 28 event\(s\)/m);
  });

  it('a forged line for an existing seq (hashed correctly) is inserted; a removed line is deleted', async () => {
    const forgedFile = join(dir, 'forged.ndjson');
    const twelve = lines.find((l) => isEvent(l, 12)) as ExportedEvent;
    const forged = { ...twelve, id: 'forged-id', resource: 'api://forged' };
    forged.hash = recordHash(forged);
    writeLines(forgedFile, [...lines.filter((l) => l.kind !== 'checkpoint'), forged, ...lines.filter((l) => l.kind === 'checkpoint')]);
    const r = await signet(['--json', 'audit', 'verify', '--file', forgedFile, '--public-key', keyFile]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.deepEqual(failing(report), [{ kind: 'inserted', seq: 12 }]);
    assert.equal(report.findings[0]?.id, 'forged-id');

    const removedFile = join(dir, 'removed.ndjson');
    writeLines(
      removedFile,
      lines.filter((l) => !isEvent(l, 17)),
    );
    const removed = await signet(['--json', 'audit', 'verify', '--file', removedFile, '--public-key', keyFile]);
    assert.equal(removed.code, 1);
    assert.deepEqual(failing(JSON.parse(removed.stdout) as VerifyReport), [{ kind: 'deleted', seq: 17, toSeq: 17 }]);
  });

  it('events in any order in the file verify the same', async () => {
    const shuffled = join(dir, 'shuffled.ndjson');
    const [header, ...rest] = lines;
    writeLines(shuffled, [header as ExportLine, ...rest.reverse()]);
    assert.equal((await verifyFile(shuffled)).code, 0);
  });

  it('a partial export (since) verifies without its prefix', async () => {
    const since = join(dir, 'since.ndjson');
    const eleven = lines.find((l) => isEvent(l, 11)) as ExportedEvent;
    await writeExport(conn().db, trail.tenantId, since, { since: eleven.time, exportedAt: trail.clock.now() });
    const r = await signet(['--json', 'audit', 'verify', '--file', since, '--public-key', keyFile]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal((JSON.parse(r.stdout) as VerifyReport).stats.events, 18);
  });

  it('the wrong public key: exit 1, every checkpoint invalid', async () => {
    const wrongKey = join(dir, 'wrong.json');
    writeFileSync(wrongKey, JSON.stringify({ keys: [generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })] }));
    const r = await signet(['--json', 'audit', 'verify', '--file', file, '--public-key', wrongKey]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.deepEqual(
      failing(report).map((f) => f.kind),
      ['checkpoint_invalid', 'checkpoint_invalid', 'checkpoint_invalid'],
    );
  });

  it('usage and input errors exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['audit', 'verify', '--file', file], /^error: usage: --file needs --public-key/],
      [['audit', 'verify', '--file', file, '--public-key', keyFile, '--database'], /^error: usage: --file and --database exclude each other/],
      [['audit', 'verify', '--file', file, '--public-key', keyFile, '--tenant', 'x'], /^error: usage: --tenant applies to --database/],
      [['audit', 'verify', '--file', file, '--public-key', keyFile, '--retention-days', '0'], /^error: usage: --retention-days/],
      [['audit', 'verify', '--public-key', keyFile], /^error: usage: --public-key and --retention-days apply to --file/],
      [['audit', 'verify', '--bogus'], /^error: usage: unknown option '--bogus'/],
      [['audit', 'verify', '--file', join(dir, 'missing.ndjson'), '--public-key', keyFile], /^error: verify_error: cannot read .*missing\.ndjson/],
      [['audit', 'verify', '--file', file, '--public-key', join(dir, 'missing.json')], /^error: verify_error: cannot read the public key file/],
    ];
    for (const [args, stderr] of cases) {
      const r = await signet(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, stderr);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    }
    const malformed = join(dir, 'malformed.ndjson');
    writeFileSync(malformed, readFileSync(file, 'utf8').replace(/\n/, '\n{not json\n'));
    const r = await verifyFile(malformed);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: verify_error: line 2: not JSON/);
    assert.equal((await signet(['audit', 'verify', '--help'])).code, 0);
  });
});

describe('signet audit verify --database', () => {
  let dir = '';
  let conn: Connection;
  let trail: Trail;
  let env: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signet-verify-db-'));
    const file = join(dir, 'signet.db');
    conn = await connect({ kind: 'sqlite', file });
    ({ trail } = await standardTrail(conn));
    env = { SIGNET_DATABASE_URL: `sqlite:${file}`, SIGNET_DATA_DIR: dir };
  });
  after(async () => {
    await conn.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the database of the environment (no master key needed), all tenants or one', async () => {
    const all = await signet(['audit', 'verify'], env);
    assert.equal(all.code, 0, all.stderr + all.stdout);
    assert.match(all.stdout, /^OK: 1 chain\(s\), 28 event\(s\), 3 checkpoint\(s\) \(3 valid\); 3 event\(s\) not yet sealed$/m);
    const one = await signet(['audit', 'verify', '--database', '--tenant', trail.tenantId], env);
    assert.equal(one.code, 0, one.stderr);
    const tenantName = (await conn.db.selectFrom('tenants').select('name').where('id', '=', trail.tenantId).executeTakeFirstOrThrow()).name;
    assert.equal((await signet(['audit', 'verify', '--tenant', tenantName], env)).code, 0);
  });

  it('exit 1 on tampering, 2 when the tenant or the database does not exist', async () => {
    await conn.db.deleteFrom('audit_events').where('seq', '=', 3).execute();
    const r = await signet(['--json', 'audit', 'verify'], env);
    assert.equal(r.code, 1);
    assert.deepEqual(failing(JSON.parse(r.stdout) as VerifyReport), [{ kind: 'deleted', seq: 3, toSeq: 3 }]);

    const unknown = await signet(['audit', 'verify', '--tenant', 'nope'], env);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'error: verify_error: no tenant "nope"\n');

    const missing = await signet(['audit', 'verify'], { SIGNET_DATA_DIR: join(dir, 'nothing-here') });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: database_not_found: no database at /);
  });
});

describe('signet audit verify on a running server', () => {
  let a: Admin;
  before(async () => {
    a = await startAdmin({ SIGNET_AUDIT_SEAL_EVENTS: '7' });
  });
  after(() => a.close());

  it('tokens issued and refused, directory changes, checkpoints on the cadence: the live database verifies', async () => {
    const tenant = await createTenant(a);
    const client = await adminClient(a, tenant.name, ['tenant.reader']);
    for (let i = 0; i < 20; i++) await client.token();
    for (let i = 0; i < 3; i++) assert.equal((await a.s.token(tenant.name, client.id, 'wrong-secret', { scope: 'urn:signet:admin/.default' })).status, 401);
    await a.s.signet.auditTrail.sealer.seal();
    await client.token();
    const env = { SIGNET_DATA_DIR: a.s.dataDir };
    const r = await signet(['--json', 'audit', 'verify'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.ok(report.stats.events >= 30, JSON.stringify(report.stats));
    assert.ok(report.stats.validCheckpoints >= 2);
    assert.deepEqual(failing(report), []);
    assert.equal((await signet(['audit', 'verify', '--tenant', tenant.name], env)).code, 0);
  });
});
