import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for secrets at rest (signing keys). The stored form names the master key id
 * so a key change is detectable, and binds a context string (e.g. the signing key id) as AAD so a
 * ciphertext cannot be moved to another row.
 * Format: `v1.<master kid>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export class Envelope {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'signet envelope v1', 32));
    this.keyId = createHash('sha256').update(masterKey).digest('base64url').slice(0, 11);
  }

  seal(plaintext: Buffer | string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Buffer {
    const [version, kid, iv, ct, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || !ct || !tag) throw new Error('unrecognised envelope format');
    if (kid !== this.keyId) throw new Error(`sealed under master key ${kid}, but the configured master key is ${this.keyId}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
  }
}

/** Derives an independent sub-key of the master key for a named purpose (e.g. the secret pepper). */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `signet ${purpose} v1`, 32));
}
