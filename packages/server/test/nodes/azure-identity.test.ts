import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type Admin, auditEvents, expectStatus, grant, startAdmin } from '../admin/helpers.js';
import { createResource, uniqueResourceId } from '../oauth/helpers.js';
import { runMaintenance } from '../../src/maintenance.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { joinToken, managedSetup, type ManagedSetup } from './helpers.js';

const WORKLOAD = new URL('./workload.ts', import.meta.url).pathname;

interface Call {
  scope: string;
  status: number;
  body?: { sub?: string; roles?: string[] };
  error?: string;
}

/** A protected API that accepts only Signet tokens: verified against the tenant's JWKS with jose. */
function resourceServer(issuer: string, audiences: Set<string>): Promise<{ server: Server; url: string }> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const audience = url.searchParams.get('audience') ?? '';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!token || !audiences.has(audience)) return reply(401, { error: 'invalid_token' });
    jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' }).then(
      ({ payload }) => (Array.isArray(payload.roles) && payload.roles.includes('orders.read') ? reply(200, { sub: payload.sub, roles: payload.roles }) : reply(403, { error: 'insufficient_scope' })),
      () => reply(401, { error: 'invalid_token' }),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** Runs the @azure/identity workload as its own process (msal-node picks its source once per process). */
function runWorkload(env: Record<string, string>, api: string, intervalMs: number, clientId: string, scopes: string[]): Promise<Call[]> {
  const clean = { ...process.env };
  for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'MSI_ENDPOINT', 'MSI_SECRET', 'IMDS_ENDPOINT', 'IDENTITY_SERVER_THUMBPRINT', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID']) delete clean[name];
  const child = spawn(process.execPath, ['--import', 'tsx', WORKLOAD, api, String(intervalMs), clientId, ...scopes], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call)) : reject(new Error(`workload exited ${code}: ${err}`))));
  });
}

describe('end to end: @azure/identity ManagedIdentityCredential, unmodified, gets Signet tokens from signet node', () => {
  let a: Admin;
  let setup: ManagedSetup;
  let daemon: RunningDaemon;
  let api: { server: Server; url: string };
  const resources: string[] = [];
  before(async () => {
    // Short key lifetimes so both the managed identity's key and the node's key rotate during the test.
    a = await startAdmin({ SIGNET_MANAGED_KEY_LIFETIME_SECONDS: '10', SIGNET_NODE_KEY_LIFETIME_SECONDS: '10' });
    setup = await managedSetup(a);
    resources.push(setup.resource);
    for (let i = 0; i < 15; i++) {
      const identifier = uniqueResourceId();
      await createResource(a, setup.tenant.name, identifier, ['orders.read']);
      await grant(a, setup.tenant.name, setup.managed.id, identifier, 'orders.read');
      resources.push(identifier);
    }
    daemon = await startDaemon(a.s.url, setup.tenant.name, await joinToken(a, setup.tenant.name), { SIGNET_NODE_TICK_MS: '500' });
    expectStatus(await a.call('PUT', `/tenants/${setup.tenant.name}/nodes/${daemon.nodeId}/identities/${setup.managed.id}`), 200);
    api = await resourceServer(setup.issuer, new Set(resources));
  });
  after(async () => {
    await daemon?.stop();
    api?.server.close();
    await a?.close();
  });

  it('App Service protocol (IDENTITY_ENDPOINT + IDENTITY_HEADER): every call succeeds while the managed key and the node key rotate', async () => {
    const started = a.s.now();
    const firstNodeKey = expectStatus(await a.call<{ keys: Array<{ kid: string }> }>('GET', `/tenants/${setup.tenant.name}/nodes/${daemon.nodeId}`), 200).keys[0]?.kid;
    // The maintenance loop, at a test's pace (the server's own timer runs hourly in tests).
    const maintenance = setInterval(() => void runMaintenance(a.s.signet.deps), 1000);
    let calls: Call[];
    try {
      calls = await runWorkload({ IDENTITY_ENDPOINT: daemon.identityEndpoint, IDENTITY_HEADER: daemon.identityHeader }, api.url, 700, '-', resources.map((r) => `${r}/.default`));
    } finally {
      clearInterval(maintenance);
    }
    assert.equal(calls.length, resources.length);
    for (const call of calls) {
      assert.equal(call.status, 200, JSON.stringify(call));
      assert.equal(call.body?.sub, setup.managed.id);
    }

    const events = (await auditEvents(a, setup.tenant.id)).filter((e) => e.time >= started);
    const issued = events.filter((e) => e.type === 'token.issued' && e.clientId === setup.managed.id);
    assert.equal(issued.length, resources.length, 'one Signet issuance per resource (the daemon caches per identity and resource)');
    assert.ok(issued.every((e) => e.credentialType === 'managed' && e.data.node === daemon.nodeId));
    const managedKeysUsed = new Set(issued.map((e) => e.credentialId));
    assert.ok(managedKeysUsed.size >= 2, `tokens were issued under ${managedKeysUsed.size} managed key(s); the key should have rotated`);
    assert.ok(events.some((e) => e.type === 'managed_key.rotated' && e.targetId === setup.managed.id), 'managed_key.rotated recorded');
    assert.ok(events.some((e) => e.type === 'node_key.rotated' && e.targetId === daemon.nodeId), 'node_key.rotated recorded');
    assert.ok(!events.some((e) => e.type === 'token.refused'), 'no refusal during the rotations');
    const nodeKeys = expectStatus(await a.call<{ keys: Array<{ kid: string }> }>('GET', `/tenants/${setup.tenant.name}/nodes/${daemon.nodeId}`), 200).keys.map((k) => k.kid);
    assert.ok(!nodeKeys.includes(firstNodeKey as string) || nodeKeys.length > 1, 'the node registered a new key');
  });

  it('IMDS protocol (AZURE_POD_IDENTITY_AUTHORITY_HOST) with a user-assigned client id', async () => {
    const calls = await runWorkload({ AZURE_POD_IDENTITY_AUTHORITY_HOST: daemon.url }, api.url, 0, setup.managed.id, [`${resources[0]}/.default`, `${resources[1]}/.default`]);
    assert.deepEqual(calls.map((c) => [c.status, c.body?.sub]), JSON.parse(JSON.stringify([
      [200, setup.managed.id],
      [200, setup.managed.id],
    ])), JSON.stringify(calls));
  });
});
