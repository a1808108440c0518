import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { peopleOAuth } from './migrations/0002_people_oauth.js';
import { peopleSignIn } from './migrations/0003_people_signin.js';

/** One set of migrations for every dialect: only portable types (text, bigint, integer). */
const migrations: Record<string, Migration> = {
  '0001_directory': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addUniqueConstraint('principals_tenant_id_id', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('principals_tenant_kind').on('principals').columns(['tenant_id', 'kind', 'status', 'id']).execute();

      await db.schema
        .createTable('principal_sponsors')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('sponsor_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('principal_sponsors_pk', ['tenant_id', 'principal_id', 'sponsor_id'])
        .addForeignKeyConstraint('principal_sponsors_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
        .addForeignKeyConstraint('principal_sponsors_sponsor', ['tenant_id', 'sponsor_id'], 'principals', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('principal_sponsors_sponsor').on('principal_sponsors').columns(['tenant_id', 'sponsor_id']).execute();

      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('secret_digest', 'text')
        .addColumn('public_jwk', 'text')
        .addColumn('thumbprint', 'text')
        .addColumn('certificate', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addForeignKeyConstraint('credentials_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('credentials_principal').on('credentials').columns(['tenant_id', 'principal_id', 'id']).execute();

      await db.schema
        .createTable('resources')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('identifier', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('resources_tenant_identifier', ['tenant_id', 'identifier'])
        .addUniqueConstraint('resources_tenant_id_id', ['tenant_id', 'id'])
        .execute();

      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('grants_principal_resource_role', ['tenant_id', 'principal_id', 'resource_id', 'role'])
        .addForeignKeyConstraint('grants_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
        .addForeignKeyConstraint('grants_resource', ['tenant_id', 'resource_id'], 'resources', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('grants_resource').on('grants').columns(['tenant_id', 'resource_id', 'id']).execute();
      await db.schema.createIndex('grants_tenant').on('grants').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('activated_at', 'bigint')
        .addColumn('retired_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('signing_keys_tenant').on('signing_keys').columns(['tenant_id', 'status']).execute();

      await db.schema
        .createTable('used_jtis')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('used_jtis_pk', ['tenant_id', 'client_id', 'jti'])
        .execute();
      await db.schema.createIndex('used_jtis_expiry').on('used_jtis').column('expires_at').execute();

      // The audit trail: hash-chained events (one chain per tenant per writer), signed checkpoints.
      await db.schema
        .createTable('audit_chains')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('writer_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('head_seq', 'bigint', (c) => c.notNull())
        .addColumn('head_hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_chains_tenant').on('audit_chains').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('chain_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_kind', 'text')
        .addColumn('subject_id', 'text')
        .addColumn('client_id', 'text')
        .addColumn('credential_id', 'text')
        .addColumn('credential_type', 'text')
        .addColumn('resource', 'text')
        .addColumn('jti', 'text')
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('source_ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('request_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addUniqueConstraint('audit_events_chain_seq', ['chain_id', 'seq'])
        .execute();
      // Every index is written by every event, at machine velocity: only those the queries need.
      // Actor, subject and client filters run through audit_event_principals; time ranges are id
      // ranges (ids are UUIDv7).
      for (const column of ['type', 'outcome', 'credential_id', 'resource'] as const) {
        await db.schema.createIndex(`audit_events_${column}`).on('audit_events').columns(['tenant_id', column, 'id']).execute();
      }
      await db.schema.createIndex('audit_events_tenant').on('audit_events').columns(['tenant_id', 'id']).execute();

      // Every principal an event names (actor, subject, client, target, each delegation hop):
      // "a principal anywhere in the chain" is one indexed lookup.
      await db.schema
        .createTable('audit_event_principals')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_event_principals_pk', ['tenant_id', 'principal_id', 'event_id'])
        .execute();

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('writer_id', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('audit_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0002_people_oauth': peopleOAuth,
  '0003_people_signin': peopleSignIn,
  '0004_federation': {
    async up(db: Kysely<unknown>) {
      // Federated credentials (workload identity federation) are rows of `credentials` with type
      // `federated`: an external issuer and audience, and an exact subject or a claims expression.
      for (const column of ['issuer', 'audience', 'subject', 'claims', 'jwks'] as const) {
        await db.schema.alterTable('credentials').addColumn(column, 'text').execute();
      }
      // Token path: candidates for an external token are found by (tenant, issuer, audience).
      await db.schema.createIndex('credentials_federation').on('credentials').columns(['tenant_id', 'issuer', 'audience', 'principal_id']).execute();
      await db.schema.createIndex('credentials_expiry').on('credentials').columns(['tenant_id', 'expires_at', 'id']).execute();
    },
  },
};

/** Managed identities' platform-held keys, and the nodes (`signet node`) that fetch their tokens. */
migrations['0005_managed_nodes'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('managed_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      // One key per generation: two nodes rotating at once cannot both add a key.
      .addUniqueConstraint('managed_keys_generation', ['tenant_id', 'principal_id', 'generation'])
      .addForeignKeyConstraint('managed_keys_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('managed_keys_expiry').on('managed_keys').column('expires_at').execute();

    await db.schema
      .createTable('nodes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint')
      .addUniqueConstraint('nodes_tenant_id_id', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('node_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addForeignKeyConstraint('node_keys_node', ['tenant_id', 'node_id'], 'nodes', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('node_keys_node').on('node_keys').columns(['tenant_id', 'node_id']).execute();

    await db.schema
      .createTable('node_join_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('name', 'text')
      .addColumn('digest', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('node_id', 'text')
      .execute();
    await db.schema.createIndex('node_join_tokens_tenant').on('node_join_tokens').columns(['tenant_id', 'id']).execute();

    await db.schema
      .createTable('node_assignments')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('node_assignments_pk', ['tenant_id', 'node_id', 'principal_id'])
      .addForeignKeyConstraint('node_assignments_node', ['tenant_id', 'node_id'], 'nodes', ['tenant_id', 'id'])
      .addForeignKeyConstraint('node_assignments_principal', ['tenant_id', 'principal_id'], 'principals', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('node_assignments_principal').on('node_assignments').columns(['tenant_id', 'principal_id']).execute();
  },
};

/** Agents and blueprints, access-token revocation, Shared Signals, cross-node invalidation. */
migrations['0006_agents'] = {
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

migrations['0007_dpop_exchange'] = {
  async up(db: Kysely<unknown>) {
    // RFC 9449 §5.2: a principal whose tokens must be DPoP-bound (a blueprint can require it too).
    await db.schema.alterTable('principals').addColumn('require_dpop', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

migrations['0008_bound_refresh_tokens'] = {
  async up(db: Kysely<unknown>) {
    // RFC 9449 §5: a public client that proved a DPoP key when its tokens were issued must prove it on every refresh.
    await db.schema.alterTable('token_families').addColumn('dpop_jkt', 'text').execute();
  },
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Applies every pending migration; throws (with the failing migration's name) on error. */
export async function migrate(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
