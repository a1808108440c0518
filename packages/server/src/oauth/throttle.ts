import { OAuthError } from '../errors.js';

export interface ThrottleOptions {
  /** Failed client authentications allowed per source address per window. */
  maxFailures: number;
  windowMs: number;
  clock: () => number;
  /** What is counted, for the 429's description (default: failed client authentications). */
  counted?: string;
}

/**
 * Brute-force protection for client authentication, on by default. It counts failures per source
 * address, not per client_id: keying on the client would let anyone who knows a client_id lock
 * that workload out.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(private readonly opts: ThrottleOptions) {}

  /** Throws 429 while `source` is over its budget. */
  check(source: string): void {
    const entry = this.failures.get(source);
    if (!entry) return;
    const now = this.opts.clock();
    if (now - entry.windowStart >= this.opts.windowMs) {
      this.failures.delete(source);
      return;
    }
    if (entry.count >= this.opts.maxFailures) {
      const retryAfter = Math.ceil((entry.windowStart + this.opts.windowMs - now) / 1000);
      throw new OAuthError('temporarily_unavailable', `too many ${this.opts.counted ?? 'failed client authentications'} from this address; retry in ${retryAfter} s`, undefined, { status: 429, retryAfter });
    }
  }

  fail(source: string): void {
    const now = this.opts.clock();
    const entry = this.failures.get(source);
    if (!entry || now - entry.windowStart >= this.opts.windowMs) {
      if (this.failures.size >= 100_000) this.prune(now);
      this.failures.set(source, { count: 1, windowStart: now });
    } else {
      entry.count += 1;
    }
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.windowStart >= this.opts.windowMs) this.failures.delete(key);
    if (this.failures.size >= 100_000) this.failures.clear();
  }
}
