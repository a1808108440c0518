import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/** Cookie values Signet sets are base64url (plus `.`), so no encoding is needed or accepted. */
const VALUE = /^[A-Za-z0-9._-]{1,512}$/;

/** Parses the Cookie header (RFC 6265 §5.4); the first occurrence of a name wins. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return VALUE.test(value) ? value : undefined;
  }
  return undefined;
}

/** True when the public URL is https: cookies are then `Secure` and `__Host-` prefixed. */
export function isSecure(config: Pick<Config, 'publicUrl'>): boolean {
  return config.publicUrl.startsWith('https:');
}

/**
 * The cookie name for `base`: `__Host-<base>` on https (RFC 6265bis §4.1.3.2: Secure, Path=/, no
 * Domain, so no sibling host or path can set or shadow it), plain `<base>` on http (development).
 */
export function cookieName(config: Pick<Config, 'publicUrl'>, base: string): string {
  return isSecure(config) ? `__Host-${base}` : base;
}

export interface CookieOptions {
  /** Seconds; omitted = a browser-session cookie. 0 deletes the cookie. */
  maxAge?: number;
}

/** Appends a Set-Cookie: HttpOnly, SameSite=Lax, Path=/, Secure on https. */
export function setCookie(reply: FastifyReply, config: Pick<Config, 'publicUrl'>, name: string, value: string, options: CookieOptions = {}): void {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (isSecure(config)) parts.push('Secure');
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), parts.join('; ')]);
}

export function clearCookie(reply: FastifyReply, config: Pick<Config, 'publicUrl'>, name: string): void {
  setCookie(reply, config, name, '', { maxAge: 0 });
}
