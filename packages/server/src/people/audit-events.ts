import type { FastifyRequest } from 'fastify';
import type { AuditEventInput, RequestSource } from '../audit/model.js';
import type { Deps } from '../context.js';

/**
 * Audit events of people signing in and managing their factors:
 * - `session.signed_in` / `session.sign_in_failed` (every attempt, with `data.step` and `data.reason`) /
 *   `session.signed_out` → OCSF Authentication (3002) Logon / Logoff;
 * - `mfa.enrolled`, `mfa.removed`, `recovery_codes.generated`, `password.changed`, `password.reset`,
 *   `invitation.created`, `invitation.accepted` → OCSF Account Change (3001).
 */
export type SignInStep = 'password' | 'otp' | 'recovery_code' | 'passkey' | 'password_change' | 'invitation';

export type FailureReason =
  | 'unknown_user'
  | 'wrong_password'
  | 'no_password'
  | 'user_inactive'
  | 'throttled'
  | 'wrong_code'
  | 'code_replayed'
  | 'wrong_recovery_code'
  | 'passkey_rejected'
  | 'mfa_required_not_enrolled';

export function sourceOf(request: FastifyRequest): RequestSource {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : undefined, requestId: request.id };
}

export function signedIn(request: FastifyRequest, tenantId: string, userId: string, sessionId: string, amr: string[], acr: string): AuditEventInput {
  return { tenantId, type: 'session.signed_in', outcome: 'success', actorId: userId, actorKind: 'user', target: { type: 'session', id: sessionId }, source: sourceOf(request), data: { amr, acr } };
}

/**
 * A refused attempt. A name that matched no user is recorded only as a keyed digest (people type
 * passwords into the name field), which still lets a SIEM correlate repeated guesses.
 */
export function signInFailed(deps: Pick<Deps, 'hasher'>, request: FastifyRequest, tenantId: string, step: SignInStep, reason: FailureReason, who: { userId?: string | null; loginName?: string }): AuditEventInput {
  return {
    tenantId,
    type: 'session.sign_in_failed',
    outcome: 'failure',
    actorId: who.userId ?? null,
    actorKind: who.userId ? 'user' : null,
    source: sourceOf(request),
    data: { step, reason, ...(!who.userId && who.loginName !== undefined ? { loginNameDigest: deps.hasher.digest(`login-name:${who.loginName.trim().toLowerCase()}`).slice(0, 22) } : {}) },
  };
}

/** An account change to user `userId`, made by the user or by an admin (`actorId`); the target is the user. */
export function accountChange(request: FastifyRequest | undefined, tenantId: string, type: string, userId: string, data: Record<string, unknown> = {}, actorId: string = userId): AuditEventInput {
  return {
    tenantId,
    type,
    outcome: 'success',
    actorId,
    actorKind: actorId === userId ? 'user' : null,
    target: { type: 'principal', id: userId },
    source: request ? sourceOf(request) : undefined,
    data: { after: { principalId: userId, kind: 'user', ...data } },
  };
}
