import { sql } from 'kysely';
import type { Deps } from '../context.js';
import type { Db } from '../db/connect.js';

/**
 * Cross-node invalidation through the shared database. Every directory change bumps its tenant's
 * row in `directory_versions` inside the change's own transaction (`bumpDirectoryVersion`); every
 * node polls the recently changed rows every `pollMs` and invalidates its cache for each tenant whose
 * version moved. So a disable on one node reaches every other node within about one poll interval,
 * well inside SIGNET_CACHE_STALENESS_MS, which remains the bound if polling ever fails.
 */
export async function bumpDirectoryVersion(trx: Db, tenantId: string, now: number): Promise<void> {
  await trx
    .insertInto('directory_versions')
    .values({ tenant_id: tenantId, version: 1, changed_at: now })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ version: sql<number>`directory_versions.version + 1`, changed_at: now }))
    .execute();
}

/** Rows changed within this window are compared each poll; it covers clock skew between nodes. */
const WINDOW_MS = 60_000;

export interface DirectoryWatch {
  stop(): Promise<void>;
}

/** Starts polling; returns a stop function. Failures are logged and retried; the TTL still bounds staleness. */
export function watchDirectory(deps: Pick<Deps, 'db' | 'cache' | 'log'>, pollMs: number): DirectoryWatch {
  const seen = new Map<string, number>();
  let running: Promise<void> = Promise.resolve();
  let first = true;
  const poll = async () => {
    const rows = await deps.db
      .selectFrom('directory_versions')
      .select(['tenant_id', 'version'])
      // Wall-clock time on both sides (not the injectable token clock): this is about commit order.
      .where('changed_at', '>', Date.now() - WINDOW_MS)
      .execute();
    for (const row of rows) {
      const version = Number(row.version);
      if (seen.get(row.tenant_id) !== version && !first) deps.cache.changed(row.tenant_id);
      seen.set(row.tenant_id, version);
    }
    first = false;
  };
  const timer = setInterval(() => {
    running = running.then(poll).catch((error: unknown) => deps.log.warn({ err: error }, 'directory change poll failed'));
  }, pollMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
