import { after, before, beforeEach } from 'node:test';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Io } from '../../src/cli/index.js';

/** One request the fake server received. */
export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Canned {
  status: number;
  body?: unknown;
}

export const CLIENT_ID = '3f1c2a4e-0000-4000-8000-000000000001';
export const CLIENT_SECRET = 'sgn_test_secret';
export const ADMIN_TOKEN = 'admin-access-token';
/** base64("<client_id>:<client_secret>") — both are form-encoding-neutral. */
export const ADMIN_BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

/**
 * A stand-in for the Signet server on 127.0.0.1:<random port>: answers the admin token request and
 * whatever `routes` ("METHOD /path?query" → response) say; 404 `{code, message}` otherwise.
 */
export class FakeServer {
  readonly requests: Recorded[] = [];
  routes = new Map<string, Canned | ((request: Recorded) => Canned)>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(recorded);
        const route = this.routes.get(`${recorded.method} ${recorded.path}`);
        const canned: Canned =
          typeof route === 'function'
            ? route(recorded)
            : (route ?? { status: 404, body: { code: 'not_found', message: `no route ${recorded.method} ${recorded.path}` } });
        if (canned.body === undefined) {
          res.writeHead(canned.status).end();
        } else {
          res.writeHead(canned.status, { 'content-type': 'application/json' }).end(JSON.stringify(canned.body));
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.routes.set('POST /default/oauth2/token', { status: 200, body: { access_token: ADMIN_TOKEN, token_type: 'Bearer', expires_in: 600 } });
    return this;
  }

  /** Requests other than the admin token request. */
  get apiRequests(): Recorded[] {
    return this.requests.filter((r) => r.path !== '/default/oauth2/token');
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A temporary directory holding an admin-credentials.json pointing at `baseUrl`. */
export async function credentialsDir(baseUrl: string): Promise<{ dir: string; file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-cli-'));
  const file = join(dir, 'admin-credentials.json');
  const credentials = {
    issuer: `${baseUrl}/default`,
    token_endpoint: `${baseUrl}/default/oauth2/token`,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    scope: 'urn:signet:admin/.default',
    admin_api: `${baseUrl}/admin/v1`,
    tenant: 'default',
  };
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return { dir, file, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with SIGNET_DATA_DIR pointing at `dataDir`, capturing its output. */
export async function runCli(argv: string[], dataDir: string, env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { SIGNET_DATA_DIR: dataDir, ...env },
    cwd: dataDir,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/**
 * The usual fixture of a CLI test: a fake Signet started before the suite, a credentials directory
 * pointing at it, the recorded requests cleared before each test. `dir()` is read inside tests.
 */
export function useFakeServer(): { server: FakeServer; dir: () => string } {
  const server = new FakeServer();
  let dir = '';
  let remove: () => Promise<void> = async () => {};
  before(async () => {
    await server.start();
    ({ dir, remove } = await credentialsDir(server.url));
  });
  after(async () => {
    await server.stop();
    await remove();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });
  return { server, dir: () => dir };
}
