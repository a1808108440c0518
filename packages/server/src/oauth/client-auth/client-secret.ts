import { constantTimeEqual } from '../../crypto/digest.js';
import { oauthErrors } from '../../errors.js';
import { type AuthenticatedClient, type ClientAuthContext, type ClientAuthMethod, liveCredentials, loadClient, touchCredential } from './client.js';

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding. */
export function parseBasic(header: string): { clientId: string; secret: string } {
  const encoded = header.slice('basic '.length).trim();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (!/^[A-Za-z0-9+/]+=*$/.test(encoded) || colon < 0) throw oauthErrors.invalidClient('malformed Basic credentials');
  const unform = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw oauthErrors.invalidClient('malformed Basic credentials');
    }
  };
  return { clientId: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

/** client_secret_basic and client_secret_post: the secret is checked against stored digests in constant time. */
export async function authenticateWithSecret(ctx: ClientAuthContext, clientId: string, secret: string, method: ClientAuthMethod): Promise<AuthenticatedClient> {
  const principal = await loadClient(ctx, clientId);
  const candidates = await liveCredentials(ctx, principal, 'secret');
  const digest = ctx.deps.hasher.digest(secret);
  // Compare against every candidate so timing does not reveal which one matched.
  let match: (typeof candidates)[number] | undefined;
  for (const credential of candidates) {
    if (credential.secretDigest !== null && constantTimeEqual(digest, credential.secretDigest)) match ??= credential;
  }
  if (!match) throw oauthErrors.invalidClient(candidates.length === 0 ? 'client has no unexpired secret' : 'wrong client secret');
  touchCredential(ctx, match);
  return { principal, credential: match, method };
}
