import { blueprintStore } from '../../blueprints/store.js';
import type { Deps } from '../../context.js';
import type { Credential } from '../../credentials/model.js';
import { credentialStore } from '../../credentials/store.js';
import { isId } from '../../crypto/ids.js';
import { oauthErrors } from '../../errors.js';
import { mayHoldCredential, rulesFor } from '../../principals/kinds.js';
import type { Principal } from '../../principals/model.js';
import { principalStore } from '../../principals/store.js';
import { standingOfPrincipal } from '../../policy/standing.js';
import type { Tenant } from '../../tenants/model.js';
import type { Endpoints } from '../metadata.js';

/** `none`: a public client (RFC 6749 §2.1), identified by client_id alone; only where a grant allows it. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'node_assertion' | 'federated_jwt' | 'none';

/** The credential a client proved: a stored credential, or a managed identity's platform-held key. */
export interface ProvenCredential {
  id: string;
  type: Credential['type'] | 'managed';
}

export interface AuthenticatedClient {
  principal: Principal;
  /** Null for public clients (method `none`). */
  credential: ProvenCredential | null;
  method: ClientAuthMethod;
  /** The `signet node` that vouched for a managed identity (node_assertion only). */
  node?: string;
  /** The external token's issuer, subject and jti when it has one (federated_jwt only). */
  federated?: { issuer: string; subject: string; jti: string | undefined };
}

export interface ClientAuthContext {
  deps: Deps;
  tenant: Tenant;
  endpoints: Endpoints;
}

interface ClientRecord {
  principal: Principal | undefined;
  credentials: Credential[];
}

/**
 * A principal with all its credentials, read through the directory cache. An agent may also
 * authenticate with its blueprint's credentials: it names itself (client_id, or the assertion's
 * `iss`/`sub`) and proves possession of a secret or key its blueprint holds.
 */
function clientRecord(ctx: ClientAuthContext, clientId: string): Promise<ClientRecord> {
  return ctx.deps.cache.get(ctx.tenant.id, `client:${clientId}`, async () => {
    const principal = await principalStore.get(ctx.deps.db, ctx.tenant.id, clientId);
    if (!principal) return { principal, credentials: [] };
    const own = await credentialStore.listForPrincipal(ctx.deps.db, ctx.tenant.id, clientId);
    const lent = principal.blueprintId ? await blueprintStore.credentials(ctx.deps.db, ctx.tenant.id, principal.blueprintId) : [];
    return { principal, credentials: [...own, ...lent] };
  });
}

/**
 * The principal behind a client_id, if it may authenticate as a client right now: it exists in
 * this tenant, is active, and its kind acts as an OAuth client. Every refusal is `invalid_client`.
 */
export async function loadClient(ctx: ClientAuthContext, clientId: string): Promise<Principal> {
  if (!isId(clientId)) throw oauthErrors.invalidClient('client_id is not a principal id');
  const { principal } = await clientRecord(ctx, clientId);
  if (!principal) throw oauthErrors.invalidClient('unknown client');
  const standing = standingOfPrincipal(principal, ctx.deps.clock());
  if (standing !== 'active') throw oauthErrors.invalidClient(standing === 'expired' ? 'principal has expired' : `principal is ${standing}`);
  if (!rulesFor(principal.kind).isClient) throw oauthErrors.invalidClient(`principals of kind ${principal.kind} are not clients`);
  return principal;
}

/**
 * Unexpired credentials of one type; expiry is checked at use, so an expired credential stops working at once.
 * None when the principal's kind may not hold that type (a key added to a managed identity before that was refused).
 */
export async function liveCredentials(ctx: ClientAuthContext, principal: Principal, type: Credential['type']): Promise<Credential[]> {
  if (!mayHoldCredential(principal.kind, type)) return [];
  const now = ctx.deps.clock();
  const { credentials } = await clientRecord(ctx, principal.id);
  return credentials.filter((c) => c.type === type && (c.expiresAt === null || c.expiresAt > now));
}

const TOUCH_INTERVAL_MS = 60_000;
const touched = new Map<string, number>();

/** Records when a credential was last used, at most once a minute per credential, off the response path. */
export function touchCredential(ctx: ClientAuthContext, credential: Credential): void {
  const now = ctx.deps.clock();
  if ((touched.get(credential.id) ?? 0) > now - TOUCH_INTERVAL_MS) return;
  if (touched.size > 100_000) touched.clear();
  touched.set(credential.id, now);
  const touch = credential.blueprintId ? blueprintStore.touchCredential : credentialStore.touch;
  touch(ctx.deps.db, ctx.tenant.id, credential.id, now).catch((error: unknown) => {
    ctx.deps.log.warn({ err: error, credentialId: credential.id }, 'could not record credential use');
  });
}
