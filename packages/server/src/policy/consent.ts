import { IDENTITY_RESOURCE, IDENTITY_SCOPES } from '../consents/model.js';
import { consentStore } from '../consents/store.js';
import type { Deps } from '../context.js';
import type { AccessTokenClaims } from '../oauth/access-token.js';
import type { Resource } from '../resources/model.js';
import type { Tenant } from '../tenants/model.js';

/** What a delegation decision is about: the user, the client acting for them, the target and the token presented. */
export interface ConsentQuestion {
  tenant: Tenant;
  userId: string;
  /** The principal that will act for the user (the current actor of the exchange). */
  clientId: string;
  resource: Resource;
  /** The verified subject token of the exchange. */
  subjectToken: AccessTokenClaims;
}

/**
 * Where delegated permission comes from: the scopes a user consented to let a client use on a
 * resource for them. Token exchange intersects this with the request, the subject token and the
 * actor's blueprint, so a hop can only narrow.
 */
export interface DelegationPolicy {
  consentedScopes(question: ConsentQuestion): Promise<string[]>;
}

/**
 * The client a delegation chain starts from: the one the user signed in to and consented to (the
 * innermost actor of an exchanged token, else the token's own client). Every agent further down
 * acts within that consent.
 */
export function chainRoot(claims: Pick<AccessTokenClaims, 'client_id' | 'act'>): string {
  let root = claims.client_id;
  for (let act = claims.act; act; act = act.act) root = act.sub;
  return root;
}

const isIdentityScope = (scope: string): boolean => (IDENTITY_SCOPES as readonly string[]).includes(scope);

/** Scopes in live consents (the user's own, and admin consents for every user) for a client on a resource. */
async function consented(deps: Pick<Deps, 'db' | 'clock'>, tenantId: string, userId: string, clientId: string, resource: string): Promise<Set<string>> {
  const live = await consentStore.live(deps.db, tenantId, userId, clientId, deps.clock());
  return new Set(live.filter((c) => c.resource === resource).flatMap((c) => c.scopes));
}

/**
 * Consent records decide: a hop may use on the target resource only scopes the user (or an admin,
 * for every user) consented to for the chain's root client on that resource.
 */
export function consentRecords(deps: Pick<Deps, 'db' | 'clock'>): DelegationPolicy {
  return {
    async consentedScopes({ tenant, userId, resource, subjectToken }) {
      return [...(await consented(deps, tenant.id, userId, chainRoot(subjectToken), resource.identifier))];
    },
  };
}

/**
 * Whether a delegated (user) token still rests on consent: every scope it carries must still be
 * consented for its chain's root client on its audience. Revoking (or the expiry of) a consent
 * turns every token derived from it inactive, however far down a delegation chain.
 */
export async function consentStillGiven(deps: Pick<Deps, 'db' | 'clock'>, tenantId: string, claims: AccessTokenClaims): Promise<boolean> {
  if (claims.kind !== 'user' || !claims.scope) return true;
  const scopes = claims.scope.split(' ').filter(Boolean);
  const root = chainRoot(claims);
  const granted = await consented(deps, tenantId, claims.sub, root, claims.aud);
  // OpenID Connect scopes are consented once per client, under the identity pseudo-resource.
  const identity = scopes.some((s) => isIdentityScope(s)) ? await consented(deps, tenantId, claims.sub, root, IDENTITY_RESOURCE) : new Set<string>();
  return scopes.every((scope) => granted.has(scope) || identity.has(scope));
}
