import type { ClientType } from './model.js';

/** http is allowed only on loopback IP literals (RFC 8252 §7.3, §8.3: not `localhost`). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?([/?].*)?$/;
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it holds a period. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:/;

/** Why a redirect URI may not be registered for a client of `type`, or null when it may. */
export function redirectUriProblem(uri: string, type: ClientType): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  // RFC 6749 §3.1.2: no fragment.
  if (uri.includes('#')) return 'must not contain a fragment';
  if (uri.includes('*')) return 'must not contain wildcards (RFC 9700 §2.1: exact matching)';
  if (url.username || url.password) return 'must not contain user information';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') return LOOPBACK.test(uri) ? null : 'http is allowed only on a loopback IP literal (127.0.0.1 or [::1])';
  if (PRIVATE_USE_SCHEME.test(uri)) return type === 'public' ? null : 'private-use schemes are for native (public) clients';
  return 'must be https, a loopback http URI or a reverse-domain private-use scheme';
}

const withoutPort = (uri: string): string | null => {
  const match = LOOPBACK.exec(uri);
  return match ? `http://${match[1]}${match[3] ?? ''}` : null;
};

/**
 * RFC 9700 §2.1 / §4.1.3: the redirect URI must equal a registered one, string for string. The one
 * exception is RFC 8252 §7.3: a native (public) client's loopback URI may use any port.
 */
export function redirectUriMatches(registered: readonly string[], given: string, type: ClientType): boolean {
  if (registered.includes(given)) return true;
  if (type !== 'public') return false;
  const bare = withoutPort(given);
  return bare !== null && registered.some((r) => withoutPort(r) === bare);
}
