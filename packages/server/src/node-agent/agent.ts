import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { loadNodeSecret, NodeKeyFile } from './key-file.js';
import { APP_SERVICE_PATH, createLoopbackServer, type Identity } from './loopback-server.js';
import { discoverIssuer, generateNodeKey, type NodeKey, SignetNodeClient } from './signet-client.js';
import { TokenCache } from './token-cache.js';
import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const IDENTITIES_REFRESH_MS = 60_000;

export interface NodeAgentOptions {
  /** Signet's base URL (SIGNET_PUBLIC_URL of the server), e.g. https://signet.example.com. */
  server: string;
  tenant: string;
  /** Holds node.json (ids, times), node-key.json (encrypted) and, by default, node.secret. */
  stateDir: string;
  secretFile?: string | undefined;
  /** SIGNET_NODE_SECRET: the local secret from the environment instead of a file. */
  secretFromEnv?: string | undefined;
  /** Needed on first start only; single use. */
  joinToken?: string | undefined;
  name?: string | undefined;
  host: string;
  port: number;
  /** File holding the X-IDENTITY-HEADER secret; generated into the state dir when absent. */
  identityHeaderFile?: string | undefined;
  /** How often background work (token refresh, key rotation check) runs; default 5 s. */
  tickMs?: number | undefined;
  log: Logger;
}

interface NodeState {
  server: string;
  tenant: string;
  issuer: string;
  nodeId: string;
  kid: string;
  /** Epoch seconds. */
  keyCreatedAt: number;
  keyExpiresAt: number;
}

export interface RunningNodeAgent {
  nodeId: string;
  /** http://127.0.0.1:<port>: AZURE_POD_IDENTITY_AUTHORITY_HOST for IMDS clients. */
  url: string;
  /** IDENTITY_ENDPOINT for App Service clients. */
  identityEndpoint: string;
  identityHeaderFile: string;
  close(): Promise<void>;
}

function publicJwkOf(key: NodeKey['privateKey']): JWK {
  return createPublicKey(key).export({ format: 'jwk' }) as JWK;
}

/**
 * `signet node`: joins Signet once with a join token (its key pair is generated here; only the
 * public half is sent), keeps its key encrypted on disk and rotates it at half its lifetime, and
 * serves tokens for the managed identities assigned to it on loopback (IMDS and App Service).
 */
export async function startNodeAgent(o: NodeAgentOptions): Promise<RunningNodeAgent> {
  if (!LOOPBACK_HOSTS.has(o.host)) throw new Error(`signet node serves tokens on loopback only; --host ${o.host} is not a loopback address`);
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const keyFile = new NodeKeyFile(loadNodeSecret(o.secretFile ?? join(o.stateDir, 'node.secret'), o.secretFromEnv));
  const statePath = join(o.stateDir, 'node.json');
  const keyPath = join(o.stateDir, 'node-key.json');
  const nextKeyPath = join(o.stateDir, 'node-key.next.json');
  const tenantUrl = `${o.server.replace(/\/+$/, '')}/${encodeURIComponent(o.tenant)}`;

  let state: NodeState;
  let key: NodeKey;
  let client: SignetNodeClient;
  if (existsSync(statePath)) {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as NodeState;
    if (state.server !== o.server || state.tenant !== o.tenant) throw new Error(`${statePath} belongs to tenant ${state.tenant} at ${state.server}; use another --state-dir`);
    client = new SignetNodeClient(state.issuer, tenantUrl);
    const stored = keyFile.read(keyPath);
    key = { kid: stored.kid, privateKey: stored.privateKey, publicJwk: publicJwkOf(stored.privateKey) };
    rmSync(nextKeyPath, { force: true });
  } else {
    if (!o.joinToken) throw new Error('this node has not joined yet: give a join token (SIGNET_NODE_JOIN_TOKEN or --join-token-file)');
    const issuer = await discoverIssuer(tenantUrl);
    client = new SignetNodeClient(issuer, tenantUrl);
    key = await generateNodeKey();
    keyFile.write(keyPath, key.kid, key.privateKey);
    const joined = await client.join(o.joinToken, key, o.name);
    state = { server: o.server, tenant: o.tenant, issuer, nodeId: joined.nodeId, kid: key.kid, keyCreatedAt: Math.floor(Date.now() / 1000), keyExpiresAt: joined.keyExpiresAt };
    writeFileSync(statePath, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    o.log.info({ nodeId: state.nodeId, tenant: o.tenant }, 'node joined');
  }

  const rotateKeyIfDue = async () => {
    const now = Math.floor(Date.now() / 1000);
    if (now < state.keyCreatedAt + (state.keyExpiresAt - state.keyCreatedAt) / 2) return;
    const next = await generateNodeKey();
    // Written before the server knows it: a crash after registration still leaves the key usable.
    keyFile.write(nextKeyPath, next.kid, next.privateKey);
    const { keyExpiresAt } = await client.rotateKey(state.nodeId, key, next);
    keyFile.write(keyPath, next.kid, next.privateKey);
    rmSync(nextKeyPath, { force: true });
    key = next;
    state = { ...state, kid: next.kid, keyCreatedAt: now, keyExpiresAt };
    writeFileSync(statePath, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    o.log.info({ nodeId: state.nodeId, kid: next.kid }, 'node key rotated');
  };

  let identities: Identity[] = [];
  let identitiesAt = 0;
  let identitiesLoading: Promise<Identity[]> | undefined;
  const loadIdentities = (): Promise<Identity[]> => {
    identitiesLoading ??= client
      .identities(state.nodeId, key)
      .then((list) => {
        identities = list;
        identitiesAt = Date.now();
        return list;
      })
      .finally(() => {
        identitiesLoading = undefined;
      });
    return identitiesLoading;
  };
  const source = {
    async identities(fresh: boolean): Promise<Identity[]> {
      if (fresh || Date.now() - identitiesAt > IDENTITIES_REFRESH_MS) {
        // Signet unreachable: keep the last list (its tokens are still cached).
        await loadIdentities().catch((error: unknown) => o.log.warn({ err: error }, 'could not refresh assigned identities'));
      }
      return identities;
    },
    token: (identity: string, resource: string) => cache.get(identity, resource),
  };
  const cache = new TokenCache(
    (identity, resource) => client.token(state.nodeId, key, identity, resource),
    Date.now,
    (error, identity, resource) => o.log.warn({ err: error, identity, resource }, 'token refresh failed; serving the cached token'),
  );
  await loadIdentities().catch((error: unknown) => o.log.warn({ err: error }, 'could not load assigned identities'));

  const identityHeaderFile = o.identityHeaderFile ?? join(o.stateDir, 'identity-header');
  if (!o.identityHeaderFile) writeFileSync(identityHeaderFile, randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
  const identityHeader = readFileSync(identityHeaderFile, 'utf8').trim();
  if (identityHeader.length < 16) throw new Error(`${identityHeaderFile} must hold at least 16 characters`);

  const server = createLoopbackServer(source, identityHeader, (error) => o.log.error({ err: error }, 'loopback request failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        await rotateKeyIfDue().catch((error: unknown) => o.log.warn({ err: error }, 'node key rotation failed; retrying'));
        await cache.refreshDue();
      })
      .catch((error: unknown) => o.log.error({ err: error }, 'node background work failed'));
  }, o.tickMs ?? 5_000);
  timer.unref();

  return {
    nodeId: state.nodeId,
    url,
    identityEndpoint: `${url}${APP_SERVICE_PATH}`,
    identityHeaderFile,
    async close() {
      clearInterval(timer);
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
