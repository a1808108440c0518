import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminCredentialsFile } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createSignet, type Signet } from '../../src/main.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:40123 (also SIGNET_PUBLIC_URL). */
  url: string;
  adminApi: string;
  dataDir: string;
  signet: Signet;
  /** The bootstrap admin's credentials file. */
  admin: AdminCredentialsFile;
  /** Moves this server's clock (ms); starts at real time. */
  advance(ms: number): void;
  now(): number;
  /** A fresh install-admin token. */
  adminToken(): Promise<string>;
  /** client_credentials with client_secret_basic; returns the raw response. */
  token(tenant: string, clientId: string, secret: string, form: Record<string, string>): Promise<ApiResponse>;
  /** An access token or a thrown error with the OAuth error body. */
  tokenFor(tenant: string, clientId: string, secret: string, scope: string): Promise<string>;
  /** Calls the admin API (path relative to /admin/v1) with the install-admin token unless one is given. */
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Starts a real Signet on loopback with its own data dir (SQLite) and a movable clock.
 * `{ host: 'localhost' }` serves it as http://localhost:<port> (WebAuthn needs a domain, not an IP).
 */
export async function startTestServer(env: Record<string, string> = {}, options: { host?: 'localhost' } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'signet-test-'));
  const port = await freePort();
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const config = loadConfig(
    {
      SIGNET_PORT: String(port),
      SIGNET_HOST: '127.0.0.1',
      SIGNET_PUBLIC_URL: url,
      SIGNET_DATA_DIR: dataDir,
      SIGNET_MASTER_KEY: randomBytes(32).toString('hex'),
      SIGNET_LOG_LEVEL: process.env.SIGNET_LOG_LEVEL ?? 'silent',
      ...env,
    },
    { warn: () => undefined },
  );
  let offset = 0;
  const clock = () => Date.now() + offset;
  const signet = await createSignet(config, { clock, maintenanceIntervalMs: 3_600_000 });
  await signet.app.listen({ port, host: '127.0.0.1' });
  const admin = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as AdminCredentialsFile;

  const token = async (tenant: string, clientId: string, secret: string, form: Record<string, string>): Promise<ApiResponse> => {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    const response = await fetch(`${url}/${tenant}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
    });
    return { status: response.status, headers: response.headers, body: await json(response) };
  };
  const tokenFor = async (tenant: string, clientId: string, secret: string, scope: string): Promise<string> => {
    const response = await token(tenant, clientId, secret, { scope });
    if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(response.body)}`);
    return (response.body as { access_token: string }).access_token;
  };
  const adminToken = () => tokenFor(admin.tenant, admin.client_id, admin.client_secret, admin.scope);

  return {
    url,
    adminApi: admin.admin_api,
    dataDir,
    signet,
    admin,
    advance: (ms) => {
      offset += ms;
    },
    now: clock,
    adminToken,
    token,
    tokenFor,
    async api(method, path, body, bearer) {
      const auth = bearer === null ? undefined : (bearer ?? (await adminToken()));
      const headers: Record<string, string> = {};
      if (auth) headers.authorization = `Bearer ${auth}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${admin.admin_api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, headers: response.headers, body: (await json(response)) as never };
    },
    async close() {
      await signet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
