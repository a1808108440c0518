import { oauthErrors } from '../../errors.js';
import type { Tenant } from '../../tenants/model.js';
import type { AccessTokenClaims } from '../access-token.js';
import { InvalidAccessToken, type AccessTokenVerifier } from '../verify-access-token.js';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** Subject token types Signet accepts: its own RFC 9068 access tokens, named either way. */
const SUBJECT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE.accessToken, TOKEN_TYPE.jwt];

/**
 * The subject token of an exchange: a Signet access token of this tenant (signature, issuer, tenant,
 * expiry checked by the one verifier), about a user. RFC 8693 §2.2.2: an invalid or unacceptable
 * subject token is `invalid_request`.
 */
export async function verifySubjectToken(verifier: AccessTokenVerifier, tenant: Tenant, token: string | undefined, type: string | undefined): Promise<AccessTokenClaims> {
  if (token === undefined) throw oauthErrors.invalidRequest('subject_token is missing');
  if (type === undefined) throw oauthErrors.invalidRequest('subject_token_type is missing');
  if (!SUBJECT_TOKEN_TYPES.includes(type)) throw oauthErrors.invalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:access_token or …:jwt');
  let verified: Awaited<ReturnType<AccessTokenVerifier['verify']>>;
  try {
    verified = await verifier.verify(token, null);
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw oauthErrors.invalidRequest('subject_token is invalid', error.message);
    throw error;
  }
  if (verified.tenant.id !== tenant.id) throw oauthErrors.invalidRequest('subject_token is invalid', 'issued by another tenant');
  const { claims } = verified;
  if (claims.kind !== 'user') throw oauthErrors.invalidRequest('subject_token must be a user\'s token (delegation acts for people)', `subject kind ${String(claims.kind)}`);
  return claims;
}
