import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { constantTimeEqual } from '../crypto/digest.js';
import { deriveKey } from '../crypto/envelope.js';
import { randomToken } from '../crypto/ids.js';
import type { Tenant } from '../tenants/model.js';
import { cookieName, readCookie, setCookie } from './cookies.js';

/**
 * Device cookies (OWASP "Device cookies" for brute-force protection): after a successful sign-in
 * the browser gets `<nonce>.<HMAC(key, tenant ‖ user ‖ nonce)>`. A browser that presents one for
 * the account being signed in to is exempt from the per-account throttle, so an attacker guessing
 * at a user's name never locks that user out of their own browser.
 */
const LIFETIME_S = 180 * 86400;
const keys = new WeakMap<Buffer, Buffer>();

function mac(deps: Pick<Deps, 'config'>, tenantId: string, userId: string, nonce: string): string {
  let key = keys.get(deps.config.masterKey);
  if (!key) {
    key = deriveKey(deps.config.masterKey, 'device cookie');
    keys.set(deps.config.masterKey, key);
  }
  return createHmac('sha256', key).update(`${tenantId}\n${userId}\n${nonce}`).digest('base64url');
}

const nameOf = (deps: Pick<Deps, 'config'>, tenant: Pick<Tenant, 'name'>) => cookieName(deps.config, `sgn-d-${tenant.name}`);

export function rememberDevice(deps: Pick<Deps, 'config'>, reply: FastifyReply, tenant: Pick<Tenant, 'id' | 'name'>, userId: string): void {
  const nonce = randomToken(16);
  setCookie(reply, deps.config, nameOf(deps, tenant), `${nonce}.${mac(deps, tenant.id, userId, nonce)}`, { maxAge: LIFETIME_S });
}

export function isKnownDevice(deps: Pick<Deps, 'config'>, request: FastifyRequest, tenant: Pick<Tenant, 'id' | 'name'>, userId: string | undefined): boolean {
  if (!userId) return false;
  const value = readCookie(request, nameOf(deps, tenant));
  const [nonce, tag] = value?.split('.') ?? [];
  return !!nonce && !!tag && constantTimeEqual(tag, mac(deps, tenant.id, userId, nonce));
}
