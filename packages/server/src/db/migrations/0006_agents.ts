import type { Kysely, Migration } from 'kysely';

/** Agents and blueprints, access-token revocation, Shared Signals, cross-node invalidation. */
export const agents: Migration = {
  async up(db: Kysely<unknown>) {
    // Agents: the blueprint they were created from, and an expiry their sponsors can extend.
    await db.schema.alterTable('principals').addColumn('blueprint_id', 'text').execute();
    await db.schema.alterTable('principals').addColumn('expires_at', 'bigint').execute();

    await db.schema
      .createTable('blueprints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('access_token_lifetime_seconds', 'integer', (c) => c.notNull())
      .addColumn('max_delegation_depth', 'integer', (c) => c.notNull())
      .addColumn('allow_app_roles', 'integer', (c) => c.notNull())
      .addColumn('allow_delegation', 'integer', (c) => c.notNull())
      .addColumn('require_dpop', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('blueprints_tenant_name', ['tenant_id', 'name'])
      .addUniqueConstraint('blueprints_tenant_id_id', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('principals_tenant_blueprint').on('principals').columns(['tenant_id', 'blueprint_id']).execute();

    await db.schema
      .createTable('blueprint_credentials')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('blueprint_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('secret_digest', 'text')
      .addColumn('public_jwk', 'text')
      .addColumn('thumbprint', 'text')
      .addColumn('certificate', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .addForeignKeyConstraint('blueprint_credentials_blueprint', ['tenant_id', 'blueprint_id'], 'blueprints', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('blueprint_credentials_blueprint').on('blueprint_credentials').columns(['tenant_id', 'blueprint_id', 'id']).execute();

    // RFC 7009: revoked access tokens, kept until the token would have expired anyway.
    await db.schema
      .createTable('revoked_tokens')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('jti', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('revoked_tokens_pk', ['tenant_id', 'jti'])
      .execute();
    await db.schema.createIndex('revoked_tokens_expiry').on('revoked_tokens').column('expires_at').execute();

    // Shared Signals: receivers, and an outbox of Security Event Tokens delivered after commit.
    await db.schema
      .createTable('ssf_receivers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('endpoint_url', 'text', (c) => c.notNull())
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('authorization', 'text')
      .addColumn('description', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('ssf_receivers_tenant_id_id', ['tenant_id', 'id'])
      .execute();
    await db.schema
      .createTable('ssf_outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('receiver_id', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ssf_outbox_due').on('ssf_outbox').columns(['delivered_at', 'next_attempt_at']).execute();

    // Cross-node cache invalidation: one row per tenant, bumped by every directory change.
    await db.schema
      .createTable('directory_versions')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('changed_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('directory_versions_changed').on('directory_versions').column('changed_at').execute();
  },
};
