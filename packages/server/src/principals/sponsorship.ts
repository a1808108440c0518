import type { AuditActor } from '../audit/model.js';
import type { Deps } from '../context.js';
import type { Db } from '../db/connect.js';
import { queueStop, sessionRevoked } from '../ssf/signals.js';
import { issuerUrl, type Tenant } from '../tenants/model.js';
import { principalStore } from './store.js';

/**
 * Agents are never orphaned: when `sponsorId` stops being an active sponsor (disabled or deleted),
 * every active agent it sponsored that has no other active sponsor is suspended, in the caller's
 * transaction, and `principal.suspended` is audited with the reason. A suspended agent gets no
 * token until an admin names an active sponsor and enables it.
 */
export async function suspendOrphanedAgents(deps: Pick<Deps, 'audit' | 'clock' | 'config'>, trx: Db, tenant: Tenant, sponsorId: string, actor: AuditActor): Promise<string[]> {
  const suspended: string[] = [];
  for (const agentId of await principalStore.sponsoredBy(trx, tenant.id, sponsorId)) {
    const agent = await principalStore.get(trx, tenant.id, agentId);
    if (!agent || agent.status !== 'active') continue;
    let active = 0;
    for (const id of agent.sponsors) {
      if (id === sponsorId) continue;
      if ((await principalStore.get(trx, tenant.id, id))?.status === 'active') active += 1;
    }
    if (active > 0) continue;
    const now = deps.clock();
    const after = { ...agent, status: 'suspended' as const, updatedAt: now };
    await principalStore.update(trx, after);
    await deps.audit.recordInTransaction(trx, [
      {
        tenantId: tenant.id,
        type: 'principal.suspended',
        outcome: 'success',
        actorId: actor.id,
        jti: actor.jti,
        target: { type: 'principal', id: agent.id },
        source: actor.source,
        data: { actorTenantId: actor.tenantId, reason: 'no active sponsor', lastSponsor: sponsorId, before: agent, after },
      },
    ]);
    await queueStop(deps, trx, tenant.id, sessionRevoked(issuerUrl(deps.config.publicUrl, tenant), agent.id, 'policy', 'agent suspended: no active sponsor', now));
    suspended.push(agent.id);
  }
  return suspended;
}
