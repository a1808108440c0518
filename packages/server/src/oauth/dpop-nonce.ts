import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/digest.js';

/** How long one nonce window lasts; a nonce is accepted in its own window and the next one. */
export const DPOP_NONCE_WINDOW_MS = 60_000;

/**
 * Stateless server nonces for DPoP proofs (RFC 9449 §8): `<window>.<HMAC(key, tenant, window)>`.
 * Every node derives the same nonce from the shared master key, so no nonce is stored, and a
 * nonce stops being accepted one window after the next one starts.
 */
export class DpopNonces {
  constructor(
    private readonly key: Buffer,
    private readonly clock: () => number,
  ) {}

  /** The nonce to hand out now (`DPoP-Nonce` response header). */
  current(tenantId: string): string {
    return this.nonceFor(tenantId, Math.floor(this.clock() / DPOP_NONCE_WINDOW_MS));
  }

  /** True for a nonce of the current or the previous window of this tenant. */
  isValid(tenantId: string, nonce: string): boolean {
    const match = /^([0-9a-z]{1,12})\.[A-Za-z0-9_-]{43}$/.exec(nonce);
    if (!match?.[1]) return false;
    const window = parseInt(match[1], 36);
    const now = Math.floor(this.clock() / DPOP_NONCE_WINDOW_MS);
    if (window !== now && window !== now - 1) return false;
    return constantTimeEqual(nonce, this.nonceFor(tenantId, window));
  }

  private nonceFor(tenantId: string, window: number): string {
    const mac = createHmac('sha256', this.key).update(`${tenantId}\u0000${window}`).digest('base64url');
    return `${window.toString(36)}.${mac}`;
  }
}
