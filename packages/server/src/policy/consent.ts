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
 * Until consent records exist (issue 4: users sign in and consent), consent is what the subject
 * token carries: the user's token was issued with the scopes they consented to, and every hop
 * can only narrow it. Replace with a policy that reads consent records for (user, client, resource).
 */
export const subjectTokenConsent: DelegationPolicy = {
  async consentedScopes({ subjectToken }) {
    return subjectToken.scope ? subjectToken.scope.split(' ').filter(Boolean) : [];
  },
};
