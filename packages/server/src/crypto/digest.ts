import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** SHA-256, base64url. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('base64url');
}

/**
 * Keyed digest for generated high-entropy secrets (client secrets, refresh tokens): a fast HMAC is
 * right here — the secret has 256 bits of entropy, so a slow password hash adds cost, not safety.
 * The key (pepper) never lives in the store, so a database dump alone cannot test guesses.
 */
export class SecretHasher {
  constructor(private readonly pepper: Buffer) {}
  digest(secret: string): string {
    return createHmac('sha256', this.pepper).update(secret).digest('base64url');
  }
}

/** Constant-time string comparison; the length is not secret. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
