import type { AuditWriter } from './audit/writer.js';
import type { DirectoryCache } from './cache/directory-cache.js';
import type { Config } from './config.js';
import type { Envelope } from './crypto/envelope.js';
import type { SecretHasher } from './crypto/digest.js';
import type { Db, DbKind } from './db/connect.js';
import type { Logger } from './logger.js';
import type { ManagedKeyService } from './managed-keys/service.js';
import type { SigningKeyService } from './signing-keys/service.js';

/** What every service is built from. Created once, in main.ts. */
export interface Deps {
  config: Config;
  db: Db;
  dbKind: DbKind;
  log: Logger;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  clock: () => number;
  envelope: Envelope;
  hasher: SecretHasher;
  keys: SigningKeyService;
  audit: AuditWriter;
  /** Directory data for the token path; see DirectoryCache for its invalidation rules. */
  cache: DirectoryCache;
  /** Managed identities' platform-held keys (created with the principal, rotated by maintenance). */
  managedKeys: ManagedKeyService;
}
