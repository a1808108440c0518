import type { FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { newId, randomToken } from '../crypto/ids.js';
import type { Tenant } from '../tenants/model.js';
import { accountChange } from './audit-events.js';
import { type Factor, factorStore } from './factor-store.js';
import { invitationStore } from './invitation-store.js';
import { type PasswordHasher, passwordProblem } from './passwords.js';
import { newRecoveryCodes } from './recovery-codes.js';
import { sessionStore } from './session-store.js';
import { recoveryCodeDigest } from './signin-service.js';
import { newTotpSecret, totpQrDataUrl, totpStep, totpUri } from './totp.js';
import { type PasswordRecord, type SignInUser, userStore } from './user-store.js';

export class AccountError extends Error {
  override name = 'AccountError';
}

export interface TotpEnrolment {
  factorId: string;
  secret: string;
  uri: string;
  qrDataUrl: string;
}

/** Invitations live 72 hours unless the admin says otherwise. */
export const INVITATION_DEFAULT_HOURS = 72;

/**
 * Changes to a person's sign-in methods, made by the person (account page, sign-in steps) or by
 * an admin (temporary password, invitation). Each change and its audit event commit together.
 */
export class AccountService {
  constructor(
    private readonly deps: Deps,
    private readonly passwords: PasswordHasher,
  ) {}

  private async inTransaction(run: (trx: Deps['db']) => Promise<void>): Promise<void> {
    await this.deps.db.transaction().execute(run);
  }

  factors(tenant: Tenant, userId: string): Promise<Factor[]> {
    return factorStore.listForUser(this.deps.db, tenant.id, userId);
  }

  /** Starts a TOTP enrolment: an unconfirmed factor with a new sealed secret (an earlier unconfirmed one is dropped). */
  async startTotp(tenant: Tenant, user: SignInUser): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    const factorId = newId();
    const now = this.deps.clock();
    await this.inTransaction(async (trx) => {
      await factorStore.deleteUnconfirmed(trx, tenant.id, user.id);
      await factorStore.insert(trx, {
        id: factorId, tenantId: tenant.id, userId: user.id, type: 'totp', name: 'Authenticator app', confirmed: false,
        sealedSecret: this.deps.envelope.seal(secret, `totp:${factorId}`), lastStep: null,
        credentialId: null, publicKey: null, counter: null, transports: [], deviceType: null, createdAt: now, lastUsedAt: null,
      });
    });
    const uri = totpUri(tenant.displayName ?? tenant.name, user.username ?? user.email ?? user.id, secret);
    return { factorId, secret, uri, qrDataUrl: await totpQrDataUrl(uri) };
  }

  /** The enrolment in progress, for showing its QR code again after a wrong code. */
  async pendingTotp(tenant: Tenant, user: SignInUser, factorId: string): Promise<TotpEnrolment | undefined> {
    const factor = await factorStore.get(this.deps.db, tenant.id, user.id, factorId);
    if (!factor || factor.type !== 'totp' || factor.confirmed || !factor.sealedSecret) return undefined;
    const secret = this.deps.envelope.open(factor.sealedSecret, `totp:${factor.id}`).toString();
    const uri = totpUri(tenant.displayName ?? tenant.name, user.username ?? user.email ?? user.id, secret);
    return { factorId, secret, uri, qrDataUrl: await totpQrDataUrl(uri) };
  }

  /**
   * Confirms a TOTP enrolment with a first code. Returns new recovery codes when the user had none
   * (shown once), or an empty list; undefined when the code is wrong.
   */
  async confirmTotp(request: FastifyRequest, tenant: Tenant, userId: string, factorId: string, code: string): Promise<string[] | undefined> {
    const factor = await factorStore.get(this.deps.db, tenant.id, userId, factorId);
    if (!factor || factor.type !== 'totp' || factor.confirmed || !factor.sealedSecret) return undefined;
    const now = this.deps.clock();
    const step = await totpStep(this.deps.envelope.open(factor.sealedSecret, `totp:${factor.id}`).toString(), code, now);
    if (step === undefined) return undefined;
    let codes: string[] = [];
    await this.inTransaction(async (trx) => {
      await factorStore.confirm(trx, tenant.id, factor.id, step, now);
      codes = await this.recoveryCodesIfNone(trx, tenant, userId, now);
      await this.deps.audit.recordInTransaction(trx, [accountChange(request, tenant.id, 'mfa.enrolled', userId, { factorId: factor.id, factorType: 'totp' })]);
    });
    return codes;
  }

  /** Saves a verified passkey; returns new recovery codes when the user had none. */
  async addPasskey(request: FastifyRequest, tenant: Tenant, factor: Factor): Promise<string[]> {
    let codes: string[] = [];
    await this.inTransaction(async (trx) => {
      await factorStore.insert(trx, factor);
      codes = await this.recoveryCodesIfNone(trx, tenant, factor.userId, factor.createdAt);
      await this.deps.audit.recordInTransaction(trx, [accountChange(request, tenant.id, 'mfa.enrolled', factor.userId, { factorId: factor.id, factorType: 'passkey', deviceType: factor.deviceType })]);
    });
    return codes;
  }

  /** Removes a factor (the user on the account page, or an admin for a user who lost it: `actorId`). */
  async removeFactor(request: FastifyRequest, tenant: Tenant, userId: string, factorId: string, actorId: string = userId): Promise<boolean> {
    let removed = false;
    await this.inTransaction(async (trx) => {
      const factor = await factorStore.get(trx, tenant.id, userId, factorId);
      if (!factor) return;
      removed = await factorStore.delete(trx, tenant.id, userId, factorId);
      const remaining = (await factorStore.listForUser(trx, tenant.id, userId)).filter((f) => f.confirmed);
      if (remaining.length === 0) await factorStore.replaceRecoveryCodes(trx, tenant.id, userId, [], this.deps.clock());
      await this.deps.audit.recordInTransaction(trx, [accountChange(request, tenant.id, 'mfa.removed', userId, { factorId, factorType: factor.type }, actorId)]);
    });
    return removed;
  }

  async regenerateRecoveryCodes(request: FastifyRequest, tenant: Tenant, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.inTransaction(async (trx) => {
      await factorStore.replaceRecoveryCodes(trx, tenant.id, userId, codes.map((c) => recoveryCodeDigest(this.deps, tenant.id, userId, c)), this.deps.clock());
      await this.deps.audit.recordInTransaction(trx, [accountChange(request, tenant.id, 'recovery_codes.generated', userId, { count: codes.length })]);
    });
    return codes;
  }

  /** Whether the user has a password, and whether it is a temporary one. */
  passwordState(tenant: Tenant, userId: string): Promise<PasswordRecord | undefined> {
    return userStore.password(this.deps.db, tenant.id, userId);
  }

  unusedRecoveryCodes(tenant: Tenant, userId: string): Promise<number> {
    return factorStore.unusedRecoveryCodes(this.deps.db, tenant.id, userId);
  }

  private async recoveryCodesIfNone(trx: Deps['db'], tenant: Tenant, userId: string, now: number): Promise<string[]> {
    if ((await factorStore.unusedRecoveryCodes(trx, tenant.id, userId)) > 0) return [];
    const codes = newRecoveryCodes();
    await factorStore.replaceRecoveryCodes(trx, tenant.id, userId, codes.map((c) => recoveryCodeDigest(this.deps, tenant.id, userId, c)), now);
    await this.deps.audit.recordInTransaction(trx, [accountChange(undefined, tenant.id, 'recovery_codes.generated', userId, { count: codes.length })]);
    return codes;
  }

  /**
   * Sets a password chosen by the user (after checking the policy); ends the user's other sessions.
   * Throws AccountError with a message for the form when the password is refused.
   */
  async choosePassword(request: FastifyRequest, tenant: Tenant, user: SignInUser, password: string, keepSessionId: string | null, type: 'password.changed' | 'invitation.accepted' = 'password.changed'): Promise<void> {
    const problem = passwordProblem(password, user);
    if (problem) throw new AccountError(problem);
    const hash = await this.passwords.hash(password);
    await this.inTransaction(async (trx) => {
      await userStore.setPassword(trx, tenant.id, user.id, hash, false, this.deps.clock());
      const ended = await sessionStore.deleteForUser(trx, tenant.id, user.id, keepSessionId ?? undefined);
      await this.deps.audit.recordInTransaction(trx, [accountChange(request, tenant.id, type, user.id, { sessionsEnded: ended })]);
    });
  }

  /**
   * An admin sets a temporary password (given, or generated and returned once); the user must
   * change it at the next sign-in. Every session of the user ends.
   */
  async setTemporaryPassword(tenant: Tenant, user: SignInUser, given: string | undefined, actorId: string, source: FastifyRequest): Promise<string> {
    const password = given ?? randomToken(12);
    const problem = passwordProblem(password, user);
    if (problem) throw new AccountError(problem);
    const hash = await this.passwords.hash(password);
    await this.inTransaction(async (trx) => {
      await userStore.setPassword(trx, tenant.id, user.id, hash, true, this.deps.clock());
      const ended = await sessionStore.deleteForUser(trx, tenant.id, user.id);
      await this.deps.audit.recordInTransaction(trx, [accountChange(source, tenant.id, 'password.reset', user.id, { temporary: true, sessionsEnded: ended }, actorId)]);
    });
    return password;
  }

  /** An invitation link for the user (single use; earlier unused invitations are revoked). */
  async invite(tenant: Tenant, issuer: string, user: SignInUser, hours: number, actorId: string, source: FastifyRequest): Promise<{ url: string; expiresAt: number }> {
    const token = randomToken();
    const now = this.deps.clock();
    const expiresAt = now + hours * 3600_000;
    await this.inTransaction(async (trx) => {
      await invitationStore.revokeForUser(trx, tenant.id, user.id, now);
      await invitationStore.insert(trx, { digest: this.invitationDigest(token), tenantId: tenant.id, userId: user.id, createdAt: now, expiresAt });
      await this.deps.audit.recordInTransaction(trx, [accountChange(source, tenant.id, 'invitation.created', user.id, { expiresAt }, actorId)]);
    });
    return { url: `${issuer}/invitation?token=${token}`, expiresAt };
  }

  invitationDigest(token: string): string {
    return this.deps.hasher.digest(`invitation:${token}`);
  }

  /** The user an invitation token is for, when it is valid now. */
  async invitedUser(tenant: Tenant, token: string): Promise<SignInUser | undefined> {
    const userId = await invitationStore.find(this.deps.db, tenant.id, this.invitationDigest(token), this.deps.clock());
    const user = userId ? await userStore.byId(this.deps.db, tenant.id, userId) : undefined;
    return user?.status === 'active' ? user : undefined;
  }

  /** Accepts an invitation by choosing a password; false when the token is no longer valid. */
  async acceptInvitation(request: FastifyRequest, tenant: Tenant, token: string, password: string): Promise<boolean> {
    const user = await this.invitedUser(tenant, token);
    if (!user) return false;
    const problem = passwordProblem(password, user);
    if (problem) throw new AccountError(problem);
    if (!(await invitationStore.use(this.deps.db, tenant.id, this.invitationDigest(token), this.deps.clock()))) return false;
    await this.choosePassword(request, tenant, user, password, null, 'invitation.accepted');
    return true;
  }
}
