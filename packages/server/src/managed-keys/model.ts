import type { JWK } from 'jose';
import { Type } from 'typebox';

/**
 * A managed identity's key pair, generated and held by Signet. The private half is sealed by the
 * master-key envelope and never leaves the server: no API returns it, no person sees it.
 * Generation n+1 is created at half of generation n's lifetime, so two keys are valid during the
 * overlap and there is never a moment without a valid key.
 */
export interface ManagedKey {
  /** RFC 7638 thumbprint of the public key (also its `kid`). */
  id: string;
  tenantId: string;
  principalId: string;
  generation: number;
  alg: 'ES256';
  publicJwk: JWK;
  sealedPrivateKey: string;
  createdAt: number;
  expiresAt: number;
}

export const ManagedKeyView = Type.Object({
  kid: Type.String({ description: 'RFC 7638 thumbprint of the public key' }),
  generation: Type.Integer(),
  alg: Type.Literal('ES256'),
  publicJwk: Type.Record(Type.String(), Type.Unknown(), { description: 'Public key only; the private key never leaves Signet' }),
  createdAt: Type.String(),
  rotatesAt: Type.String({ description: 'When the next key is created (half the lifetime)' }),
  expiresAt: Type.String(),
});
