import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from '../config.js';
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
  /** RFC 8693 §4.1: the current actor, nesting earlier actors (outermost = current). */
  act?: ActClaim;
  /** RFC 8693 §4.4: who may act for the subject of this token. */
  may_act?: ActorIdentity;
  /** RFC 9449 §6.1: the token is bound to the DPoP key with this RFC 7638 thumbprint. */
  cnf?: { jkt: string };
}

/** A principal named in a delegation claim. */
export interface ActorIdentity {
  sub: string;
  kind?: PrincipalKind;
  client_id?: string;
}

/** One hop of an RFC 8693 delegation chain: the actor, and the actor before it. */
export interface ActClaim extends ActorIdentity {
  act?: ActClaim;
}

/** node:crypto parameters for each JWS algorithm Signet signs with (RFC 7518 §3.3, §3.4; RFC 8037). */
const SIGN_PARAMS: Record<SigningAlg, { hash: string | null; dsaEncoding?: 'ieee-p1363' }> = {
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  EdDSA: { hash: null },
  RS256: { hash: 'sha256' },
};

const headers = new WeakMap<ActiveSigner, string>();

function encodedHeader(signer: ActiveSigner): string {
  let header = headers.get(signer);
  if (!header) {
    header = Buffer.from(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYP })).toString('base64url');
    headers.set(signer, header);
  }
  return header;
}

/**
 * Signs access-token claims as a compact JWS (RFC 7515 §7.1) with the tenant's active key.
 *
 * This is the one place Signet produces a JWS without `jose`: jose 6 signs only through WebCrypto's
 * asynchronous path, about three times the cost of a direct node:crypto signature, and this runs
 * for every token. Everything else — every verification, client assertions, JWKS — uses jose, and
 * the tests verify these tokens with jose for every algorithm.
 */
export function signAccessToken(claims: AccessTokenClaims, signer: ActiveSigner): string {
  const input = `${encodedHeader(signer)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const { hash, dsaEncoding } = SIGN_PARAMS[signer.alg];
  const key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } = dsaEncoding ? { key: signer.key, dsaEncoding } : signer.key;
  return `${input}.${cryptoSign(hash, Buffer.from(input), key).toString('base64url')}`;
}
