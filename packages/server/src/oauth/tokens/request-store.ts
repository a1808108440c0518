import type { ResponseMode } from '../authorize/respond.js';
import type { Db } from '../../db/connect.js';
import { parseJson } from '../../db/json.js';

/** A validated authorization request, kept server-side while the user signs in and consents. */
export interface PendingAuthorization {
  id: string;
  tenantId: string;
  clientId: string;
  redirectUri: string;
  /** How the response reaches the client; absent in requests stored before form_post: query. */
  responseMode?: ResponseMode;
  state: string | null;
  nonce: string | null;
  codeChallenge: string;
  /** Requested scopes, identity and resource scopes alike, in request order without duplicates. */
  scope: string[];
  resource: string | null;
  prompt: Array<'none' | 'login' | 'consent'>;
  /** OIDC Core §3.1.2.1 max_age in seconds. */
  maxAge: number | null;
  /** A fresh authentication is required (prompt=login or max_age exceeded): the session must be newer than this (epoch s). */
  authAfter: number | null;
  /** OIDC Core §3.1.2.1 acr_values asked for the multi-factor class. */
  requireMfa: boolean;
  createdAt: number;
  expiresAt: number;
}

type Params = Omit<PendingAuthorization, 'id' | 'tenantId' | 'clientId' | 'createdAt' | 'expiresAt'>;

export const requestStore = {
  async insert(db: Db, r: PendingAuthorization): Promise<void> {
    const { id, tenantId, clientId, createdAt, expiresAt, ...params } = r;
    await db
      .insertInto('authorization_requests')
      .values({ id, tenant_id: tenantId, client_id: clientId, params: JSON.stringify(params), created_at: createdAt, expires_at: expiresAt })
      .execute();
  },

  async get(db: Db, tenantId: string, id: string, now: number): Promise<PendingAuthorization | undefined> {
    const row = await db.selectFrom('authorization_requests').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
    if (!row) return undefined;
    return { id: row.id, tenantId: row.tenant_id, clientId: row.client_id, createdAt: row.created_at, expiresAt: row.expires_at, ...parseJson<Params>(row.params, 'authorization_requests.params') };
  },

  async setAuthAfter(db: Db, tenantId: string, id: string, r: PendingAuthorization, authAfter: number): Promise<void> {
    const { id: _i, tenantId: _t, clientId: _c, createdAt: _a, expiresAt: _e, ...params } = { ...r, authAfter };
    await db.updateTable('authorization_requests').set({ params: JSON.stringify(params) }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** A request ends once it produced a code or an error: it cannot be replayed. */
  async delete(db: Db, tenantId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('authorization_requests').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },

  async deleteExpired(db: Db, now: number): Promise<number> {
    const result = await db.deleteFrom('authorization_requests').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
