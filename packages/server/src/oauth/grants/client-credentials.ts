import { oauthErrors } from '../../errors.js';
import { grantStore } from '../../grants/store.js';
import { allowedRoles, blueprintFor, capped, mayActAlone, tokenLifetimeCap } from '../../policy/blueprint-policy.js';
import type { GrantContext, GrantResult } from './grant.js';
import { resolveTarget } from './target.js';

/**
 * client_credentials (RFC 6749 §4.4): the client acts on its own behalf and receives the
 * application roles granted to it on one resource — all of them, or those it names. Asking for
 * anything not granted is refused whole: nothing is allowed unless granted.
 */
export async function clientCredentialsGrant(ctx: GrantContext): Promise<GrantResult> {
  const { deps, tenant, client, params } = ctx;
  const target = await resolveTarget(deps, tenant, params);
  const blueprint = await blueprintFor(deps, tenant.id, client.principal);
  if (!mayActAlone(blueprint)) throw oauthErrors.unauthorizedClient('this agent\'s blueprint does not let it act on its own (client_credentials)');
  // Effective = granted ∩ blueprint: narrowing a blueprint narrows its agents' next tokens.
  const held = await deps.cache.get(tenant.id, `roles:${client.principal.id}:${target.resource.id}`, () =>
    grantStore.roles(deps.db, tenant.id, client.principal.id, target.resource.id),
  );
  const granted = capped(held, allowedRoles(blueprint, target.resource.id));
  if (target.requested === null) {
    if (granted.length === 0) throw oauthErrors.invalidScope(`no role on "${target.resource.identifier}" is granted to this client`);
  } else {
    const missing = target.requested.filter((role) => !granted.includes(role));
    if (missing.length > 0) throw oauthErrors.invalidScope(`not granted: ${missing.join(' ').slice(0, 300)}`);
  }
  const roles = target.requested ?? granted;
  const claims: GrantResult['claims'] = { sub: client.principal.id, aud: target.resource.identifier, roles };
  return { claims, scope: params.scope, ttlCapSeconds: tokenLifetimeCap(blueprint) };
}
