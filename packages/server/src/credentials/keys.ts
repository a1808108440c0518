import { createPublicKey, X509Certificate } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { apiErrors } from '../errors.js';

/** Public JWK members kept per key type; anything else (private parts included) is refused or dropped. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ALLOWED_CURVES = new Set(['P-256', 'P-384', 'P-521', 'Ed25519']);
/** Asymmetric algorithms accepted for client assertions (no `none`, no HMAC). */
export const ASSERTION_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;

export interface ParsedKey {
  jwk: JWK;
  thumbprint: string;
  certificate: string | null;
  /** Certificate expiry, when the key came from a certificate. */
  notAfter: number | null;
}

/** Validates a client's public JWK and reduces it to its public members (plus `kid`/`alg`). */
export async function parsePublicJwk(input: Record<string, unknown>): Promise<ParsedKey> {
  const kty = input.kty;
  if (typeof kty !== 'string' || !PUBLIC_MEMBERS[kty]) throw apiErrors.invalid('jwk.kty must be RSA, EC or OKP (symmetric keys are not accepted)');
  if (PRIVATE_MEMBERS.some((m) => m in input)) throw apiErrors.invalid('jwk contains private key material; send the public key only');
  if ((kty === 'EC' || kty === 'OKP') && !ALLOWED_CURVES.has(String(input.crv))) {
    throw apiErrors.invalid('jwk.crv must be P-256, P-384, P-521 or Ed25519');
  }
  const jwk: JWK = {};
  for (const member of PUBLIC_MEMBERS[kty] ?? []) {
    if (typeof input[member] !== 'string') throw apiErrors.invalid(`jwk.${member} is required`);
    (jwk as Record<string, unknown>)[member] = input[member];
  }
  if (input.kid !== undefined) {
    if (typeof input.kid !== 'string' || input.kid.length === 0 || input.kid.length > 200) throw apiErrors.invalid('jwk.kid must be a string of 1-200 characters');
    jwk.kid = input.kid;
  }
  if (input.alg !== undefined) {
    if (!(ASSERTION_ALGS as readonly unknown[]).includes(input.alg)) throw apiErrors.invalid(`jwk.alg must be one of ${ASSERTION_ALGS.join(', ')}`);
    jwk.alg = input.alg as string;
  }
  let key;
  try {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw apiErrors.invalid('jwk is not a valid public key');
  }
  if (kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw apiErrors.invalid('RSA keys must be at least 2048 bits');
  return { jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256'), certificate: null, notAfter: null };
}

/** Takes the public key out of a PEM X.509 certificate; refuses certificates that are not valid now. */
export async function parseCertificate(pem: string, now: number): Promise<ParsedKey> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw apiErrors.invalid('certificate is not a valid PEM X.509 certificate');
  }
  const notAfter = Date.parse(cert.validTo);
  if (Number.isNaN(notAfter) || notAfter <= now) throw apiErrors.invalid('certificate has expired');
  if (Date.parse(cert.validFrom) > now + 60_000) throw apiErrors.invalid('certificate is not yet valid');
  const exported = cert.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const parsed = await parsePublicJwk(exported);
  return { ...parsed, certificate: cert.toString(), notAfter };
}
