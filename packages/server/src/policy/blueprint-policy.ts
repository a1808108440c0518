import type { Blueprint } from '../blueprints/model.js';
import { blueprintStore } from '../blueprints/store.js';
import type { Deps } from '../context.js';
import type { Principal } from '../principals/model.js';

/**
 * What a principal may receive, as far as its blueprint decides. Effective permissions are always
 * `granted ∩ blueprint`, computed at issuance from the blueprint read through the directory cache,
 * so narrowing a blueprint narrows every one of its agents' next tokens at once.
 */

/** The blueprint `principal` was created from, or null (not an agent, or an agent from before blueprints). */
export async function blueprintFor(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, principal: Pick<Principal, 'blueprintId'>): Promise<Blueprint | null> {
  const id = principal.blueprintId;
  if (!id) return null;
  return (await deps.cache.get(tenantId, `blueprint:${id}`, () => blueprintStore.get(deps.db, tenantId, id))) ?? null;
}

/** Application roles the blueprint allows on a resource; null when there is no blueprint (no cap). */
export function allowedRoles(blueprint: Blueprint | null, resourceId: string): string[] | null {
  if (!blueprint) return null;
  if (!blueprint.allowAppRoles) return [];
  return blueprint.permissions.find((p) => p.resourceId === resourceId)?.roles ?? [];
}

/** Delegated scopes the blueprint allows on a resource; null when there is no blueprint (no cap). */
export function allowedScopes(blueprint: Blueprint | null, resourceId: string): string[] | null {
  if (!blueprint) return null;
  if (!blueprint.allowDelegation) return [];
  return blueprint.permissions.find((p) => p.resourceId === resourceId)?.scopes ?? [];
}

/** `granted ∩ allowed`; `allowed` null means uncapped. Order of `granted` is kept. */
export function capped(granted: readonly string[], allowed: readonly string[] | null): string[] {
  return allowed === null ? [...granted] : granted.filter((g) => allowed.includes(g));
}

export function mayActAlone(blueprint: Blueprint | null): boolean {
  return blueprint === null || blueprint.allowAppRoles;
}

export function mayActForUsers(blueprint: Blueprint | null): boolean {
  return blueprint === null || blueprint.allowDelegation;
}

/** Lifetime cap in seconds for tokens issued to the blueprint's agents; null = none beyond tenant and install. */
export function tokenLifetimeCap(blueprint: Blueprint | null): number | null {
  return blueprint ? blueprint.accessTokenLifetimeSeconds : null;
}

export function maxDelegationDepth(blueprint: Blueprint | null): number | null {
  return blueprint ? blueprint.maxDelegationDepth : null;
}

/** Whether tokens for the principal must be DPoP-bound (RFC 9449): its own setting or its blueprint's. The token endpoint enforces it. */
export function requiresDpop(principal: { requireDpop?: boolean }, blueprint: Blueprint | null): boolean {
  return principal.requireDpop === true || (blueprint?.requireDpop ?? false);
}
