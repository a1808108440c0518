import type { FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import type { Tenant } from '../tenants/model.js';
import { type FailureReason, signInFailed, type SignInStep } from './audit-events.js';
import { isKnownDevice } from './device.js';
import { factorStore } from './factor-store.js';
import { type PasswordHasher } from './passwords.js';
import { normaliseRecoveryCode } from './recovery-codes.js';
import { SignInThrottle, type AttemptKey } from './throttle.js';
import { totpStep } from './totp.js';
import { type SignInUser, userStore } from './user-store.js';

export type Attempt<T> = { ok: true; value: T } | { ok: false; reason: FailureReason; retryAfterSeconds?: number };

/**
 * Checks what people present when signing in: passwords (with throttling, identical outcomes and
 * comparable timing for unknown users and wrong passwords, transparent re-hashing) and second
 * factors (TOTP without replay, single-use recovery codes). Every refusal is audited here.
 */
export class SignInChecks {
  readonly throttle: SignInThrottle;

  constructor(
    private readonly deps: Deps,
    readonly passwords: PasswordHasher,
  ) {
    this.throttle = new SignInThrottle(deps.clock, deps.config.signInDelayMs);
  }

  private async refuse<T>(request: FastifyRequest, tenant: Tenant, step: SignInStep, reason: FailureReason, who: { userId?: string | null; loginName?: string }, extra: { retryAfterSeconds?: number } = {}): Promise<Attempt<T>> {
    await this.deps.audit.record(signInFailed(this.deps, request, tenant.id, step, reason, who));
    return { ok: false, reason, ...extra };
  }

  private attemptKey(request: FastifyRequest, tenant: Tenant, account: string, userId: string | undefined): AttemptKey {
    return { tenantId: tenant.id, account, source: request.ip, knownDevice: isKnownDevice(this.deps, request, tenant, userId) };
  }

  /** The throttle's verdict for an attempt; audits and returns a refusal while a delay runs. */
  private async throttled<T>(request: FastifyRequest, tenant: Tenant, step: SignInStep, key: AttemptKey, who: { userId?: string | null; loginName?: string }): Promise<Attempt<T> | undefined> {
    const wait = this.throttle.waitMs(key);
    if (wait <= 0) return undefined;
    return this.refuse(request, tenant, step, 'throttled', who, { retryAfterSeconds: Math.ceil(wait / 1000) });
  }

  /**
   * A username-or-email and password. Unknown names, users without a password, inactive users and
   * wrong passwords all cost one argon2id verification and yield the same refusal to the caller
   * (only the audit trail tells them apart).
   */
  async password(request: FastifyRequest, tenant: Tenant, loginName: string, password: string): Promise<Attempt<{ user: SignInUser; mustChange: boolean }>> {
    const user = await userStore.byLoginName(this.deps.db, tenant.id, loginName);
    const key = this.attemptKey(request, tenant, user?.id ?? `name:${loginName.trim().toLowerCase().slice(0, 200)}`, user?.id);
    const who = { userId: user?.id ?? null, loginName };
    const held = await this.throttled<{ user: SignInUser; mustChange: boolean }>(request, tenant, 'password', key, who);
    if (held) return held;
    const stored = user ? await userStore.password(this.deps.db, tenant.id, user.id) : undefined;
    const matches = await this.passwords.verify(stored?.hash, password);
    const reason: FailureReason | undefined = !user ? 'unknown_user' : !stored ? 'no_password' : !matches ? 'wrong_password' : user.status !== 'active' ? 'user_inactive' : undefined;
    if (reason || !user || !stored) {
      this.throttle.failed(key);
      return this.refuse(request, tenant, 'password', reason ?? 'wrong_password', who);
    }
    this.throttle.succeeded(key);
    if (this.passwords.needsRehash(stored.hash)) {
      await userStore.rehash(this.deps.db, tenant.id, user.id, stored.hash, await this.passwords.hash(password));
    }
    return { ok: true, value: { user, mustChange: stored.mustChange } };
  }

  /** A TOTP code for one of the user's confirmed authenticator apps; a code already used is refused. */
  async totp(request: FastifyRequest, tenant: Tenant, userId: string, code: string): Promise<Attempt<{ factorId: string }>> {
    const key = this.attemptKey(request, tenant, userId, userId);
    const held = await this.throttled<{ factorId: string }>(request, tenant, 'otp', key, { userId });
    if (held) return held;
    const now = this.deps.clock();
    let replayed = false;
    for (const factor of await factorStore.listForUser(this.deps.db, tenant.id, userId)) {
      if (factor.type !== 'totp' || !factor.confirmed || !factor.sealedSecret) continue;
      const secret = this.deps.envelope.open(factor.sealedSecret, `totp:${factor.id}`).toString();
      const step = await totpStep(secret, code, now);
      if (step === undefined) continue;
      if (await factorStore.advanceStep(this.deps.db, tenant.id, factor.id, step, now)) {
        this.throttle.succeeded(key);
        return { ok: true, value: { factorId: factor.id } };
      }
      replayed = true;
    }
    this.throttle.failed(key);
    return this.refuse(request, tenant, 'otp', replayed ? 'code_replayed' : 'wrong_code', { userId });
  }

  /** A recovery code: spent on use. */
  async recoveryCode(request: FastifyRequest, tenant: Tenant, userId: string, code: string): Promise<Attempt<{ remaining: number }>> {
    const key = this.attemptKey(request, tenant, userId, userId);
    const held = await this.throttled<{ remaining: number }>(request, tenant, 'recovery_code', key, { userId });
    if (held) return held;
    const digest = recoveryCodeDigest(this.deps, tenant.id, userId, code);
    if (!(await factorStore.useRecoveryCode(this.deps.db, tenant.id, userId, digest, this.deps.clock()))) {
      this.throttle.failed(key);
      return this.refuse(request, tenant, 'recovery_code', 'wrong_recovery_code', { userId });
    }
    this.throttle.succeeded(key);
    return { ok: true, value: { remaining: await factorStore.unusedRecoveryCodes(this.deps.db, tenant.id, userId) } };
  }

  /**
   * Audits a refused passkey ceremony (the ceremony itself is in passkeys.ts). Not throttled: an
   * assertion is a signature over a single-use server challenge, so there is nothing to guess.
   */
  async passkeyRefused(request: FastifyRequest, tenant: Tenant, userId: string | null, detail: string): Promise<void> {
    await this.deps.audit.record({ ...signInFailed(this.deps, request, tenant.id, 'passkey', 'passkey_rejected', { userId }), data: { step: 'passkey', reason: 'passkey_rejected', detail } });
  }
}

/** The digest a recovery code is stored under (bound to its tenant and user). */
export function recoveryCodeDigest(deps: Pick<Deps, 'hasher'>, tenantId: string, userId: string, code: string): string {
  return deps.hasher.digest(`recovery:${tenantId}:${userId}:${normaliseRecoveryCode(code)}`);
}
