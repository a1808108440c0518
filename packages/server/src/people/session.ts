import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { newId, randomToken } from '../crypto/ids.js';
import type { Tenant } from '../tenants/model.js';
import { clearCookie, cookieName, readCookie, setCookie } from './cookies.js';
import { type SessionRecord, type SessionState, sessionStore } from './session-store.js';

/**
 * Browser sign-in sessions.
 *
 * The cookie holds 256 random bits; the store keeps only its keyed digest, so a database dump
 * cannot be replayed as a session. One cookie per tenant (`__Host-sgn-s-<tenant>` on https),
 * HttpOnly, SameSite=Lax. A session ends after `sessionIdleSeconds` unused or
 * `sessionLifetimeSeconds` after sign-in (tenant settings), whichever comes first. Every change of
 * authentication state (password accepted, second factor accepted, password changed) issues a new
 * cookie value, so a value planted before sign-in is worthless after it (session fixation).
 */

/** What the authorization server needs to know about a signed-in person (OIDC Core §2). */
export interface SignInSession {
  id: string;
  tenantId: string;
  userId: string;
  /** Epoch seconds of the last primary authentication (OIDC `auth_time`). */
  authTime: number;
  /** RFC 8176 methods: `pwd`, `otp`, `hwk` / `swk` (passkey), `user` (user verified), `mfa`. */
  amr: string[];
  /** `urn:signet:acr:mfa` or `urn:signet:acr:pwd` (see ACR). */
  acr: string;
}

/**
 * Authentication context classes (OIDC `acr`):
 * - `urn:signet:acr:pwd`: one factor (a password).
 * - `urn:signet:acr:mfa`: two factors — a password and TOTP, a password and a passkey, or a passkey
 *   with user verification alone (possession of the key plus the device's PIN or biometric).
 */
export const ACR = { pwd: 'urn:signet:acr:pwd', mfa: 'urn:signet:acr:mfa' } as const;

/** A sign-in in progress lives at most this long between its steps. */
export const PENDING_TTL_MS = 10 * 60 * 1000;
/** The store is written at most this often per session just to record activity. */
const TOUCH_EVERY_MS = 60 * 1000;

type TenantRef = Pick<Tenant, 'id' | 'name' | 'settings'>;

export function sessionCookie(deps: Pick<Deps, 'config'>, tenant: Pick<Tenant, 'name'>): string {
  return cookieName(deps.config, `sgn-s-${tenant.name}`);
}

/**
 * `returnTo` when it is a same-origin path inside this tenant (`/{tenant}/…`), else undefined.
 * Refuses absolute and scheme-relative URLs, backslashes and control characters, so a sign-in link
 * can never be turned into an open redirect.
 */
export function safeReturnTo(tenantName: string, returnTo: unknown): string | undefined {
  if (typeof returnTo !== 'string' || returnTo.length > 4096) return undefined;
  if (!returnTo.startsWith(`/${tenantName}/`) || /[\\\u0000-\u001f\u007f]/.test(returnTo)) return undefined;
  const base = 'http://signet.invalid';
  let url: URL;
  try {
    url = new URL(returnTo, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base || !url.pathname.startsWith(`/${tenantName}/`) || url.pathname.split('/').includes('..')) return undefined;
  return `${url.pathname}${url.search}`;
}

export interface SignInOptions {
  /** Authenticate again even with a live session (OIDC `prompt=login`, `max_age`). */
  forceLogin?: boolean;
  /** The sign-in must end with a second factor (acr `urn:signet:acr:mfa`). */
  requireMfa?: boolean;
}

/**
 * The sign-in page URL for `issuer` (`<public url>/<tenant>`) that comes back to `returnTo`.
 * Throws when `returnTo` is not a same-origin path of the tenant (a programming error).
 */
export function signInUrl(issuer: string, returnTo: string, opts: SignInOptions = {}): string {
  const tenantName = new URL(issuer).pathname.replace(/^\/+|\/+$/g, '').split('/').at(-1) ?? '';
  const safe = safeReturnTo(tenantName, returnTo);
  if (!safe) throw new Error(`returnTo must be a path inside /${tenantName}/`);
  const query = new URLSearchParams({ return_to: safe });
  if (opts.forceLogin) query.set('prompt', 'login');
  if (opts.requireMfa) query.set('mfa', 'required');
  return `${issuer}/login?${query.toString()}`;
}

/** The session (in any state) the request's cookie names, if it is still valid; expired ones are removed. */
export async function readSession(deps: Deps, request: FastifyRequest, tenant: TenantRef): Promise<SessionRecord | null> {
  const token = readCookie(request, sessionCookie(deps, tenant));
  if (!token) return null;
  const record = await sessionStore.byDigest(deps.db, tenant.id, deps.hasher.digest(token));
  if (!record) return null;
  const now = deps.clock();
  const idleLimit = record.state === 'active' ? tenant.settings.sessionIdleSeconds * 1000 : PENDING_TTL_MS;
  if (now >= record.expiresAt || now - record.lastSeenAt >= idleLimit) {
    await sessionStore.delete(deps.db, tenant.id, record.id);
    return null;
  }
  const user = await deps.db.selectFrom('principals').select(['status', 'kind']).where('tenant_id', '=', tenant.id).where('id', '=', record.userId).executeTakeFirst();
  if (!user || user.status !== 'active') {
    await sessionStore.delete(deps.db, tenant.id, record.id);
    return null;
  }
  if (now - record.lastSeenAt >= TOUCH_EVERY_MS) {
    await sessionStore.touch(deps.db, tenant.id, record.id, now);
    record.lastSeenAt = now;
  }
  return record;
}

/** The signed-in person of this tenant, or null (no cookie, expired, sign-in unfinished, user disabled). */
export async function currentSession(deps: Deps, request: FastifyRequest, tenant: TenantRef): Promise<SignInSession | null> {
  const record = await readSession(deps, request, tenant);
  if (!record || record.state !== 'active') return null;
  return { id: record.id, tenantId: record.tenantId, userId: record.userId, authTime: Math.floor(record.authTime / 1000), amr: record.amr, acr: record.acr };
}

export interface NewSession {
  userId: string;
  state: SessionState;
  amr: string[];
  acr: string;
  authTime: number;
  returnTo: string | null;
  requireMfa: boolean;
}

/**
 * Starts a session (or the next step of a sign-in) under a new cookie value, ending whatever
 * session the browser had in this tenant.
 */
export async function beginSession(deps: Deps, request: FastifyRequest, reply: FastifyReply, tenant: TenantRef, fields: NewSession): Promise<SessionRecord> {
  const name = sessionCookie(deps, tenant);
  const previous = readCookie(request, name);
  const now = deps.clock();
  const token = randomToken();
  const userAgent = request.headers['user-agent'];
  const record: SessionRecord = {
    id: newId(),
    tenantId: tenant.id,
    ...fields,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: fields.state === 'active' ? fields.authTime + tenant.settings.sessionLifetimeSeconds * 1000 : now + PENDING_TTL_MS,
    sourceIp: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : null,
  };
  await deps.db.transaction().execute(async (trx) => {
    if (previous) {
      const old = await sessionStore.byDigest(trx, tenant.id, deps.hasher.digest(previous));
      if (old) await sessionStore.delete(trx, tenant.id, old.id);
    }
    await sessionStore.insert(trx, record, deps.hasher.digest(token));
  });
  setCookie(reply, deps.config, name, token);
  return record;
}

/** Signs the browser out of this tenant: the session is deleted and its cookie cleared. Returns the ended session's user, if any. */
export async function endSession(deps: Deps, request: FastifyRequest, reply: FastifyReply, tenant: TenantRef): Promise<{ sessionId: string; userId: string } | null> {
  const name = sessionCookie(deps, tenant);
  const token = readCookie(request, name);
  clearCookie(reply, deps.config, name);
  if (!token) return null;
  const record = await sessionStore.byDigest(deps.db, tenant.id, deps.hasher.digest(token));
  if (!record) return null;
  await sessionStore.delete(deps.db, tenant.id, record.id);
  if (record.state === 'active') {
    await deps.audit.record({
      tenantId: tenant.id,
      type: 'session.signed_out',
      outcome: 'success',
      actorId: record.userId,
      actorKind: 'user',
      target: { type: 'session', id: record.id },
      source: { ip: request.ip, userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : undefined, requestId: request.id },
    });
  }
  return { sessionId: record.id, userId: record.userId };
}
