import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEventInput } from '../../audit/model.js';
import { AuditUnavailable } from '../../audit/writer.js';
import type { Deps } from '../../context.js';
import { randomToken } from '../../crypto/ids.js';
import { type OAuthError, oauthErrors, PageError, pageErrors } from '../../errors.js';
import { ACR, currentSession, signInUrl, type SignInSession } from '../../people/session.js';
import type { Services } from '../../services.js';
import type { Tenant } from '../../tenants/model.js';
import { codeStore } from '../tokens/code-store.js';
import { type PendingAuthorization, requestStore } from '../tokens/request-store.js';
import { respondToClient, respondWithError } from './respond.js';
import { coverage, isIdentityScope } from './scopes.js';

/** RFC 9700 §4.2.1 / FAPI 2.0: authorization codes live at most 60 seconds. */
export const CODE_TTL_MS = 60_000;
/** How long a pending authorization request waits for the user to sign in and consent. */
export const REQUEST_TTL_MS = 10 * 60_000;

export interface FlowContext {
  deps: Deps;
  services: Services;
  tenant: Tenant;
  issuer: string;
  request: FastifyRequest;
  reply: FastifyReply;
}

export const continuePath = (tenant: Tenant, id: string): string => `/${tenant.name}/oauth2/authorize/continue?request=${encodeURIComponent(id)}`;
export const consentPath = (tenant: Tenant, id: string): string => `/${tenant.name}/oauth2/consent?request=${encodeURIComponent(id)}`;

/** A stored request by id, or the "request has ended" page. */
export async function pendingRequest(ctx: FlowContext, id: unknown): Promise<PendingAuthorization> {
  if (typeof id !== 'string' || id.length > 100) throw pageErrors.requestGone();
  const pending = await requestStore.get(ctx.deps.db, ctx.tenant.id, id, ctx.deps.clock());
  if (!pending) throw pageErrors.requestGone();
  return pending;
}

function source(request: FastifyRequest) {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : undefined, requestId: request.id };
}

/** Token decisions are audited before the browser learns them (fail closed). */
async function record(ctx: FlowContext, event: AuditEventInput): Promise<void> {
  try {
    await ctx.deps.audit.record(event);
  } catch (error) {
    if (error instanceof AuditUnavailable) throw new PageError(503, 'Temporarily unavailable', 'Signet cannot record this decision right now. Try again in a moment.');
    throw error;
  }
}

/** Ends the request with an OAuth error at the client's redirect URI, audited as `authorization.refused`. */
export async function refuse(ctx: FlowContext, pending: Pick<PendingAuthorization, 'id' | 'redirectUri' | 'responseMode' | 'state' | 'scope' | 'resource'> & { clientId: string }, error: OAuthError, userId: string | null): Promise<FastifyReply> {
  if (pending.id) await requestStore.delete(ctx.deps.db, ctx.tenant.id, pending.id);
  await record(ctx, {
    tenantId: ctx.tenant.id,
    type: 'authorization.refused',
    outcome: 'failure',
    clientId: pending.clientId,
    subjectId: userId,
    resource: pending.resource,
    source: source(ctx.request),
    data: { error: error.error, description: error.description, reason: error.detail ?? null, scope: pending.scope.join(' ') },
  });
  return respondWithError(ctx.reply, pending, ctx.issuer, pending.state, error);
}

/** A second factor is needed: the client asked for it (acr_values) or the tenant requires it of everyone. */
const mfaRequired = (tenant: Tenant, pending: PendingAuthorization): boolean => pending.requireMfa || tenant.settings.requireMfa;

/** Whether the session satisfies the request's demands on authentication (prompt=login, max_age, MFA). */
function freshEnough(deps: Deps, tenant: Tenant, pending: PendingAuthorization, session: SignInSession): boolean {
  if (mfaRequired(tenant, pending) && session.acr !== ACR.mfa) return false;
  if (pending.authAfter !== null && session.authTime < pending.authAfter) return false;
  if (pending.maxAge !== null && Math.floor(deps.clock() / 1000) - session.authTime > pending.maxAge) return false;
  return true;
}

/**
 * The authorization request's next step: sign in (or again), then consent, then the code.
 * Runs after the request is stored, and again each time the browser comes back.
 */
export async function proceed(ctx: FlowContext, pending: PendingAuthorization): Promise<FastifyReply> {
  const { deps, services, tenant } = ctx;
  const session = await currentSession(deps, ctx.request, tenant);
  if (!session || !freshEnough(deps, tenant, pending, session)) {
    if (pending.prompt.includes('none')) return refuse(ctx, pending, oauthErrors.loginRequired(), session?.userId ?? null);
    let forceLogin = pending.authAfter !== null;
    if (session && pending.authAfter === null) {
      // max_age exceeded: the next sign-in must be newer than now.
      await requestStore.setAuthAfter(deps.db, tenant.id, pending.id, pending, Math.floor(deps.clock() / 1000));
      forceLogin = true;
    }
    const requireMfa = mfaRequired(tenant, pending);
    if (session && requireMfa && session.acr !== ACR.mfa) forceLogin = true;
    return ctx.reply.redirect(signInUrl(ctx.issuer, continuePath(tenant, pending.id), { forceLogin, requireMfa }), 303);
  }
  const consents = await services.consents.live(tenant.id, session.userId, pending.clientId);
  const { covered, missing, consentIds } = coverage(pending.scope, pending.resource, consents);
  if (missing.length > 0 || pending.prompt.includes('consent')) {
    if (pending.prompt.includes('none')) return refuse(ctx, pending, oauthErrors.consentRequired(), session.userId);
    return ctx.reply.redirect(consentPath(tenant, pending.id), 303);
  }
  return issueCode(ctx, pending, session, covered, consentIds);
}

/**
 * Ends the request with an authorization code for the granted scopes: 256 random bits, stored as
 * its keyed digest, single-use, alive CODE_TTL_MS.
 */
export async function issueCode(ctx: FlowContext, pending: PendingAuthorization, session: SignInSession, granted: string[], consentIds: string[]): Promise<FastifyReply> {
  const { deps, tenant } = ctx;
  if (!granted.some((s) => s === 'openid' || !isIdentityScope(s))) {
    return refuse(ctx, pending, oauthErrors.accessDenied('nothing the application asked for was granted'), session.userId);
  }
  // The request is single-use: whoever deletes it issues the code.
  if (!(await requestStore.delete(deps.db, tenant.id, pending.id))) throw pageErrors.requestGone();
  const code = randomToken();
  const now = deps.clock();
  const resource = granted.some((s) => !isIdentityScope(s)) ? pending.resource : null;
  await codeStore.insert(deps.db, {
    digest: deps.hasher.digest(code),
    tenantId: tenant.id,
    clientId: pending.clientId,
    userId: session.userId,
    grant: {
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      nonce: pending.nonce,
      scope: granted,
      resource,
      consentIds,
      sessionId: session.id,
      authTime: session.authTime,
      amr: session.amr,
      acr: session.acr,
    },
    createdAt: now,
    expiresAt: now + CODE_TTL_MS,
    usedAt: null,
    familyId: null,
    accessTokenJti: null,
  });
  await record(ctx, {
    tenantId: tenant.id,
    type: 'authorization.granted',
    outcome: 'success',
    actorId: session.userId,
    actorKind: 'user',
    clientId: pending.clientId,
    subjectId: session.userId,
    resource,
    source: source(ctx.request),
    data: { scope: granted.join(' '), requested: pending.scope.join(' '), consents: consentIds, acr: session.acr, amr: session.amr },
  });
  return respondToClient(ctx.reply, pending, ctx.issuer, { code, state: pending.state });
}
