import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { OAuthClientsTable } from '../db/schema.js';
import type { ClientType, OAuthClient } from './model.js';

function toClient(row: OAuthClientsTable): OAuthClient {
  return {
    tenantId: row.tenant_id,
    principalId: row.principal_id,
    clientType: row.client_type as ClientType,
    redirectUris: parseJson<string[]>(row.redirect_uris, 'oauth_clients.redirect_uris'),
    postLogoutRedirectUris: parseJson<string[]>(row.post_logout_redirect_uris, 'oauth_clients.post_logout_redirect_uris'),
    requiredScopes: parseJson<string[]>(row.required_scopes, 'oauth_clients.required_scopes'),
    selfRegistered: Number(row.self_registered) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Sign-in settings of client principals, scoped to a tenant. */
export const oauthClientStore = {
  async get(db: Db, tenantId: string, principalId: string): Promise<OAuthClient | undefined> {
    const row = await db.selectFrom('oauth_clients').selectAll().where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).executeTakeFirst();
    return row && toClient(row);
  },

  async put(db: Db, c: OAuthClient): Promise<void> {
    const values = {
      client_type: c.clientType,
      redirect_uris: JSON.stringify(c.redirectUris),
      post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
      required_scopes: JSON.stringify(c.requiredScopes),
      self_registered: c.selfRegistered ? 1 : 0,
      updated_at: c.updatedAt,
    };
    const updated = await db.updateTable('oauth_clients').set(values).where('tenant_id', '=', c.tenantId).where('principal_id', '=', c.principalId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return;
    await db.insertInto('oauth_clients').values({ tenant_id: c.tenantId, principal_id: c.principalId, created_at: c.createdAt, ...values }).execute();
  },

  async delete(db: Db, tenantId: string, principalId: string): Promise<boolean> {
    const result = await db.deleteFrom('oauth_clients').where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },
};
