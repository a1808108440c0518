import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import type { PeopleFactorsTable } from '../db/schema.js';

export type FactorType = 'totp' | 'passkey';

export interface Factor {
  id: string;
  tenantId: string;
  userId: string;
  type: FactorType;
  name: string;
  /** A TOTP factor counts only once a first code proved the authenticator app has it. */
  confirmed: boolean;
  /** TOTP: secret sealed with the master key (context: factor id). */
  sealedSecret: string | null;
  /** TOTP: last accepted time step. */
  lastStep: number | null;
  /** Passkey: credential id (base64url), public key (COSE, base64url), signature counter. */
  credentialId: string | null;
  publicKey: string | null;
  counter: number | null;
  transports: string[];
  /** Passkey: `singleDevice` (hardware-bound) or `multiDevice` (synced). */
  deviceType: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

function toFactor(r: PeopleFactorsTable): Factor {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    type: r.type as FactorType,
    name: r.name,
    confirmed: r.confirmed === 1,
    sealedSecret: r.secret,
    lastStep: r.last_step,
    credentialId: r.credential_id,
    publicKey: r.public_key,
    counter: r.counter,
    transports: r.transports ? parseJson<string[]>(r.transports, 'people_factors.transports') : [],
    deviceType: r.device_type,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

/** Second factors, recovery codes and WebAuthn challenges. Every query is scoped by tenant. */
export const factorStore = {
  async insert(db: Db, f: Factor): Promise<void> {
    await db
      .insertInto('people_factors')
      .values({
        id: f.id,
        tenant_id: f.tenantId,
        user_id: f.userId,
        type: f.type,
        name: f.name,
        confirmed: f.confirmed ? 1 : 0,
        secret: f.sealedSecret,
        last_step: f.lastStep,
        credential_id: f.credentialId,
        public_key: f.publicKey,
        counter: f.counter,
        transports: f.transports.length > 0 ? JSON.stringify(f.transports) : null,
        device_type: f.deviceType,
        created_at: f.createdAt,
        last_used_at: f.lastUsedAt,
      })
      .execute();
  },

  async listForUser(db: Db, tenantId: string, userId: string): Promise<Factor[]> {
    const rows = await db.selectFrom('people_factors').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toFactor);
  },

  async get(db: Db, tenantId: string, userId: string, id: string): Promise<Factor | undefined> {
    const row = await db.selectFrom('people_factors').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return row && toFactor(row);
  },

  async byCredentialId(db: Db, tenantId: string, credentialId: string): Promise<Factor | undefined> {
    const row = await db.selectFrom('people_factors').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).where('type', '=', 'passkey').executeTakeFirst();
    return row && toFactor(row);
  },

  async confirm(db: Db, tenantId: string, id: string, step: number, now: number): Promise<void> {
    await db.updateTable('people_factors').set({ confirmed: 1, last_step: step, last_used_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /**
   * Records TOTP step `step` as used, only if it is later than the last one: false when another
   * request used this step (or a later one) first — the code is then a replay (RFC 6238 §5.2).
   */
  async advanceStep(db: Db, tenantId: string, id: string, step: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('people_factors')
      .set({ last_step: step, last_used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async updateCounter(db: Db, tenantId: string, id: string, counter: number, now: number): Promise<void> {
    await db.updateTable('people_factors').set({ counter, last_used_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async delete(db: Db, tenantId: string, userId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('people_factors').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },

  /** Removes unconfirmed TOTP enrolments of a user (a new enrolment replaces an abandoned one). */
  async deleteUnconfirmed(db: Db, tenantId: string, userId: string): Promise<void> {
    await db.deleteFrom('people_factors').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('confirmed', '=', 0).execute();
  },

  async replaceRecoveryCodes(db: Db, tenantId: string, userId: string, digests: string[], now: number): Promise<void> {
    await db.deleteFrom('people_recovery_codes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
    if (digests.length === 0) return;
    await db.insertInto('people_recovery_codes').values(digests.map((digest) => ({ tenant_id: tenantId, user_id: userId, digest, created_at: now, used_at: null }))).execute();
  },

  /** Spends a recovery code: true only for the one request that marks it used. */
  async useRecoveryCode(db: Db, tenantId: string, userId: string, digest: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('people_recovery_codes')
      .set({ used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async unusedRecoveryCodes(db: Db, tenantId: string, userId: string): Promise<number> {
    const row = await db
      .selectFrom('people_recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  async insertChallenge(db: Db, c: { id: string; tenantId: string; userId: string | null; purpose: string; challenge: string; expiresAt: number }): Promise<void> {
    await db.insertInto('people_webauthn_challenges').values({ id: c.id, tenant_id: c.tenantId, user_id: c.userId, purpose: c.purpose, challenge: c.challenge, expires_at: c.expiresAt }).execute();
  },

  /** Takes a challenge (single use): it is deleted whether or not it is still valid. */
  async takeChallenge(db: Db, tenantId: string, id: string, purpose: string, now: number): Promise<{ userId: string | null; challenge: string } | undefined> {
    return db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('people_webauthn_challenges').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const deleted = await trx.deleteFrom('people_webauthn_challenges').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1 || row.purpose !== purpose || row.expires_at <= now) return undefined;
      return { userId: row.user_id, challenge: row.challenge };
    });
  },
};
