import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../tenants/model.js';
import { signedIn } from './audit-events.js';
import { type PeopleContext, paths } from './context.js';
import { rememberDevice } from './device.js';
import { factorStore } from './factor-store.js';
import { ACR, beginSession } from './session.js';
import type { SessionState } from './session-store.js';
import { userStore } from './user-store.js';

/** Where a sign-in stands after a step. */
export interface SignInProgress {
  userId: string;
  amr: string[];
  authTime: number;
  returnTo: string | null;
  requireMfa: boolean;
}

export const STEP_PATHS: Record<Exclude<SessionState, 'active'>, string> = {
  mfa: 'login/mfa',
  password_change: 'login/password',
  mfa_enroll: 'login/enroll',
};

/** RFC 8176 `amr` plus `mfa` once two different kinds of factor were shown. */
export function withFactor(amr: string[], ...methods: string[]): string[] {
  const all = [...new Set([...amr, ...methods])].filter((m) => m !== 'mfa');
  const knowledge = all.includes('pwd');
  const possession = all.some((m) => m === 'otp' || m === 'hwk' || m === 'swk');
  const verified = all.includes('user');
  return knowledge && possession || possession && verified ? [...all, 'mfa'] : all;
}

/**
 * The next step of a sign-in, in order: a second factor when the user has one, a new password when
 * the current one is temporary, enrolment of a second factor when the tenant or the client
 * requires MFA and the user has none; else the session becomes active.
 */
export async function nextState(ctx: PeopleContext, tenant: Tenant, p: SignInProgress): Promise<SessionState> {
  const mfaDone = p.amr.includes('mfa');
  const factors = (await factorStore.listForUser(ctx.deps.db, tenant.id, p.userId)).filter((f) => f.confirmed);
  if (!mfaDone && factors.length > 0) return 'mfa';
  const password = await userStore.password(ctx.deps.db, tenant.id, p.userId);
  if (password?.mustChange) return 'password_change';
  if (!mfaDone && (p.requireMfa || tenant.settings.requireMfa)) return 'mfa_enroll';
  return 'active';
}

/**
 * Moves a sign-in on after a step: a new session cookie for the next state; returns that step's
 * page — or, once complete, records the audit event, sets a device cookie and returns `returnTo`.
 */
export async function advanceTo(ctx: PeopleContext, request: FastifyRequest, reply: FastifyReply, tenant: Tenant, p: SignInProgress): Promise<string> {
  const state = await nextState(ctx, tenant, p);
  const acr = p.amr.includes('mfa') ? ACR.mfa : ACR.pwd;
  const record = await beginSession(ctx.deps, request, reply, tenant, { ...p, state, acr });
  if (state !== 'active') return `/${tenant.name}/${STEP_PATHS[state]}`;
  await ctx.deps.audit.record(signedIn(request, tenant.id, p.userId, record.id, p.amr, acr));
  rememberDevice(ctx.deps, reply, tenant, p.userId);
  return p.returnTo ?? paths.account(tenant);
}

/** `advanceTo`, then a 303 there (RFC 9700 §4.11: never 307 after a form carrying credentials). */
export async function advance(ctx: PeopleContext, request: FastifyRequest, reply: FastifyReply, tenant: Tenant, p: SignInProgress): Promise<FastifyReply> {
  return reply.redirect(await advanceTo(ctx, request, reply, tenant, p), 303);
}
