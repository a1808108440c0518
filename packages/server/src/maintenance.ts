import { applyAuditRetention } from './audit/retention.js';
import type { Deps } from './context.js';
import { nodeStore } from './nodes/store.js';
import { forgetExpiredJtis } from './oauth/replay.js';
import { forgetExpiredAuthorizations } from './oauth/tokens/cleanup.js';
import { forgetExpiredSignIns } from './people/cleanup.js';
import { forgetExpiredRevocations } from './oauth/revocation-list.js';
import { tenantStore } from './tenants/store.js';

/**
 * Periodic housekeeping on every node: scheduled signing-key rotation (guarded, so concurrent
 * nodes rotate once), managed identities' next keys at half their lifetime (guarded the same way),
 * and removal of expired client-assertion jtis.
 */
export async function runMaintenance(deps: Deps): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await tenantStore.list(deps.db, { limit: 200, cursor });
    for (const tenant of page.items) {
      if (tenant.status !== 'active') continue;
      try {
        await deps.keys.rotateIfDue(tenant.id);
      } catch (error) {
        deps.log.error({ err: error, tenantId: tenant.id }, 'signing key rotation failed');
      }
    }
    cursor = page.items.at(-1)?.id;
    if (!page.nextCursor) break;
  } while (cursor);
  await forgetExpiredJtis(deps.db, deps.clock());
  await forgetExpiredAuthorizations(deps.db, deps.clock());
  await forgetExpiredSignIns(deps.db, deps.clock());
  try {
    await deps.managedKeys.rotateDue();
    await nodeStore.deleteExpiredKeys(deps.db, deps.clock());
  } catch (error) {
    deps.log.error({ err: error }, 'managed identity key rotation failed');
  }
  await forgetExpiredRevocations(deps.db, deps.clock());
  try {
    for (const segment of await applyAuditRetention(deps.db, deps.dbKind, deps.clock())) deps.log.info(segment, 'audit events past retention deleted');
  } catch (error) {
    deps.log.error({ err: error }, 'audit retention failed');
  }
}

/** Runs maintenance now and then every `intervalMs`; returns a stop function. */
export function scheduleMaintenance(deps: Deps, intervalMs: number): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(() => runMaintenance(deps)).catch((error: unknown) => deps.log.error({ err: error }, 'maintenance failed'));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
