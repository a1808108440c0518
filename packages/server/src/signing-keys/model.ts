import type { JWK } from 'jose';
import type { SigningAlg } from '../config.js';

/**
 * Key lifecycle: `next` (published in JWKS, signs nothing) → `active` (signs) → `retired`
 * (published until every token it signed has expired, then removed).
 */
export type SigningKeyStatus = 'next' | 'active' | 'retired';

export interface SigningKey {
  id: string;
  tenantId: string;
  alg: SigningAlg;
  status: SigningKeyStatus;
  publicJwk: JWK;
  /** PKCS#8 private key sealed by the master-key envelope (context = key id). */
  sealedPrivateKey: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  /** When the key leaves the JWKS (retired + longest token lifetime + skew). */
  expiresAt: number | null;
}
