import type { Db } from '../../db/connect.js';
import { parseJson } from '../../db/json.js';
import type { AuthorizationCodesTable } from '../../db/schema.js';

/** What an authorization code stands for, fixed when the user approved the request. */
export interface CodeGrant {
  redirectUri: string;
  /** RFC 7636 S256 challenge. */
  codeChallenge: string;
  nonce: string | null;
  /** Granted scopes (identity and resource scopes), after the user's consent choices. */
  scope: string[];
  resource: string | null;
  consentIds: string[];
  sessionId: string;
  authTime: number;
  amr: string[];
  acr: string;
}

export interface AuthorizationCode {
  digest: string;
  tenantId: string;
  clientId: string;
  userId: string;
  grant: CodeGrant;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** The family the first exchange started: what a second use revokes. */
  familyId: string | null;
  accessTokenJti: string | null;
}

const toCode = (row: AuthorizationCodesTable): AuthorizationCode => ({
  digest: row.digest,
  tenantId: row.tenant_id,
  clientId: row.client_id,
  userId: row.user_id,
  grant: parseJson<CodeGrant>(row.grant, 'authorization_codes.grant'),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  familyId: row.family_id,
  accessTokenJti: row.access_token_jti,
});

export const codeStore = {
  async insert(db: Db, c: AuthorizationCode): Promise<void> {
    await db
      .insertInto('authorization_codes')
      .values({
        digest: c.digest,
        tenant_id: c.tenantId,
        client_id: c.clientId,
        user_id: c.userId,
        grant: JSON.stringify(c.grant),
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        used_at: null,
        family_id: null,
        access_token_jti: null,
      })
      .execute();
  },

  async get(db: Db, tenantId: string, digest: string): Promise<AuthorizationCode | undefined> {
    const row = await db.selectFrom('authorization_codes').selectAll().where('tenant_id', '=', tenantId).where('digest', '=', digest).executeTakeFirst();
    return row && toCode(row);
  },

  /** RFC 6749 §4.1.2: single use. Marks the code spent; false when it already was. */
  async spend(db: Db, tenantId: string, digest: string, now: number, familyId: string): Promise<boolean> {
    const result = await db
      .updateTable('authorization_codes')
      .set({ used_at: now, family_id: familyId })
      .where('tenant_id', '=', tenantId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async recordAccessToken(db: Db, tenantId: string, digest: string, jti: string): Promise<void> {
    await db.updateTable('authorization_codes').set({ access_token_jti: jti }).where('tenant_id', '=', tenantId).where('digest', '=', digest).execute();
  },

  /** Spent codes are kept a while after expiry so that a late second use is still detected as reuse. */
  async deleteExpired(db: Db, before: number): Promise<number> {
    const result = await db.deleteFrom('authorization_codes').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
