// Signet as it ships: `node packages/server/bin/signet.js start`, embedded SQLite in a fresh data
// dir, configured only through SIGNET_* variables and its admin API.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { es256KeyPair } from './jwt.mjs';
import { basic, freePort, getJson, LOOPBACK, parallel, postForm, sleep } from './http.mjs';
import { cpuSeconds, memory, spawnNode, stop } from './procs.mjs';

export const BENCH_RESOURCE = 'api://bench';
export const BENCH_ROLE = 'bench.read';
/** The token request every server gets: RFC 8707 resource, no scope (= every granted role). */
export const TOKEN_BODY = `grant_type=client_credentials&resource=${encodeURIComponent(BENCH_RESOURCE)}`;

/**
 * Starts Signet on `dataDir` (created by Signet when missing) and waits until /readyz answers.
 * `nodeOptions` are extra node flags passed through NODE_OPTIONS; `nodeArgs` go on node's command line.
 */
export async function startSignet(ctx, { dataDir, name = 'signet', nodeOptions = [], nodeArgs = [], env = {}, waitReady = true } = {}) {
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}`;
  const child = spawnNode([join(ctx.signetDir, 'bin', 'signet.js'), 'start'], {
    role: 'server',
    logFile: ctx.logFile(name),
    nodeOptions,
    nodeArgs,
    env: {
      SIGNET_PORT: String(port),
      SIGNET_HOST: LOOPBACK,
      SIGNET_DATA_DIR: dataDir,
      SIGNET_PUBLIC_URL: url,
      SIGNET_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const server = {
    name,
    child,
    pid: child.pid,
    port,
    url,
    dataDir,
    issuer: `${url}/default`,
    tokenEndpoint: `${url}/default/oauth2/token`,
    cpuSeconds: () => cpuSeconds(child.pid),
    memory: () => memory(child.pid),
    stop: (graceMs) => stop(child, graceMs),
  };
  if (waitReady) await waitUntilReady(server, ctx);
  return server;
}

export async function waitUntilReady(server, ctx, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited during start (${server.child.exitCode ?? server.child.signalCode}); log: ${ctx.logFile(server.name)}\n${ctx.logTail(server.name)}`);
    }
    try {
      const res = await fetch(`${server.url}/readyz`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${server.name} not ready after ${timeoutMs} ms; log: ${ctx.logFile(server.name)}`);
    await sleep(20);
  }
}

export function adminCredentials(dataDir) {
  const file = join(dataDir, 'admin-credentials.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** An admin API session with the bootstrap admin's credentials. */
export async function adminSession(server) {
  const creds = adminCredentials(server.dataDir);
  if (!creds) throw new Error(`no admin-credentials.json in ${server.dataDir}`);
  const tokenEndpoint = `${server.url}/default/oauth2/token`;
  const res = await postForm(tokenEndpoint, { grant_type: 'client_credentials', scope: creds.scope }, { authorization: basic(creds.client_id, creds.client_secret) });
  if (res.status !== 200) throw new Error(`admin token: ${res.status} ${JSON.stringify(res.body)}`);
  const token = res.body.access_token;
  const base = `${server.url}/admin/v1`;
  async function api(method, path, body) {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  }
  return { token, creds, api, get: (p) => api('GET', p), post: (p, b) => api('POST', p, b) };
}

const T = '/tenants/default';

/** A service principal with a generated secret, granted BENCH_ROLE. */
export async function createSecretClient(admin, displayName) {
  const principal = await admin.post(`${T}/principals`, { kind: 'service', displayName });
  const credential = await admin.post(`${T}/principals/${principal.id}/credentials`, { type: 'secret', description: 'bench' });
  await admin.post(`${T}/grants`, { principal: principal.id, resource: BENCH_RESOURCE, role: BENCH_ROLE });
  return { id: principal.id, secret: credential.secret };
}

/**
 * The benchmark's directory: resource api://bench with one role; a service principal with a
 * secret; a second one with an ES256 public key (private_key_jwt); both granted the role.
 */
export async function setupBench(server, { extraSecretClients = 0 } = {}) {
  const admin = await adminSession(server);
  await admin.post(`${T}/resources`, { identifier: BENCH_RESOURCE, displayName: 'Bench API', roles: [{ name: BENCH_ROLE, description: 'Read the bench API' }] });
  const secretClient = await createSecretClient(admin, 'bench-secret-client');

  const keyPrincipal = await admin.post(`${T}/principals`, { kind: 'service', displayName: 'bench-key-client' });
  const pair = es256KeyPair();
  const { kty, crv, x, y } = pair.publicJwk;
  const keyCredential = await admin.post(`${T}/principals/${keyPrincipal.id}/credentials`, { type: 'key', description: 'bench ES256', jwk: { kty, crv, x, y } });
  await admin.post(`${T}/grants`, { principal: keyPrincipal.id, resource: BENCH_RESOURCE, role: BENCH_ROLE });
  const keyClient = {
    id: keyPrincipal.id,
    kid: keyCredential.thumbprint,
    privateKeyPem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    publicJwk: { kty, crv, x, y, kid: keyCredential.thumbprint, alg: 'ES256', use: 'sig' },
  };
  const extra = await parallel(Array.from({ length: extraSecretClients }, (_, i) => i), 8, (i) => createSecretClient(admin, `bench-burst-client-${i}`));
  return { admin, secretClient, keyClient, extraClients: extra };
}

/** The default tenant's published keys. */
export function signetJwks(server) {
  return getJson(`${server.url}/default/.well-known/jwks.json`);
}
