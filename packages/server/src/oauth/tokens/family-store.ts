import type { Db } from '../../db/connect.js';
import { parseJson } from '../../db/json.js';
import type { TokenFamiliesTable } from '../../db/schema.js';

/**
 * A token family: what one authorization code started — the access tokens and every refresh token
 * rotated from the first. Revoking the family ends all of them (RFC 9700 §4.14.2).
 */
export interface TokenFamily {
  id: string;
  tenantId: string;
  clientId: string;
  userId: string;
  /** The consents the granted scopes rest on; revoking any of them revokes the family. */
  consentIds: string[];
  resource: string | null;
  scope: string[];
  /** Epoch seconds of the user's authentication. */
  authTime: number;
  amr: string[];
  acr: string;
  createdAt: number;
  /** Absolute end of the family (tenant refreshTokenLifetimeSeconds). */
  expiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  /** RFC 9449: the DPoP key a public client's refresh tokens are bound to, if any. */
  dpopJkt: string | null;
}

function toFamily(row: TokenFamiliesTable): TokenFamily {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    userId: row.user_id,
    consentIds: parseJson<string[]>(row.consent_ids, 'token_families.consent_ids'),
    resource: row.resource,
    scope: row.scope === '' ? [] : row.scope.split(' '),
    authTime: row.auth_time,
    amr: parseJson<string[]>(row.amr, 'token_families.amr'),
    acr: row.acr,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    dpopJkt: row.dpop_jkt,
  };
}

export const familyStore = {
  async insert(db: Db, f: TokenFamily): Promise<void> {
    await db
      .insertInto('token_families')
      .values({
        id: f.id,
        tenant_id: f.tenantId,
        client_id: f.clientId,
        user_id: f.userId,
        consent_ids: JSON.stringify(f.consentIds),
        resource: f.resource,
        scope: f.scope.join(' '),
        auth_time: f.authTime,
        amr: JSON.stringify(f.amr),
        acr: f.acr,
        created_at: f.createdAt,
        expires_at: f.expiresAt,
        revoked_at: f.revokedAt,
        revoked_reason: f.revokedReason,
        dpop_jkt: f.dpopJkt,
      })
      .execute();
  },

  async get(db: Db, tenantId: string, id: string): Promise<TokenFamily | undefined> {
    const row = await db.selectFrom('token_families').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toFamily(row);
  },

  /** Revokes a live family; returns false when it was already revoked. */
  async revoke(db: Db, tenantId: string, id: string, now: number, reason: string): Promise<boolean> {
    const result = await db
      .updateTable('token_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  },

  /**
   * Revokes every live family a principal takes part in, as the user or as the client (the kill
   * switch: a disabled or deleted principal keeps no refresh token). Returns how many.
   */
  async revokeForPrincipal(db: Db, tenantId: string, principalId: string, now: number, reason: string): Promise<number> {
    const result = await db
      .updateTable('token_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('user_id', '=', principalId), eb('client_id', '=', principalId)]))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Live families of a client, for one user or (userId null) every user. */
  async liveFor(db: Db, tenantId: string, clientId: string, userId: string | null): Promise<TokenFamily[]> {
    let q = db.selectFrom('token_families').selectAll().where('tenant_id', '=', tenantId).where('client_id', '=', clientId).where('revoked_at', 'is', null);
    if (userId !== null) q = q.where('user_id', '=', userId);
    return (await q.execute()).map(toFamily);
  },
};
