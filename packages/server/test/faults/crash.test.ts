import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordHash } from '../../src/audit/chain.js';
import { auditStore } from '../../src/audit/store.js';
import { connect } from '../../src/db/connect.js';
import { run } from '../../src/cli/index.js';
import type { Io } from '../../src/cli/output.js';
import { backends } from '../contract/backends.js';
import { freePort } from '../helpers/server.js';

const CLI = new URL('../../src/cli/index.ts', import.meta.url).pathname;

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

function startProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}

for (const backend of backends()) {
  describe(`a SIGKILL loses no acknowledged token event [${backend.kind}]`, { skip: backend.skip || undefined }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signet-crash-'));
    const masterKey = randomBytes(32).toString('hex');
    let env: Record<string, string>;
    let url: string;
    let drop: (() => Promise<void>) | undefined;
    let child: ChildProcess | undefined;

    before(async () => {
      if (backend.unavailable) throw new Error(backend.unavailable);
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      const database = backend.createDatabase ? await backend.createDatabase() : undefined;
      drop = database?.drop;
      env = {
        SIGNET_PORT: String(port),
        SIGNET_PUBLIC_URL: url,
        SIGNET_DATA_DIR: dataDir,
        SIGNET_MASTER_KEY: masterKey,
        SIGNET_LOG_LEVEL: 'error',
        SIGNET_CLIENT_AUTH_FAILURE_LIMIT: '1000000',
        ...(database ? { SIGNET_DATABASE_URL: database.url } : {}),
      };
    });
    after(async () => {
      child?.kill('SIGKILL');
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('every token a client received before the kill has its token.issued event after restart, and every chain is whole', async () => {
      child = startProcess(env);
      await waitHealthy(url, child);
      const admin = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8'));
      const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const adminToken = ((await (await fetch(admin.token_endpoint, { method: 'POST', headers: { ...form, authorization: basic(admin.client_id, admin.client_secret) }, body: `grant_type=client_credentials&scope=${encodeURIComponent(admin.scope)}` })).json()) as { access_token: string }).access_token;
      const api = async (path: string, body: unknown): Promise<Record<string, string>> =>
        (await (await fetch(`${admin.admin_api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, string>;
      await api('/tenants/default/resources', { identifier: 'api://orders', displayName: 'Orders', roles: [{ name: 'orders.read', description: 'Read' }] });
      const worker = (await api('/tenants/default/principals', { kind: 'service', displayName: 'worker' })) as { id: string };
      const secret = String((await api(`/tenants/default/principals/${worker.id}/credentials`, { type: 'secret' })).secret);
      await api('/tenants/default/grants', { principal: worker.id, resource: 'api://orders', role: 'orders.read' });

      const received: string[] = [];
      let killed = false;
      const loop = async () => {
        while (!killed) {
          try {
            const r = await fetch(admin.token_endpoint, { method: 'POST', headers: { ...form, authorization: basic(worker.id, secret) }, body: 'grant_type=client_credentials&scope=api://orders/.default' });
            if (r.status === 200) {
              const token = ((await r.json()) as { access_token: string }).access_token;
              received.push(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).jti);
            }
          } catch {
            // the connection died with the server
          }
        }
      };
      const clients = Array.from({ length: 16 }, loop);
      while (received.length < 300) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      killed = true;
      await Promise.all(clients);
      assert.ok(received.length >= 300);

      // Restart on the same store: it starts, seals what the killed process left, and serves again.
      child = startProcess(env);
      await waitHealthy(url, child);
      const again = await fetch(admin.token_endpoint, { method: 'POST', headers: { ...form, authorization: basic(worker.id, secret) }, body: 'grant_type=client_credentials&scope=api://orders/.default' });
      assert.equal(again.status, 200);
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));

      const conn = await connect(env.SIGNET_DATABASE_URL ? { kind: 'postgres', url: env.SIGNET_DATABASE_URL } : { kind: 'sqlite', file: join(dataDir, 'signet.db') });
      try {
        const tenant = await conn.db.selectFrom('tenants').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
        const events = await auditStore.list(conn.db, tenant.id, 1_000_000);
        const issued = new Set(events.filter((e) => e.type === 'token.issued').map((e) => e.jti));
        const missing = received.filter((jti) => !issued.has(jti));
        assert.deepEqual(missing, [], `${missing.length} of ${received.length} acknowledged tokens have no event`);

        const byChain = new Map<string, typeof events>();
        for (const e of events) byChain.set(e.chainId, [...(byChain.get(e.chainId) ?? []), e]);
        assert.ok(byChain.size >= 2, 'the restarted process writes a chain of its own');
        for (const chain of byChain.values()) {
          chain.sort((a, b) => a.seq - b.seq);
          chain.forEach((e, i) => {
            assert.equal(e.seq, i + 1);
            assert.equal(e.prevHash, i === 0 ? '' : chain[i - 1]?.hash);
            assert.equal(recordHash(e), e.hash);
          });
        }
        // The restarted process sealed every chain, the killed one's tail included.
        const checkpoints = await conn.db.selectFrom('audit_checkpoints').select('body').execute();
        const sealed = new Map<string, number>();
        for (const c of checkpoints) for (const h of JSON.parse(c.body).heads as { chain: string; seq: number }[]) sealed.set(h.chain, Math.max(sealed.get(h.chain) ?? 0, h.seq));
        for (const [chainId, chain] of byChain) assert.equal(sealed.get(chainId), chain.length, `chain ${chainId} is sealed to its head`);
      } finally {
        await conn.close();
      }

      // And the operator's check agrees: `signet audit verify` on the same store exits 0.
      const out: string[] = [];
      const io: Io = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env, cwd: process.cwd() };
      const code = await run(['audit', 'verify', '--json'], io);
      const report = JSON.parse(out.join('')) as { ok: boolean; findings: { kind: string }[] };
      assert.equal(code, 0, out.join(''));
      assert.equal(report.ok, true);
      assert.deepEqual(report.findings.filter((f) => f.kind !== 'unsealed'), []);
    });
  });
}
