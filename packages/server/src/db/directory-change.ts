import type { Deps } from '../context.js';
import type { Db } from './connect.js';

/**
 * Runs a directory change in one transaction and, once it has committed (or failed), invalidates
 * the tenant's cached directory data. Every directory write goes through here.
 */
export async function changeDirectory<T>(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, change: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await deps.db.transaction().execute(change);
  } finally {
    deps.cache.changed(tenantId);
  }
}
