import type { Deps } from '../context.js';
import { bumpDirectoryVersion } from '../cache/directory-watch.js';
import type { Db } from './connect.js';

/**
 * Runs a directory change in one transaction and, once it has committed (or failed), invalidates
 * the tenant's cached directory data on this node; the same transaction bumps the tenant's
 * directory version, which other nodes poll (cache/directory-watch.ts). Every directory write goes
 * through here.
 */
export async function changeDirectory<T>(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, change: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const result = await change(trx);
      await bumpDirectoryVersion(trx, tenantId, Date.now());
      return result;
    });
  } finally {
    deps.cache.changed(tenantId);
  }
}
