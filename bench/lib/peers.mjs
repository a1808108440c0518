// Starts the comparison servers (node-oidc-provider and the limit server) for the same job as Signet.
import { fileURLToPath } from 'node:url';
import { es256KeyPair } from './jwt.mjs';
import { freePort, LOOPBACK } from './http.mjs';
import { cpuSeconds, memory, spawnNode, stop } from './procs.mjs';
import { BENCH_RESOURCE, BENCH_ROLE } from './signet.mjs';

const SERVERS = {
  peer: { file: fileURLToPath(new URL('../servers/peer.mjs', import.meta.url)), tokenPath: '/token', issuerPath: '', jwksPath: '/jwks' },
  limit: { file: fileURLToPath(new URL('../servers/limit.mjs', import.meta.url)), tokenPath: '/default/oauth2/token', issuerPath: '/default', jwksPath: '/default/.well-known/jwks.json' },
};

/**
 * Starts `kind` ('peer' | 'limit') with the same clients as Signet's benchmark setup
 * (`bench` from setupBench) and its own ES256 signing key.
 */
export async function startComparison(ctx, kind, bench, tenantId) {
  const spec = SERVERS[kind];
  const port = await freePort();
  const { privateJwk } = es256KeyPair(`${kind}-es256`);
  const config = {
    port,
    signetDir: ctx.signetDir,
    resource: BENCH_RESOURCE,
    role: BENCH_ROLE,
    tenantId,
    signingJwk: privateJwk,
    secretClient: bench.secretClient,
    keyClient: { id: bench.keyClient.id, publicJwk: bench.keyClient.publicJwk },
  };
  const child = spawnNode([spec.file], {
    role: 'server',
    ipc: true,
    logFile: ctx.logFile(kind),
    env: { BENCH_SERVER_CONFIG: Buffer.from(JSON.stringify(config)).toString('base64url'), NODE_ENV: 'production' },
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 30 s; log: ${ctx.logFile(kind)}`)), 30_000);
    child.on('message', (m) => {
      if (m?.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited during start (${code ?? signal}); log: ${ctx.logFile(kind)}\n${ctx.logTail(kind)}`));
    });
  });
  const url = `http://${LOOPBACK}:${port}`;
  return {
    name: kind,
    child,
    pid: child.pid,
    port,
    url,
    issuer: `${url}${spec.issuerPath}`,
    tokenEndpoint: `${url}${spec.tokenPath}`,
    jwksUrl: `${url}${spec.jwksPath}`,
    cpuSeconds: () => cpuSeconds(child.pid),
    memory: () => memory(child.pid),
    stop: (graceMs) => stop(child, graceMs),
  };
}
