import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningAlg } from '../config.js';
import type { ActiveSigner } from '../signing-keys/service.js';

/** OIDC Core §2 ID token claims Signet issues. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  auth_time: number;
  nonce?: string;
  amr: string[];
  acr: string;
  at_hash?: string;
  azp?: string;
  [claim: string]: unknown;
}

/** How long an ID token is valid: it proves a sign-in to the client right now, not later. */
export const ID_TOKEN_TTL_S = 300;

const HASH_OF: Record<SigningAlg, string> = { ES256: 'sha256', RS256: 'sha256', EdDSA: 'sha512' };

/**
 * OIDC Core §3.1.3.6 `at_hash`: the left half of the hash of the access token, with the hash of the
 * ID token's `alg` (SHA-512 for Ed25519, per the OpenID EdDSA errata).
 */
export function accessTokenHash(accessToken: string, alg: SigningAlg): string {
  const digest = createHash(HASH_OF[alg]).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Signs an ID token with the tenant's active key (jose; `typ: JWT`). */
export function signIdToken(claims: IdTokenClaims, signer: ActiveSigner): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' }).sign(signer.key);
}
