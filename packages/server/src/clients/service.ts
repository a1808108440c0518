import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { Deps } from '../context.js';
import { changeDirectory } from '../db/directory-change.js';
import { apiErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import type { PrincipalService } from '../principals/service.js';
import type { Tenant } from '../tenants/model.js';
import type { OAuthClient, PutOAuthClientBody } from './model.js';
import { redirectUriProblem } from './redirect-uri.js';
import { oauthClientStore } from './store.js';

/** Sign-in settings of service and agent principals: client type, redirect URIs, required scopes. */
export class OAuthClientService {
  constructor(
    private readonly deps: Deps,
    private readonly principals: PrincipalService,
  ) {}

  async get(tenant: Tenant, principalId: string): Promise<OAuthClient> {
    await this.principals.get(tenant, principalId);
    const client = await oauthClientStore.get(this.deps.db, tenant.id, principalId);
    if (!client) throw apiErrors.notFound('sign-in settings of principal', principalId);
    return client;
  }

  /** The client's sign-in settings for the protocol endpoints, read through the directory cache. */
  forProtocol(tenantId: string, principalId: string): Promise<OAuthClient | undefined> {
    return this.deps.cache.get(tenantId, `oauth-client:${principalId}`, () => oauthClientStore.get(this.deps.db, tenantId, principalId));
  }

  async put(caller: AdminCaller, tenant: Tenant, principalId: string, body: PutOAuthClientBody): Promise<OAuthClient> {
    const problems = [
      ...body.redirectUris.map((uri) => [uri, redirectUriProblem(uri, body.clientType)] as const),
      ...(body.postLogoutRedirectUris ?? []).map((uri) => [uri, redirectUriProblem(uri, body.clientType)] as const),
    ].filter(([, problem]) => problem !== null);
    if (problems.length > 0) {
      throw apiErrors.invalid(`redirect URI "${problems[0]?.[0].slice(0, 200)}" ${problems[0]?.[1]}`, { problems: problems.map(([uri, problem]) => ({ uri, problem })) });
    }
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const principal = await this.principals.getLive(tenant, principalId, trx);
      if (!rulesFor(principal.kind).maySignInUsers) throw apiErrors.invalid(`principals of kind "${principal.kind}" cannot have users sign in to them`);
      const before = await oauthClientStore.get(trx, tenant.id, principalId);
      const now = this.deps.clock();
      const after: OAuthClient = {
        tenantId: tenant.id,
        principalId,
        clientType: body.clientType,
        redirectUris: body.redirectUris,
        postLogoutRedirectUris: body.postLogoutRedirectUris ?? [],
        requiredScopes: body.requiredScopes ?? [],
        // An admin editing a self-registered client's settings has not vouched for who runs it.
        selfRegistered: before?.selfRegistered ?? false,
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      await oauthClientStore.put(trx, after);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'oauth_client.updated', actor: actorOf(caller), target: { type: 'principal', id: principalId }, before, after }]);
      return after;
    });
  }

  async remove(caller: AdminCaller, tenant: Tenant, principalId: string): Promise<void> {
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await oauthClientStore.get(trx, tenant.id, principalId);
      if (!before) throw apiErrors.notFound('sign-in settings of principal', principalId);
      await oauthClientStore.delete(trx, tenant.id, principalId);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'oauth_client.removed', actor: actorOf(caller), target: { type: 'principal', id: principalId }, before }]);
    });
  }
}
