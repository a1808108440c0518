import { decodeJwt } from 'jose';
import { isId } from '../../crypto/ids.js';
import { oauthErrors } from '../../errors.js';
import { FederationRefusal, refusalAsOAuthError, verifyFederatedToken } from '../../federation/verify.js';
import type { Params } from '../params.js';
import { type AuthenticatedClient, type ClientAuthContext, loadClient, touchCredential } from './client.js';
import { JWT_BEARER_ASSERTION } from './private-key-jwt.js';

/**
 * Whether a client assertion comes from an external issuer (workload identity federation) rather
 * than from the client itself (private_key_jwt, where iss = sub = the client's principal id).
 * Principal ids are UUIDs, never URLs, so an `iss` that is not a principal id is external.
 */
export function isExternalAssertion(params: Params): boolean {
  if (params.client_assertion === undefined) return false;
  try {
    const { iss } = decodeJwt(params.client_assertion);
    return typeof iss === 'string' && !isId(iss);
  } catch {
    return false;
  }
}

/**
 * Workload identity federation as client authentication (RFC 7523 §2.2 with an external issuer):
 * the `client_assertion` is the workload's token from its platform (GitHub Actions, Kubernetes, a
 * cloud), verified against a federated credential. `client_id`, when sent, names the principal;
 * without it the token must match the credentials of exactly one principal.
 */
export async function authenticateWithFederatedAssertion(ctx: ClientAuthContext, params: Params): Promise<AuthenticatedClient> {
  if (params.client_assertion_type !== JWT_BEARER_ASSERTION) throw oauthErrors.invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  const assertion = params.client_assertion as string;
  if (params.client_id !== undefined) await loadClient(ctx, params.client_id);
  let match;
  try {
    match = await verifyFederatedToken(ctx, assertion, params.client_id);
  } catch (error) {
    if (error instanceof FederationRefusal) throw refusalAsOAuthError(error, 'invalid_client');
    throw error;
  }
  const principal = await loadClient(ctx, match.principal.id);
  touchCredential(ctx, match.credential);
  return { principal, credential: match.credential, method: 'federated_jwt', federated: { issuer: match.issuer, subject: match.subject, jti: match.jti } };
}
