import { oauthClientStore } from '../../clients/store.js';
import { oauthErrors } from '../../errors.js';
import { type AuthenticatedClient, type ClientAuthContext, loadClient } from './client.js';

/**
 * A public client (RFC 6749 §2.1: native or browser apps that cannot keep a secret) identifies
 * itself by client_id alone. Only clients registered as public may, and only on grants that bind
 * the request to something the client holds (PKCE verifier, rotated refresh token).
 */
export async function authenticatePublicClient(ctx: ClientAuthContext, clientId: string): Promise<AuthenticatedClient> {
  const principal = await loadClient(ctx, clientId);
  const registration = await ctx.deps.cache.get(ctx.tenant.id, `oauth-client:${principal.id}`, () => oauthClientStore.get(ctx.deps.db, ctx.tenant.id, principal.id));
  if (registration?.clientType !== 'public') throw oauthErrors.invalidClient('confidential clients must authenticate');
  return { principal, credential: null, method: 'none' };
}
