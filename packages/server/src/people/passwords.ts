import { readFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';

/**
 * Password hashing: argon2id with the OWASP Password Storage Cheat Sheet's first configuration
 * (m = 19 MiB, t = 2, p = 1). A stored hash made with other parameters still verifies and is
 * re-hashed with the current ones at the next successful sign-in (`needsRehash`).
 */
export const ARGON2_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
/** @node-rs/argon2's Algorithm.Argon2id (a const enum, so spelled out here). */
const ARGON2ID = 2;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant work whether or not `stored` exists: pass undefined for an unknown user. */
  verify(stored: string | undefined, password: string): Promise<boolean>;
  needsRehash(stored: string): boolean;
}

export function argon2Hasher(params: { memoryCost: number; timeCost: number; parallelism: number } = ARGON2_PARAMS): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params };
  // A real hash of a random password, so an unknown user costs exactly what a known one does.
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, options),
    async verify(stored, password) {
      if (stored === undefined) {
        dummy ??= hash(`dummy-${Math.random()}`, options);
        await verify(await dummy, password).catch(() => false);
        return false;
      }
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
    needsRehash(stored) {
      const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
      return !m || Number(m[1]) !== params.memoryCost || Number(m[2]) !== params.timeCost || Number(m[3]) !== params.parallelism;
    },
  };
}

/** NIST SP 800-63B §5.1.1.2: at least 8 characters; at most 256 (argon2 cost is bounded). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  // packages/server/data/common-passwords.txt, from src/people, dist/people and dist/bundle alike.
  common ??= new Set(readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8').split('\n').filter(Boolean));
  return common;
}

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, context: { username?: string | null; email?: string | null } = {}): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `the password must have at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `the password must have at most ${PASSWORD_MAX_LENGTH} characters`;
  const folded = password.normalize('NFKC').toLowerCase();
  if (commonPasswords().has(folded)) return 'this password is on the list of commonly used passwords; choose another';
  for (const name of [context.username, context.email, context.email?.split('@')[0]]) {
    if (name && folded === name.toLowerCase()) return 'the password must not be your user name or email address';
  }
  return undefined;
}
