import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { migrate } from './migrations.js';
import { type SqliteCheckpointer, startSqliteCheckpointer } from './sqlite-checkpointer.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type DbKind = Config['database']['kind'];

export interface Connection {
  db: Db;
  kind: DbKind;
  /**
   * The embedded database's own handle, for the few hot writes that prepare their statements once
   * (audit appends). Statements on it run inside Kysely's transaction when called from one.
   */
  sqlite?: BetterSqlite3.Database;
  /** The embedded database's checkpointing thread, when it has one. */
  checkpointer?: SqliteCheckpointer;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /**
   * SQLite: checkpoint the WAL on a thread of its own instead of in the commit that crosses the
   * threshold (the server does; one-shot commands need not).
   */
  backgroundCheckpoints?: { intervalMs?: number; restartBytes?: number; onError: (message: string) => void };
}

/** WAL pages after which a commit checkpoints by itself, should the checkpointing thread fall behind (≈ 256 MB). */
const FALLBACK_AUTOCHECKPOINT_PAGES = 65_536;

/**
 * The WAL's size limit: the checkpointing thread restarts the WAL once it is this large, and a
 * WAL file left larger (after the fallback) is cut back to it. Cutting a larger file happens in the
 * first commit after a restart, on the event loop, so the thread restarts it before it gets there.
 */
const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

// PostgreSQL returns int8 as strings; every bigint here is an epoch-ms timestamp, well within 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/** Opens the configured database and brings its schema up to date. */
export async function connect(database: Config['database'], opts: ConnectOptions = {}): Promise<Connection> {
  let db: Db;
  let sqliteHandle: BetterSqlite3.Database | undefined;
  let checkpointer: SqliteCheckpointer | undefined;
  if (database.kind === 'sqlite') {
    if (database.file !== ':memory:') mkdirSync(dirname(database.file), { recursive: true, mode: 0o700 });
    const sqlite = new BetterSqlite3(database.file);
    // The database holds secret digests and sealed keys: owner-only, like the data dir.
    // (SQLite gives the -wal and -shm files the database file's permissions.)
    if (database.file !== ':memory:') chmodSync(database.file, 0o600);
    // WAL + synchronous=NORMAL: a committed transaction survives a process crash (kill -9);
    // only an OS crash or power loss can drop the last commits.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    sqliteHandle = sqlite;
    if (opts.backgroundCheckpoints && database.file !== ':memory:') {
      sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
      // Once checkpointed, the WAL is reused from its start; this caps the file it leaves behind.
      sqlite.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    }
  } else {
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    // An idle client's error (e.g. the server restarting) must not crash the process.
    pool.on('error', () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  await migrate(db as Kysely<unknown>);
  if (sqliteHandle && opts.backgroundCheckpoints && database.kind === 'sqlite' && database.file !== ':memory:') {
    const { intervalMs = 250, restartBytes = WAL_LIMIT_BYTES, onError } = opts.backgroundCheckpoints;
    checkpointer = startSqliteCheckpointer(database.file, { intervalMs, restartBytes, onError });
  }
  return {
    db,
    kind: database.kind,
    ...(sqliteHandle ? { sqlite: sqliteHandle } : {}),
    ...(checkpointer ? { checkpointer } : {}),
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

/** True when `error` is a unique-constraint violation on either backend. */
export function isUniqueViolation(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
