import { oauthErrors } from '../../errors.js';
import type { Tenant } from '../../tenants/model.js';
import type { AccessTokenClaims } from '../access-token.js';
import type { Deps } from '../../context.js';
import { accessTokenStatus } from '../token-status.js';
import type { AccessTokenVerifier } from '../verify-access-token.js';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** Subject token types Signet accepts: its own RFC 9068 access tokens, named either way. */
const SUBJECT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt];

/** A readable subject token, and why it can no longer be used (revoked, or a principal it names was stopped). */
export interface SubjectToken {
  claims: AccessTokenClaims;
  stopped: string | undefined;
}

/**
 * The subject token of an exchange: a Signet access token of this tenant (signature, issuer, tenant,
 * expiry checked by the one verifier), about a user. RFC 8693 §2.2.2: an invalid or unacceptable
 * subject token is `invalid_request`. Whether it is still good (not revoked; its user, client and
 * every actor in good standing) is the same check introspection makes (`accessTokenStatus`).
 */
export async function readSubjectToken(deps: Pick<Deps, 'db' | 'cache' | 'clock'>, verifier: AccessTokenVerifier, tenant: Tenant, token: string | undefined, type: string | undefined): Promise<SubjectToken> {
  if (token === undefined) throw oauthErrors.invalidRequest('subject_token is missing');
  if (type === undefined) throw oauthErrors.invalidRequest('subject_token_type is missing');
  if (!SUBJECT_TOKEN_TYPES.includes(type)) throw oauthErrors.invalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:access_token or …:jwt');
  const status = await accessTokenStatus(deps, verifier, tenant, token);
  if (!status.claims) throw oauthErrors.invalidRequest('subject_token is invalid', status.active ? undefined : status.reason);
  const { claims } = status;
  if (claims.kind !== 'user') throw oauthErrors.invalidRequest('subject_token must be a user\'s token (delegation acts for people)', `subject kind ${String(claims.kind)}`);
  return { claims, stopped: status.active ? undefined : status.reason };
}
