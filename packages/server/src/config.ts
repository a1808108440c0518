import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';

/** Signing algorithms Signet will sign access tokens with (FAPI 2.0 floor: no `none`, no HMAC). */
export const SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** The one validated configuration object. Every field has a documented, safe default. */
export interface Config {
  /** SIGNET_PORT — TCP port (default 8080). */
  port: number;
  /** SIGNET_HOST — listen address (default 127.0.0.1: not exposed until asked). */
  host: string;
  /** SIGNET_DATA_DIR — where the embedded database and generated files live (default ./.signet). */
  dataDir: string;
  /** SIGNET_DATABASE_URL — `postgres://…` selects PostgreSQL; unset means SQLite in the data dir. */
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  /** SIGNET_PUBLIC_URL — base of every issuer URL (default http://localhost:<port>). No trailing slash. */
  publicUrl: string;
  /** SIGNET_MASTER_KEY — 32 bytes (base64url or hex) that encrypts signing keys at rest. */
  masterKey: Buffer;
  /** True when the master key was generated into the data dir (embedded default only). */
  masterKeyGenerated: boolean;
  /** SIGNET_LOG_LEVEL — pino level (default info). */
  logLevel: string;
  /** SIGNET_SIGNING_ALG — algorithm for new signing keys (default ES256). */
  signingAlg: SigningAlg;
  /** SIGNET_KEY_ROTATION_SECONDS — how long a signing key signs before the next one takes over (default 86400). */
  keyRotationSeconds: number;
  /** SIGNET_ACCESS_TOKEN_TTL — default machine access-token lifetime in seconds (default 600). */
  accessTokenTtlSeconds: number;
  /** SIGNET_ACCESS_TOKEN_TTL_MAX — cap no tenant setting can exceed (default 3600). */
  accessTokenTtlMaxSeconds: number;
  /** SIGNET_TRUST_PROXY — comma-separated proxy addresses whose X-Forwarded-* headers are trusted (RFC 9700 §4.18); default none. */
  trustProxy: string[];
  /** SIGNET_CLIENT_AUTH_FAILURE_LIMIT — failed client authentications per source address per minute before 429 (default 30). */
  clientAuthFailureLimit: number;
  /** SIGNET_AUDIT_SEAL_SECONDS — the longest time new audit events wait for a signed checkpoint (default 10). */
  auditSealSeconds: number;
  /** SIGNET_AUDIT_SEAL_EVENTS — seal after this many new events even sooner (default 10000). */
  auditSealEvents: number;
  /**
   * SIGNET_AUDIT_WRITES — `on` (default). `off-for-benchmarks` drops token events instead of writing
   * them, only so benchmarks can measure what the audit costs; never use it anywhere else.
   */
  auditWrites: 'on' | 'off-for-benchmarks';
  /** SIGNET_CACHE_STALENESS_MS — bound on how stale a node's view of another node's changes may be (default 1000). */
  cacheStalenessMs: number;
  /** SIGNET_SIGN_IN_DELAY_MS — the first delay after repeated failed sign-ins; each further failure doubles it (default 1000). */
  signInDelayMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Parses a 32-byte key given as 64 hex characters or 43 base64url characters. */
export function parseMasterKey(raw: string, source: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(text) && key.toString('base64url') !== text.replace(/=+$/, ''))) {
    throw new ConfigError(`${source} must be 32 bytes as 64 hex or 43 base64url characters`);
  }
  return key;
}

export interface LoadOptions {
  /** Called with loud warnings about insecure settings. */
  warn?: (message: string) => void;
}

/** Reads, validates and completes the configuration. Throws ConfigError with a clear message. */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): Config {
  const warn = options.warn ?? ((m: string) => process.stderr.write(`WARNING: ${m}\n`));
  const port = int(env, 'SIGNET_PORT', 8080, 0, 65535);
  const host = env.SIGNET_HOST || '127.0.0.1';
  const dataDir = resolve(env.SIGNET_DATA_DIR || './.signet');

  const dbUrl = env.SIGNET_DATABASE_URL;
  let database: Config['database'];
  if (!dbUrl) {
    database = { kind: 'sqlite', file: join(dataDir, 'signet.db') };
  } else if (/^postgres(ql)?:\/\//.test(dbUrl)) {
    database = { kind: 'postgres', url: dbUrl };
  } else if (dbUrl.startsWith('sqlite:')) {
    const file = dbUrl.slice('sqlite:'.length);
    database = { kind: 'sqlite', file: isAbsolute(file) ? file : resolve(file) };
  } else {
    throw new ConfigError('SIGNET_DATABASE_URL must start with postgres:// (or sqlite:<file>)');
  }

  let publicUrl = env.SIGNET_PUBLIC_URL || `http://localhost:${port}`;
  let parsed: URL;
  try {
    parsed = new URL(publicUrl);
  } catch {
    throw new ConfigError(`SIGNET_PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError('SIGNET_PUBLIC_URL must be http(s)');
  if (parsed.search || parsed.hash) throw new ConfigError('SIGNET_PUBLIC_URL must not have a query or fragment');
  publicUrl = publicUrl.replace(/\/+$/, '');
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol === 'http:' && !loopback) {
    warn(`SIGNET_PUBLIC_URL is plain http on a non-loopback host (${parsed.host}): tokens and secrets will cross the network unencrypted`);
  }

  let masterKey: Buffer;
  let masterKeyGenerated = false;
  if (env.SIGNET_MASTER_KEY) {
    masterKey = parseMasterKey(env.SIGNET_MASTER_KEY, 'SIGNET_MASTER_KEY');
  } else if (database.kind === 'postgres') {
    throw new ConfigError('SIGNET_MASTER_KEY is required with PostgreSQL (generate one: openssl rand -hex 32)');
  } else {
    const file = join(dataDir, 'master.key');
    if (existsSync(file)) {
      masterKey = parseMasterKey(readFileSync(file, 'utf8'), file);
    } else {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      masterKey = randomBytes(32);
      writeFileSync(file, masterKey.toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    }
    masterKeyGenerated = true;
    warn(`SIGNET_MASTER_KEY is not set: using the generated key in ${file}. Anyone who can read the data dir can decrypt the signing keys; set SIGNET_MASTER_KEY from a secret store in production.`);
  }

  const signingAlg = (env.SIGNET_SIGNING_ALG || 'ES256') as SigningAlg;
  if (!SIGNING_ALGS.includes(signingAlg)) throw new ConfigError(`SIGNET_SIGNING_ALG must be one of ${SIGNING_ALGS.join(', ')}`);

  const accessTokenTtlMaxSeconds = int(env, 'SIGNET_ACCESS_TOKEN_TTL_MAX', 3600, 60, 86400);
  const accessTokenTtlSeconds = int(env, 'SIGNET_ACCESS_TOKEN_TTL', 600, 30, accessTokenTtlMaxSeconds);
  const logLevel = env.SIGNET_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`SIGNET_LOG_LEVEL must be a pino level, got "${logLevel}"`);
  }

  const auditWrites = (env.SIGNET_AUDIT_WRITES || 'on') as Config['auditWrites'];
  if (auditWrites !== 'on' && auditWrites !== 'off-for-benchmarks') throw new ConfigError('SIGNET_AUDIT_WRITES must be on (or off-for-benchmarks)');
  if (auditWrites !== 'on') warn('SIGNET_AUDIT_WRITES=off-for-benchmarks: token decisions are NOT audited. This setting exists only to measure the cost of the audit trail.');

  return {
    auditWrites,
    port,
    host,
    dataDir,
    database,
    publicUrl,
    masterKey,
    masterKeyGenerated,
    logLevel,
    signingAlg,
    keyRotationSeconds: int(env, 'SIGNET_KEY_ROTATION_SECONDS', 86400, 60, 90 * 86400),
    accessTokenTtlSeconds,
    accessTokenTtlMaxSeconds,
    trustProxy: (env.SIGNET_TRUST_PROXY || '').split(',').map((s) => s.trim()).filter(Boolean),
    clientAuthFailureLimit: int(env, 'SIGNET_CLIENT_AUTH_FAILURE_LIMIT', 30, 1, 1_000_000),
    auditSealSeconds: int(env, 'SIGNET_AUDIT_SEAL_SECONDS', 10, 1, 3600),
    auditSealEvents: int(env, 'SIGNET_AUDIT_SEAL_EVENTS', 10000, 1, 10_000_000),
    cacheStalenessMs: int(env, 'SIGNET_CACHE_STALENESS_MS', 1000, 100, 60000),
    signInDelayMs: int(env, 'SIGNET_SIGN_IN_DELAY_MS', 1000, 100, 60000),
  };
}
