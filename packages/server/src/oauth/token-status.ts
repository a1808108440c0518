import type { Deps } from '../context.js';
import { consentStillGiven } from '../policy/consent.js';
import { actChain, firstNotInStanding } from '../policy/standing.js';
import type { Tenant } from '../tenants/model.js';
import type { AccessTokenClaims } from './access-token.js';
import { isRevoked } from './revocation-list.js';
import { InvalidAccessToken, type AccessTokenVerifier } from './verify-access-token.js';

export type TokenStatus = { active: true; claims: AccessTokenClaims } | { active: false; reason: string; claims?: AccessTokenClaims };

/**
 * Whether a Signet access token is still good, as RFC 7662 introspection and every kill-switch
 * check sees it: signed by this tenant's key, unexpired, not revoked, and its subject, its client
 * and every actor of its `act` chain still in good standing (not disabled, suspended, deleted or
 * expired), and for a delegated token the consent it rests on still given. Standing and revocations
 * are read through the directory cache (bounded staleness); consent from the database.
 */
export async function accessTokenStatus(deps: Pick<Deps, 'db' | 'cache' | 'clock'>, verifier: AccessTokenVerifier, tenant: Tenant, token: string): Promise<TokenStatus> {
  let claims: AccessTokenClaims;
  try {
    const verified = await verifier.verify(token, null);
    if (verified.tenant.id !== tenant.id) return { active: false, reason: 'issued by another tenant' };
    claims = verified.claims;
  } catch (error) {
    if (error instanceof InvalidAccessToken) return { active: false, reason: error.message };
    throw error;
  }
  if (await isRevoked(deps, tenant.id, claims.jti)) return { active: false, reason: 'revoked', claims };
  const stopped = await firstNotInStanding(deps, tenant.id, [claims.sub, claims.client_id, ...actChain(claims)]);
  if (stopped) return { active: false, reason: `principal ${stopped.id} is ${stopped.standing}`, claims };
  if (!(await consentStillGiven(deps, tenant.id, claims))) return { active: false, reason: 'the consent it rests on was revoked or expired', claims };
  return { active: true, claims };
}
