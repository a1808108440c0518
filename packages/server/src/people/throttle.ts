/**
 * Brute-force protection for sign-in, on by default (OWASP Authentication and Credential Stuffing
 * cheat sheets). Three counters of failures, each imposing a growing delay (never a hard lock)
 * after a free allowance; while a delay runs, attempts are refused without checking the password:
 *
 * - account + source: the one that bites a guesser at one account (3 free, then 1 s, 2 s, 4 s … 15 min);
 * - source: password spraying across accounts from one address (20 free, then doubling to 15 min);
 * - account, from any source: distributed guessing at one account (10 free, then doubling to 60 s).
 *   It does not apply to a browser that signed in to this account before (a device cookie), so
 *   nobody can keep a user out by guessing at their name alone; the user's own address is only ever
 *   slowed by the user's own failures.
 *
 * Unknown accounts are counted by the name tried, exactly like known ones, so throttling does not
 * reveal which names exist. Counters live in this node's memory (a multi-node install multiplies
 * the allowances by the node count) and are forgotten a day after their last failure.
 */
export interface DelayRule {
  free: number;
  baseMs: number;
  capMs: number;
}

/** The rules with the default first delay (1 s); `rulesWithDelay` scales them to SIGNET_SIGN_IN_DELAY_MS. */
export const THROTTLE_RULES = {
  accountSource: { free: 3, baseMs: 1000, capMs: 15 * 60_000 },
  source: { free: 20, baseMs: 1000, capMs: 15 * 60_000 },
  account: { free: 10, baseMs: 1000, capMs: 60_000 },
} as const satisfies Record<string, DelayRule>;

export function rulesWithDelay(baseMs: number): Record<keyof typeof THROTTLE_RULES, DelayRule> {
  return {
    accountSource: { ...THROTTLE_RULES.accountSource, baseMs },
    source: { ...THROTTLE_RULES.source, baseMs },
    account: { ...THROTTLE_RULES.account, baseMs },
  };
}

const FORGET_MS = 24 * 3600_000;
const MAX_ENTRIES = 200_000;

interface Entry {
  failures: number;
  lastFailure: number;
}

export function delayAfter(rule: DelayRule, failures: number): number {
  if (failures < rule.free) return 0;
  return Math.min(rule.capMs, rule.baseMs * 2 ** Math.min(30, failures - rule.free));
}

export interface AttemptKey {
  tenantId: string;
  /** The account: user id when it exists, else the normalised name tried. */
  account: string;
  source: string;
  /** The browser holds a device cookie for this account. */
  knownDevice: boolean;
}

export class SignInThrottle {
  private readonly entries = new Map<string, Entry>();

  private readonly rules: Record<keyof typeof THROTTLE_RULES, DelayRule>;

  constructor(
    private readonly clock: () => number,
    firstDelayMs: number = THROTTLE_RULES.accountSource.baseMs,
  ) {
    this.rules = rulesWithDelay(firstDelayMs);
  }

  private keys(k: AttemptKey): [string, DelayRule][] {
    const keys: [string, DelayRule][] = [
      [`as\n${k.tenantId}\n${k.account}\n${k.source}`, this.rules.accountSource],
      [`s\n${k.source}`, this.rules.source],
    ];
    if (!k.knownDevice) keys.push([`a\n${k.tenantId}\n${k.account}`, this.rules.account]);
    return keys;
  }

  /** Milliseconds until an attempt is allowed (0 = now). */
  waitMs(k: AttemptKey): number {
    const now = this.clock();
    let wait = 0;
    for (const [key, rule] of this.keys(k)) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (now - entry.lastFailure >= FORGET_MS) {
        this.entries.delete(key);
        continue;
      }
      wait = Math.max(wait, entry.lastFailure + delayAfter(rule, entry.failures) - now);
    }
    return Math.max(0, wait);
  }

  failed(k: AttemptKey): void {
    const now = this.clock();
    if (this.entries.size >= MAX_ENTRIES) this.prune(now);
    // The account counter counts every failure, known device or not.
    for (const [key] of this.keys({ ...k, knownDevice: false })) {
      const entry = this.entries.get(key);
      if (entry && now - entry.lastFailure < FORGET_MS) {
        entry.failures += 1;
        entry.lastFailure = now;
      } else {
        this.entries.set(key, { failures: 1, lastFailure: now });
      }
    }
  }

  /** A successful sign-in clears the account's counters for this source (not the source's own). */
  succeeded(k: AttemptKey): void {
    this.entries.delete(`as\n${k.tenantId}\n${k.account}\n${k.source}`);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.lastFailure >= FORGET_MS) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
