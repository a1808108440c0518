import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createSignet, type Signet } from '../../src/main.js';
import { addSecret, adminOf, createPrincipal, createTenant, expectStatus, grant, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { runCli } from '../cli/fake-server.js';
import { backends } from '../contract/backends.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { basicAuth, type TokenResponse } from '../oauth/helpers.js';
import { createAgent, createBlueprint, mintToken } from './helpers.js';

/** The promise: within one second of the disable call returning, every node refuses the principal. */
const BOUND_MS = 1000;

async function post(url: string, form: Record<string, string>, auth: string): Promise<TokenResponse> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * Polls `probe` back to back from before `stop` is called until it reports the principal stopped;
 * resolves to the ms between `stop` returning and the first stopped answer arriving.
 */
async function measure(stop: () => Promise<void>, probes: Record<string, () => Promise<boolean>>): Promise<Record<string, number>> {
  let stopping = false;
  let stoppedAt: number | undefined;
  const running = Object.entries(probes).map(async ([name, probe]) => {
    for (;;) {
      const stopped = await probe();
      const now = performance.now();
      if (stopped && !stopping) assert.fail(`${name} was refused before the kill switch`);
      if (stoppedAt === undefined) {
        // Refused while the disable call was still returning: within the bound by definition.
        if (stopped) return [name, 0] as const;
        continue;
      }
      if (stopped) return [name, now - stoppedAt] as const;
      if (now - stoppedAt > 5 * BOUND_MS) throw new Error(`${name} still not refused after ${now - stoppedAt} ms`);
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  stopping = true;
  await stop();
  stoppedAt = performance.now();
  return Object.fromEntries(await Promise.all(running));
}

for (const backend of backends()) {
  describe(`kill switch across two nodes sharing one ${backend.kind} database`, { skip: backend.skip }, () => {
    let a: Admin;
    let nodeB: Signet;
    let urlB: string;
    let tenant: TenantView;
    let sponsor: PrincipalView;
    let drop: (() => Promise<void>) | undefined;
    const resource = 'api://kill-switch';

    before(async () => {
      const database = backend.createDatabase ? await backend.createDatabase() : undefined;
      drop = database?.drop;
      const nodeA = await startTestServer(database ? { SIGNET_DATABASE_URL: database.url } : {});
      a = await adminOf(nodeA);
      const configA = nodeA.signet.deps.config;
      const port = await freePort();
      urlB = `http://127.0.0.1:${port}`;
      const configB = loadConfig(
        {
          SIGNET_PORT: String(port),
          SIGNET_PUBLIC_URL: nodeA.url,
          SIGNET_DATA_DIR: `${nodeA.dataDir}/node-b`,
          SIGNET_DATABASE_URL: configA.database.kind === 'postgres' ? configA.database.url : `sqlite:${configA.database.file}`,
          SIGNET_MASTER_KEY: configA.masterKey.toString('hex'),
          SIGNET_LOG_LEVEL: 'silent',
        },
        { warn: () => undefined },
      );
      nodeB = await createSignet(configB, { maintenanceIntervalMs: 3_600_000 });
      await nodeB.app.listen({ port, host: '127.0.0.1' });
      tenant = await createTenant(a);
      sponsor = await createPrincipal(a, tenant.name, { kind: 'user' });
      expectStatus(await a.call('POST', `/tenants/${tenant.name}/resources`, { identifier: resource, displayName: 'R', roles: [{ name: 'read', description: 'r' }], scopes: [{ name: 'view', description: 'v' }] }), 201);
    });
    after(async () => {
      await nodeB?.close();
      await a?.close();
      await drop?.();
    });

    /** An agent with a secret and a role, plus a resource server to introspect with, all warmed on node B. */
    async function setUp() {
      const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: ['read'], scopes: ['view'] }] });
      const agent = await createAgent(a, tenant.name, blueprint.id, [sponsor.id]);
      await grant(a, tenant.name, agent.id, resource, 'read');
      const secret = await addSecret(a, tenant.name, agent.id);
      const rs = await createPrincipal(a, tenant.name, { kind: 'service' });
      const rsSecret = await addSecret(a, tenant.name, rs.id);
      const issuerB = `${urlB}/${tenant.name}`;
      const tokenAt = (base: string) => post(`${base}/${tenant.name}/oauth2/token`, { grant_type: 'client_credentials', scope: `${resource}/.default` }, basicAuth(agent.id, secret));
      const own = (await tokenAt(urlB)).body.access_token as string;
      assert.ok(own);
      const user = await createPrincipal(a, tenant.name, { kind: 'user' });
      // A token further down a chain that contains the agent (user → agent → downstream agent).
      const downstream = await createAgent(a, tenant.name, blueprint.id, [sponsor.id]);
      const derived = await mintToken(a, tenant, user.id, { aud: resource, client_id: downstream.id, scope: 'view', act: { sub: downstream.id, act: { sub: agent.id } } });
      const inactiveAtB = async (token: string) => (await post(`${issuerB}/oauth2/introspect`, { token }, basicAuth(rs.id, rsSecret))).body.active === false;
      const refusedAt = async (base: string) => (await tokenAt(base)).status === 401;
      return { agent, refusedAt, probes: { 'token at node B': () => refusedAt(urlB), 'token at node A': () => refusedAt(a.s.url), "agent's own token at node B": () => inactiveAtB(own), 'derived token at node B': () => inactiveAtB(derived) } };
    }

    it(`an admin's disable stops issuance and turns held and derived tokens inactive on both nodes within ${BOUND_MS} ms`, async (t) => {
      const { agent, refusedAt, probes } = await setUp();
      let nextAtA: boolean | undefined;
      const elapsed = await measure(async () => {
        expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${agent.id}/disable`), 200);
        // The node that made the change refuses the very next request it receives.
        nextAtA = await refusedAt(a.s.url);
      }, probes);
      t.diagnostic(`ms from disable returning to first refusal: ${JSON.stringify(elapsed)}`);
      assert.equal(nextAtA, true);
      for (const [probe, ms] of Object.entries(elapsed)) assert.ok(ms <= BOUND_MS, `${probe}: ${ms} ms`);
    });

    it(`a sponsor's disable, and \`signet principal disable\`, meet the same bound`, async (t) => {
      const first = await setUp();
      const bySponsor = await measure(async () => {
        expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${first.agent.id}/disable`, undefined, await mintToken(a, tenant, sponsor.id)), 200);
      }, first.probes);
      const second = await setUp();
      const byCli = await measure(async () => {
        const result = await runCli(['--json', 'principal', 'disable', second.agent.id, '--tenant', tenant.name], a.s.dataDir);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).status, 'disabled');
      }, second.probes);
      t.diagnostic(`sponsor: ${JSON.stringify(bySponsor)}; cli: ${JSON.stringify(byCli)}`);
      for (const [probe, ms] of [...Object.entries(bySponsor), ...Object.entries(byCli)]) assert.ok(ms <= BOUND_MS, `${probe}: ${ms} ms`);
    });
  });
}
