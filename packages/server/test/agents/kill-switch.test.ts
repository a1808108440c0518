import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createSignet, type Signet } from '../../src/main.js';
import { addSecret, adminOf, createPrincipal, createTenant, expectStatus, grant, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { runCli } from '../cli/fake-server.js';
import { backends } from '../contract/backends.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { basicAuth, LENIENT_THROTTLE, type TokenResponse } from '../oauth/helpers.js';
import { createAgent, createBlueprint, mintToken } from './helpers.js';

/** The promise: within one second of the disable call returning, every node refuses the principal. */
const BOUND_MS = 1000;

async function post(url: string, form: Record<string, string>, auth: string): Promise<TokenResponse> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** One probe's view of the kill switch, in ms relative to the disable call returning. */
interface Probe {
  /** When the last request that still got a token / an active answer was sent (negative: before the call returned). */
  lastGrantedSent: number;
  /** When the first refused request was sent, and when its answer arrived: the measured latency. */
  firstRefusedSent: number;
  firstRefusedAnswered: number;
}

/**
 * Polls each probe back to back from before `stop` is called until it reports the principal
 * stopped. Send times bracket when the change reached the node independently of how long a request
 * takes on a loaded machine; answer times are the end-to-end latency.
 */
async function measure(stop: () => Promise<void>, probes: Record<string, () => Promise<boolean>>): Promise<Record<string, Probe>> {
  let stopping = false;
  let stoppedAt = Infinity;
  // Three request streams per probe, so send times are dense even when each request is slow.
  const running = Object.entries(probes).map(async ([name, probe]) => {
    const streams = await Promise.all([0, 1, 2].map(() => stream(name, probe)));
    const byRefusal = [...streams].sort((x, y) => x.firstRefusedSent - y.firstRefusedSent);
    const first = byRefusal[0] as Probe;
    return [name, { firstRefusedSent: first.firstRefusedSent, firstRefusedAnswered: Math.min(...streams.map((x) => x.firstRefusedAnswered)), lastGrantedSent: Math.max(...streams.map((x) => x.lastGrantedSent)) }] as const;
  });
  async function stream(name: string, probe: () => Promise<boolean>): Promise<Probe> {
    let lastGranted = -Infinity;
    for (;;) {
      const sent = performance.now();
      const stopped = await probe();
      const answered = performance.now();
      if (stopped && !stopping) assert.fail(`${name} was refused before the kill switch`);
      if (stopped) {
        await until(() => stoppedAt !== Infinity);
        return { lastGrantedSent: lastGranted - stoppedAt, firstRefusedSent: sent - stoppedAt, firstRefusedAnswered: Math.max(0, answered - stoppedAt) };
      }
      lastGranted = sent;
      if (answered - stoppedAt > 10 * BOUND_MS) throw new Error(`${name} still not refused after ${answered - stoppedAt} ms`);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  stopping = true;
  await stop();
  stoppedAt = performance.now();
  return Object.fromEntries(await Promise.all(running));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

const round = (probes: Record<string, Probe>) =>
  Object.fromEntries(Object.entries(probes).map(([name, p]) => [name, { lastGrantedSent: Math.round(p.lastGrantedSent), firstRefusedSent: Math.round(p.firstRefusedSent), answered: Math.round(p.firstRefusedAnswered) }]));

/**
 * The guarantee: no request sent more than the bound after the disable call returned was granted
 * (a token, or an active introspection). Send times, not answer times: on a loaded machine one
 * request can take longer than the bound by itself.
 */
function assertBound(probes: Record<string, Probe>): void {
  for (const [name, p] of Object.entries(probes)) assert.ok(p.lastGrantedSent <= BOUND_MS, `${name}: a request sent ${p.lastGrantedSent} ms after the disable returned was granted`);
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
      // Every refused probe is a failed client authentication: the brute-force throttle must not step in.
      const nodeA = await startTestServer({ ...LENIENT_THROTTLE, ...(database ? { SIGNET_DATABASE_URL: database.url } : {}) });
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
          ...LENIENT_THROTTLE,
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
      // The user's consent for the chain's root (the agent) that the derived token rests on.
      expectStatus(await a.call('POST', `/tenants/${tenant.name}/consents`, { client: agent.id, resource, scopes: ['view'], user: user.id }), 201);
      const derived = await mintToken(a, tenant, user.id, { aud: resource, client_id: downstream.id, scope: 'view', act: { sub: downstream.id, act: { sub: agent.id } } });
      const inactiveAtB = async (token: string) => (await post(`${issuerB}/oauth2/introspect`, { token }, basicAuth(rs.id, rsSecret))).body.active === false;
      assert.equal(await inactiveAtB(derived), false, 'the derived token is active before the stop');
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
      t.diagnostic(`ms after the disable returned: ${JSON.stringify(round(elapsed))}`);
      assert.equal(nextAtA, true);
      assertBound(elapsed);
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
      t.diagnostic(`sponsor: ${JSON.stringify(round(bySponsor))}; cli: ${JSON.stringify(round(byCli))}`);
      assertBound(bySponsor);
      assertBound(byCli);
    });
  });
}
