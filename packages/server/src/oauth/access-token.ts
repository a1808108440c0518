import { SignJWT } from 'jose';
import type { PrincipalKind } from '../principals/kinds.js';
import type { ActiveSigner } from '../signing-keys/service.js';

/** RFC 9068 JWT access-token header type. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Claims of a Signet access token (RFC 9068 plus Signet's tenant and principal-kind claims). */
export interface AccessTokenClaims {
  iss: string;
  /** The principal the token is about (for machine tokens: the client itself). */
  sub: string;
  /** The resource identifier (RFC 8707). */
  aud: string;
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  client_id: string;
  /** Tenant id. */
  tid: string;
  /** The subject's principal kind, so resource servers can tell a client's token from a user's (RFC 9700 §4.15). */
  kind: PrincipalKind;
  /** Application roles granted on `aud`. */
  roles?: string[];
  /** Delegated scopes (space-separated). */
  scope?: string;
}

/** Signs access-token claims with the tenant's active key. */
export function signAccessToken(claims: AccessTokenClaims, signer: ActiveSigner): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYP }).sign(signer.key);
}
