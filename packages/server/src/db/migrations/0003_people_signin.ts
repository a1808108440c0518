import type { Kysely, Migration } from 'kysely';

/**
 * People signing in: sign-in names on user principals, password hashes, second factors (TOTP,
 * passkeys, recovery codes), invitations, WebAuthn challenges and browser sessions. Every secret
 * is stored as an argon2id hash, a keyed digest, or sealed with the master key.
 */
export const peopleSignIn: Migration = {
  async up(db: Kysely<unknown>) {
    // Sign-in names of users; unique per tenant. Email is stored lower-cased.
    await db.schema.alterTable('principals').addColumn('username', 'text').execute();
    await db.schema.alterTable('principals').addColumn('email', 'text').execute();
    await db.schema.createIndex('principals_tenant_username').unique().on('principals').columns(['tenant_id', 'username']).execute();
    await db.schema.createIndex('principals_tenant_email').unique().on('principals').columns(['tenant_id', 'email']).execute();

    await db.schema
      .createTable('people_passwords')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('must_change', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('people_passwords_pk', ['tenant_id', 'user_id'])
      .addForeignKeyConstraint('people_passwords_user', ['tenant_id', 'user_id'], 'principals', ['tenant_id', 'id'])
      .execute();

    // type totp: secret sealed, last_step = last accepted time step (replay refused).
    // type passkey: credential_id (base64url) unique per tenant, public_key, sign counter.
    await db.schema
      .createTable('people_factors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('confirmed', 'integer', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('last_step', 'bigint')
      .addColumn('credential_id', 'text')
      .addColumn('public_key', 'text')
      .addColumn('counter', 'bigint')
      .addColumn('transports', 'text')
      .addColumn('device_type', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addForeignKeyConstraint('people_factors_user', ['tenant_id', 'user_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('people_factors_user').on('people_factors').columns(['tenant_id', 'user_id', 'id']).execute();
    await db.schema.createIndex('people_factors_credential').unique().on('people_factors').columns(['tenant_id', 'credential_id']).execute();

    await db.schema
      .createTable('people_recovery_codes')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addPrimaryKeyConstraint('people_recovery_codes_pk', ['tenant_id', 'user_id', 'digest'])
      .addForeignKeyConstraint('people_recovery_codes_user', ['tenant_id', 'user_id'], 'principals', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('people_invitations')
      .addColumn('digest', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addForeignKeyConstraint('people_invitations_user', ['tenant_id', 'user_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('people_invitations_user').on('people_invitations').columns(['tenant_id', 'user_id']).execute();

    // Sign-in sessions and sign-ins in progress (state other than active), keyed by the cookie's digest.
    await db.schema
      .createTable('people_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('token_digest', 'text', (c) => c.notNull().unique())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      .addColumn('acr', 'text', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('return_to', 'text')
      .addColumn('require_mfa', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('source_ip', 'text')
      .addColumn('user_agent', 'text')
      .addForeignKeyConstraint('people_sessions_user', ['tenant_id', 'user_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('people_sessions_user').on('people_sessions').columns(['tenant_id', 'user_id']).execute();
    await db.schema.createIndex('people_sessions_expiry').on('people_sessions').columns(['expires_at']).execute();

    // WebAuthn challenges: single-use, short-lived; user_id null for passwordless sign-in.
    await db.schema
      .createTable('people_webauthn_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('challenge', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('people_webauthn_challenges_expiry').on('people_webauthn_challenges').columns(['expires_at']).execute();
  },
};
