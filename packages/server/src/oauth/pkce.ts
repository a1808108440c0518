import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../crypto/digest.js';

/** RFC 7636 §4.2: an S256 challenge is BASE64URL(SHA-256(verifier)): exactly 43 characters. */
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 §4.6: whether `verifier` hashes to `challenge` (S256, the only method Signet accepts). */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return constantTimeEqual(createHash('sha256').update(verifier).digest('base64url'), challenge);
}
