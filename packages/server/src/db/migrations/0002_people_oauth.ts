import type { Kysely, Migration } from 'kysely';

/**
 * The authorization-server side of people sign-in: clients users sign in to, pending authorization
 * requests, authorization codes, refresh-token families and consents. Codes and refresh tokens are
 * stored only as keyed digests.
 */
export const peopleOAuth: Migration = {
  async up(db: Kysely<unknown>) {
    // Redirect URIs and client type of a service or agent principal users sign in to.
    await db.schema
      .createTable('oauth_clients')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('client_type', 'text', (c) => c.notNull())
      .addColumn('redirect_uris', 'text', (c) => c.notNull())
      .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
      .addColumn('required_scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('oauth_clients_pk', ['tenant_id', 'principal_id'])
      .addForeignKeyConstraint('oauth_clients_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('authorization_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('authorization_requests_expiry').on('authorization_requests').columns(['expires_at']).execute();

    // A token family: everything issued from one authorization code, through every refresh.
    await db.schema
      .createTable('token_families')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('consent_ids', 'text', (c) => c.notNull())
      .addColumn('resource', 'text')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      .addColumn('acr', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('revoked_reason', 'text')
      .execute();
    await db.schema.createIndex('token_families_user').on('token_families').columns(['tenant_id', 'user_id', 'client_id']).execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('digest', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('grant', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('family_id', 'text')
      .addColumn('access_token_jti', 'text')
      .execute();
    await db.schema.createIndex('authorization_codes_expiry').on('authorization_codes').columns(['expires_at']).execute();

    await db.schema
      .createTable('refresh_tokens')
      .addColumn('digest', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('family_id', 'text', (c) => c.notNull().references('token_families.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').columns(['family_id']).execute();

    // user_id null: a tenant admin consented for every user of the tenant.
    await db.schema
      .createTable('consents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text')
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('granted_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addForeignKeyConstraint('consents_client', ['tenant_id', 'client_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('consents_user_client').on('consents').columns(['tenant_id', 'client_id', 'user_id', 'id']).execute();
    await db.schema.createIndex('consents_tenant').on('consents').columns(['tenant_id', 'id']).execute();
  },
};
