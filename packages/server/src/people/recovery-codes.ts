import { randomInt } from 'node:crypto';

/**
 * Recovery codes: 10 single-use codes of 10 characters from a 31-character alphabet without look-alikes
 * (49 bits each), shown once, stored only as keyed digests (high-entropy generated secrets: HMAC,
 * not a password hash). Typed codes are compared without case, spaces or dashes.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** The canonical form that is digested. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '');
}
