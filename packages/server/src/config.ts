import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
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
  /** Workload identity federation: verifying external tokens and fetching their issuers' keys. */
  federation: FederationConfig;
  /** SIGNET_MANAGED_KEY_LIFETIME_SECONDS — lifetime of a managed identity's platform-held key; the next key is made at half of it (default 86400). */
  managedKeyLifetimeSeconds: number;
  /** SIGNET_NODE_KEY_LIFETIME_SECONDS — lifetime of a `signet node` key; the node registers its next key at half of it (default 86400). */
  nodeKeyLifetimeSeconds: number;
  /** SIGNET_NODE_JOIN_TOKEN_TTL — default lifetime of a node join token in seconds (default 3600, at most 7 days). */
  nodeJoinTokenTtlSeconds: number;
  /** SIGNET_DPOP_NONCE — `required` (default): DPoP proofs at the token endpoint must carry a server nonce (RFC 9449 §8); `off`. */
  dpopNonce: 'required' | 'off';
  /** SIGNET_DELEGATION_MAX_DEPTH — most actors in a delegation chain when the current actor has no blueprint (a service; default 2). */
  delegationMaxDepth: number;
  /** SIGNET_AGENT_LIFETIME_DAYS — how long an agent lives before a sponsor must extend it; also the longest extension (default 90). */
  agentLifetimeDays: number;
  /**
   * SIGNET_SSF_ALLOW_HTTP_LOOPBACK — `true` lets Shared Signals receivers be plain-http loopback URLs
   * (local tests and demos only); default false: receivers must be https on public addresses.
   */
  ssfAllowHttpLoopback: boolean;
  /** SIGNET_SIGN_IN_DELAY_MS — the first delay after repeated failed sign-ins; each further failure doubles it (default 1000). */
  signInDelayMs: number;
}

export interface FederationConfig {
  /** SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS — comma-separated origins (`http://host:port`) whose keys may be fetched over plain http (default none: https only). */
  allowHttpOrigins: string[];
  /** SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS — comma-separated CIDRs (`127.0.0.1/32`) exempt from the private/loopback/link-local refusal (default none). */
  allowPrivateNetworks: string[];
  /** SIGNET_FEDERATION_CLOCK_SKEW_SECONDS — tolerance on exp/nbf/iat (default 30, at most 300). */
  clockSkewSeconds: number;
  /** SIGNET_FEDERATION_MAX_TOKEN_AGE_SECONDS — external tokens issued (iat) longer ago are refused (default 3600). */
  maxTokenAgeSeconds: number;
  /** SIGNET_FEDERATION_FETCH_TIMEOUT_MS — whole-request timeout for discovery and JWKS fetches (default 5000). */
  fetchTimeoutMs: number;
  /** SIGNET_FEDERATION_MAX_RESPONSE_BYTES — largest discovery or JWKS document read (default 262144). */
  maxResponseBytes: number;
  /** SIGNET_FEDERATION_KEYS_MIN_CACHE_SECONDS / _MAX_CACHE_SECONDS — bounds on Cache-Control max-age for fetched keys (default 300 / 86400). */
  keysMinCacheSeconds: number;
  keysMaxCacheSeconds: number;
  /** SIGNET_FEDERATION_REFETCH_INTERVAL_SECONDS — fewest seconds between two fetches of one issuer's keys (unknown kid, failures; default 30). */
  refetchIntervalSeconds: number;
  /**
   * SIGNET_FEDERATION_SINGLE_USE — accept each external token once (its `jti`, then required, is
   * remembered until it expires). Default false: a token is accepted until it expires, as Entra does,
   * because Kubernetes hands a pod the same projected token until 80 % of its life and Azure Identity
   * and MSAL send it for every token they need in that time.
   */
  singleUse: boolean;
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

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  return raw === 'true';
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

  const ssfAllowHttpLoopback = bool(env, 'SIGNET_SSF_ALLOW_HTTP_LOOPBACK', false);
  if (ssfAllowHttpLoopback) warn('SIGNET_SSF_ALLOW_HTTP_LOOPBACK=true: Shared Signals receivers may be plain-http loopback URLs; use this only for local testing');

  const dpopNonce = (env.SIGNET_DPOP_NONCE || 'required') as Config['dpopNonce'];
  if (dpopNonce !== 'required' && dpopNonce !== 'off') throw new ConfigError('SIGNET_DPOP_NONCE must be required or off');

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
    federation: federationConfig(env, warn),
    managedKeyLifetimeSeconds: int(env, 'SIGNET_MANAGED_KEY_LIFETIME_SECONDS', 86400, 10, 90 * 86400),
    nodeKeyLifetimeSeconds: int(env, 'SIGNET_NODE_KEY_LIFETIME_SECONDS', 86400, 10, 90 * 86400),
    nodeJoinTokenTtlSeconds: int(env, 'SIGNET_NODE_JOIN_TOKEN_TTL', 3600, 60, 7 * 86400),
    dpopNonce,
    delegationMaxDepth: int(env, 'SIGNET_DELEGATION_MAX_DEPTH', 2, 1, 10),
    agentLifetimeDays: int(env, 'SIGNET_AGENT_LIFETIME_DAYS', 90, 1, 3650),
    ssfAllowHttpLoopback,
    signInDelayMs: int(env, 'SIGNET_SIGN_IN_DELAY_MS', 1000, 100, 60000),
  };
}

function commaList(env: Env, name: string): string[] {
  return (env[name] || '').split(',').map((s) => s.trim()).filter(Boolean);
}

function federationConfig(env: Env, warn: (message: string) => void): FederationConfig {
  const allowHttpOrigins = commaList(env, 'SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS').map((raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: "${raw}" is not a URL`);
    }
    if (url.protocol !== 'http:') throw new ConfigError(`SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: "${raw}" must be an http:// origin`);
    return url.origin;
  });
  const allowPrivateNetworks = commaList(env, 'SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS');
  for (const cidr of allowPrivateNetworks) {
    const [address, bits, extra] = cidr.split('/');
    const family = address ? isIP(address) : 0;
    if (extra !== undefined || !family || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) {
      throw new ConfigError(`SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS: "${cidr}" is not a CIDR (e.g. 10.0.0.0/8)`);
    }
  }
  if (allowHttpOrigins.length > 0) warn(`SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: keys of ${allowHttpOrigins.join(', ')} are fetched over plain http; use this only for tests on loopback`);
  if (allowPrivateNetworks.length > 0) warn(`SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS: issuer keys may be fetched from ${allowPrivateNetworks.join(', ')}; make sure nothing else answers there`);
  const keysMinCacheSeconds = int(env, 'SIGNET_FEDERATION_KEYS_MIN_CACHE_SECONDS', 300, 0, 86400);
  return {
    allowHttpOrigins,
    allowPrivateNetworks,
    clockSkewSeconds: int(env, 'SIGNET_FEDERATION_CLOCK_SKEW_SECONDS', 30, 0, 300),
    maxTokenAgeSeconds: int(env, 'SIGNET_FEDERATION_MAX_TOKEN_AGE_SECONDS', 3600, 60, 86400),
    fetchTimeoutMs: int(env, 'SIGNET_FEDERATION_FETCH_TIMEOUT_MS', 5000, 100, 60000),
    maxResponseBytes: int(env, 'SIGNET_FEDERATION_MAX_RESPONSE_BYTES', 262144, 1024, 10 * 1024 * 1024),
    keysMinCacheSeconds,
    keysMaxCacheSeconds: int(env, 'SIGNET_FEDERATION_KEYS_MAX_CACHE_SECONDS', 86400, Math.max(keysMinCacheSeconds, 1), 7 * 86400),
    refetchIntervalSeconds: int(env, 'SIGNET_FEDERATION_REFETCH_INTERVAL_SECONDS', 30, 1, 3600),
    singleUse: bool(env, 'SIGNET_FEDERATION_SINGLE_USE', false),
  };
}
