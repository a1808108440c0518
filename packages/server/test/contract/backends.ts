import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { connect, type Connection, type DbKind } from '../../src/db/connect.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The databases every storage contract runs on. SQLite always; PostgreSQL when
 * SIGNET_TEST_DATABASE_URL names a server (`scripts/pg-test-server.sh start` starts one).
 * In CI (`CI=true`) a missing PostgreSQL is a failure, never a skip.
 */
export interface Backend {
  kind: DbKind;
  /** Why the backend is skipped here (a `describe` skip reason), or false. */
  skip: string | false;
  /** Why the backend must run but cannot: its suite fails with this message. */
  unavailable: string | false;
  /** A fresh, migrated database of its own; `close()` also deletes it. */
  open(): Promise<Connection>;
  /** PostgreSQL only: an empty database of its own, for a whole server under test. */
  createDatabase?(): Promise<{ url: string; drop(): Promise<void> }>;
}

export const PG_URL_VARIABLE = 'SIGNET_TEST_DATABASE_URL';

const sqlite: Backend = {
  kind: 'sqlite',
  skip: false,
  unavailable: false,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'signet-contract-'));
    const conn = await connect({ kind: 'sqlite', file: join(dir, 'signet.db') });
    return {
      ...conn,
      async close() {
        await conn.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Each run gets a database of its own, so test files running in parallel never share tables. */
function postgres(baseUrl: string | undefined, ci: boolean): Backend {
  const missing = `${PG_URL_VARIABLE} not set`;
  return {
    kind: 'postgres',
    skip: baseUrl || ci ? false : missing,
    unavailable: baseUrl ? false : `${missing}: CI must run the contract suite on PostgreSQL (start one with scripts/pg-test-server.sh)`,
    async open() {
      const database = await createDatabase();
      const conn = await connect({ kind: 'postgres', url: database.url });
      return {
        ...conn,
        async close() {
          await conn.close();
          await database.drop();
        },
      };
    },
    createDatabase,
  };
  async function createDatabase() {
    if (!baseUrl) throw new Error(missing);
    const name = `signet_test_${randomBytes(8).toString('hex')}`;
    await withClient(baseUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), drop: () => withClient(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
  }
}

export function backends(env: NodeJS.ProcessEnv = process.env): Backend[] {
  return [sqlite, postgres(env[PG_URL_VARIABLE] || undefined, env.CI === 'true')];
}

/**
 * Inside a backend's `describe`: declares why it does not run (a skipped test rather than a skipped
 * suite, so the runner's summary counts it; a failing one in CI) and returns false; true otherwise.
 */
function runnable(backend: Backend): boolean {
  if (backend.skip) {
    it(`runs on ${backend.kind}`, { skip: backend.skip }, () => undefined);
    return false;
  }
  if (backend.unavailable) {
    const reason = backend.unavailable;
    it('has a database to run on', () => assert.fail(reason));
    return false;
  }
  return true;
}

/**
 * Declares `body` once per backend, as `<title> [<kind>]`, with a fresh database opened before
 * and deleted after. `conn()` is the open connection inside tests and hooks.
 */
export function describeEachBackend(title: string, body: (conn: () => Connection) => void): void {
  for (const backend of backends()) {
    describe(`${title} [${backend.kind}]`, () => {
      if (!runnable(backend)) return;
      let open: Connection | undefined;
      before(async () => {
        open = await backend.open();
      });
      after(async () => {
        await open?.close();
      });
      body(() => {
        if (!open) throw new Error(`${backend.kind} database is not open`);
        return open;
      });
    });
  }
}

/**
 * Declares `body` once per backend with a whole Signet server on it (SQLite in its data dir, or a
 * fresh PostgreSQL database): for tests that need the server, not just the stores.
 */
export function describeEachServerBackend(title: string, body: (server: () => TestServer) => void): void {
  for (const backend of backends()) {
    describe(`${title} [${backend.kind}]`, () => {
      if (!runnable(backend)) return;
      let server: TestServer | undefined;
      let drop: (() => Promise<void>) | undefined;
      before(async () => {
        const database = backend.createDatabase ? await backend.createDatabase() : undefined;
        drop = database?.drop;
        server = await startTestServer(database ? { SIGNET_DATABASE_URL: database.url } : {});
      });
      after(async () => {
        await server?.close();
        await drop?.();
      });
      body(() => {
        if (!server) throw new Error(`no ${backend.kind} server`);
        return server;
      });
    });
  }
}
