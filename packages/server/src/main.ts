import type { FastifyInstance } from 'fastify';
import { type AuditTrail, startAuditTrail } from './audit/trail.js';
import { bootstrap } from './bootstrap.js';
import { DirectoryCache } from './cache/directory-cache.js';
import { watchDirectory } from './cache/directory-watch.js';
import { startDelivery } from './ssf/delivery.js';
import { type Config, loadConfig } from './config.js';
import type { Deps } from './context.js';
import { SecretHasher } from './crypto/digest.js';
import { deriveKey, Envelope } from './crypto/envelope.js';
import { connect } from './db/connect.js';
import { buildApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { ManagedKeyService } from './managed-keys/service.js';
import { runMaintenance, scheduleMaintenance } from './maintenance.js';
import { createServices, type Services } from './services.js';
import { SigningKeyService } from './signing-keys/service.js';

export interface Signet {
  app: FastifyInstance;
  deps: Deps;
  services: Services;
  auditTrail: AuditTrail;
  /** Path of the admin credentials file, when this start created the bootstrap admin. */
  credentialsFile: string | undefined;
  close(): Promise<void>;
}

export interface CreateOptions {
  clock?: () => number;
  log?: Logger;
  /** How often maintenance (key rotation, cleanup) runs; default one minute. */
  maintenanceIntervalMs?: number;
}

/** Composition root: config → store → services → http. Does not listen. */
export async function createSignet(config: Config, options: CreateOptions = {}): Promise<Signet> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  const connection = await connect(config.database, {
    backgroundCheckpoints: { onError: (message) => log.warn({ err: message }, 'SQLite WAL checkpoint failed; retrying') },
  });
  const envelope = new Envelope(config.masterKey);
  let trail: AuditTrail;
  try {
    trail = await startAuditTrail({
      db: connection.db,
      dbKind: connection.kind,
      sqlite: connection.sqlite,
      writeGate: connection.checkpointer?.writeGate,
      discard: config.auditWrites !== 'on',
      log,
      clock,
      envelope,
      sealIntervalMs: config.auditSealSeconds * 1000,
      sealEveryEvents: config.auditSealEvents,
    });
  } catch (error) {
    await connection.close();
    throw error;
  }
  const audit = trail.writer;
  const keys = new SigningKeyService({
    audit,
    db: connection.db,
    envelope,
    log,
    clock,
    alg: config.signingAlg,
    rotationMs: config.keyRotationSeconds * 1000,
    maxTokenLifetimeMs: config.accessTokenTtlMaxSeconds * 1000,
    stalenessMs: config.cacheStalenessMs,
  });
  const deps: Deps = {
    config,
    db: connection.db,
    dbKind: connection.kind,
    log,
    clock,
    envelope,
    hasher: new SecretHasher(deriveKey(config.masterKey, 'secret pepper')),
    keys,
    audit,
    cache: new DirectoryCache(config.cacheStalenessMs, clock),
    managedKeys: new ManagedKeyService({ db: connection.db, envelope, clock, config, audit, log }),
  };
  try {
    const services = createServices(deps);
    const boot = await bootstrap(deps, services);
    await runMaintenance(deps);
    const app = await buildApp(deps, services);
    const stopMaintenance = scheduleMaintenance(deps, options.maintenanceIntervalMs ?? 60_000);
    // Other nodes' changes arrive within one poll (a tenth of the staleness bound, 100 ms by default).
    const directoryWatch = watchDirectory(deps, Math.max(20, Math.floor(config.cacheStalenessMs / 10)));
    const signals = startDelivery(deps);
    return {
      app,
      deps,
      services,
      credentialsFile: boot?.credentialsFile,
      auditTrail: trail,
      async close() {
        await app.close();
        await directoryWatch.stop();
        await signals.stop();
        await stopMaintenance();
        await trail.stop();
        await connection.close();
      },
    };
  } catch (error) {
    await trail.stop().catch(() => undefined);
    await connection.close();
    throw error;
  }
}

export interface RunningServer {
  url: string;
  signet: Signet;
  close(): Promise<void>;
}

/** Loads config from the environment, starts Signet and listens. */
export async function start(env: Record<string, string | undefined> = process.env): Promise<RunningServer> {
  const config = loadConfig(env);
  const signet = await createSignet(config);
  await signet.app.listen({ port: config.port, host: config.host });
  const address = signet.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  signet.deps.log.info({ url, issuer: `${config.publicUrl}/default`, database: config.database.kind }, 'signet is listening');
  return { url, signet, close: () => signet.close() };
}
