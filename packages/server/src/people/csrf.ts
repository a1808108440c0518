import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { constantTimeEqual } from '../crypto/digest.js';
import { deriveKey } from '../crypto/envelope.js';
import { randomToken } from '../crypto/ids.js';
import { cookieName, readCookie, setCookie } from './cookies.js';

/**
 * CSRF protection for every form (OWASP CSRF cheat sheet, "signed double-submit cookie"): a random
 * per-browser cookie, and in each form a token = HMAC(key, cookie ‖ tenant ‖ binding), where the
 * binding is the sign-in session id (or the pending sign-in id) when there is one. A cookie planted
 * by an attacker is useless without the server key, and a token from one session does not work in
 * another. SameSite=Lax on every cookie is a second layer, not the defence.
 */
const COOKIE = 'sgn-csrf';
const keys = new WeakMap<Buffer, Buffer>();

function keyOf(deps: Pick<Deps, 'config'>): Buffer {
  let key = keys.get(deps.config.masterKey);
  if (!key) {
    key = deriveKey(deps.config.masterKey, 'csrf');
    keys.set(deps.config.masterKey, key);
  }
  return key;
}

function tokenFor(deps: Pick<Deps, 'config'>, cookie: string, tenantId: string, binding: string): string {
  return createHmac('sha256', keyOf(deps)).update(`${cookie}\n${tenantId}\n${binding}`).digest('base64url');
}

/** The token to put in a form's `csrf` field; sets the browser's CSRF cookie when it has none. */
export function csrfToken(deps: Pick<Deps, 'config'>, request: FastifyRequest, reply: FastifyReply, tenantId: string, binding = ''): string {
  const name = cookieName(deps.config, COOKIE);
  let cookie = readCookie(request, name);
  if (!cookie) {
    cookie = randomToken();
    setCookie(reply, deps.config, name, cookie);
    // Later reads in this request (a second form on the page) must see the same cookie.
    request.headers.cookie = `${name}=${cookie}${request.headers.cookie ? `; ${request.headers.cookie}` : ''}`;
  }
  return tokenFor(deps, cookie, tenantId, binding);
}

/** True when `token` is this browser's token for `tenantId` and `binding`. */
export function csrfValid(deps: Pick<Deps, 'config'>, request: FastifyRequest, tenantId: string, token: unknown, binding = ''): boolean {
  const cookie = readCookie(request, cookieName(deps.config, COOKIE));
  if (!cookie || typeof token !== 'string' || token.length > 100) return false;
  return constantTimeEqual(token, tokenFor(deps, cookie, tenantId, binding));
}
