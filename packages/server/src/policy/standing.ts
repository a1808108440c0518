import type { Deps } from '../context.js';
import type { ActClaim } from '../oauth/access-token.js';
import type { Principal } from '../principals/model.js';
import { principalStore } from '../principals/store.js';

/** Whether a principal may take part in a token right now; anything but `active` stops it everywhere. */
export type Standing = 'active' | 'disabled' | 'suspended' | 'deleted' | 'expired' | 'unknown';

/** The standing of a loaded principal at `now`: its status, then its expiry (agents). */
export function standingOfPrincipal(principal: Principal | undefined, now: number): Standing {
  if (!principal) return 'unknown';
  if (principal.status !== 'active') return principal.status;
  if (principal.expiresAt !== null && principal.expiresAt <= now) return 'expired';
  return 'active';
}

/**
 * The standing of `principalId`, read through the directory cache: a disable, suspension, deletion
 * or expiry applies on this node to the very next call, on other nodes within
 * SIGNET_CACHE_STALENESS_MS.
 */
export async function standingOf(deps: Pick<Deps, 'db' | 'cache' | 'clock'>, tenantId: string, principalId: string): Promise<Standing> {
  const principal = await deps.cache.get(tenantId, `principal:${principalId}`, () => principalStore.get(deps.db, tenantId, principalId));
  return standingOfPrincipal(principal, deps.clock());
}

/** The first of `ids` not in good standing, or null when every one is active. */
export async function firstNotInStanding(deps: Pick<Deps, 'db' | 'cache' | 'clock'>, tenantId: string, ids: readonly string[]): Promise<{ id: string; standing: Standing } | null> {
  for (const id of new Set(ids)) {
    const standing = await standingOf(deps, tenantId, id);
    if (standing !== 'active') return { id, standing };
  }
  return null;
}

/** Every actor of an `act` chain, outermost (current) first; malformed members end the walk. */
export function actChain(claims: { act?: unknown }): string[] {
  const chain: string[] = [];
  let act = claims.act as Partial<ActClaim> | undefined;
  while (act && typeof act === 'object' && typeof act.sub === 'string' && chain.length < 32) {
    chain.push(act.sub);
    act = act.act;
  }
  return chain;
}
