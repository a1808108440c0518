import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { peopleOAuth } from './migrations/0002_people_oauth.js';
import { peopleSignIn } from './migrations/0003_people_signin.js';
import { federation } from './migrations/0004_federation.js';
import { managedNodes } from './migrations/0005_managed_nodes.js';
import { agents } from './migrations/0006_agents.js';
import { dpopExchange } from './migrations/0007_dpop_exchange.js';
import { boundRefreshTokens } from './migrations/0008_bound_refresh_tokens.js';
import { auditDeferredIndex } from './migrations/0009_audit_deferred_index.js';
import { auditLookupsWithoutRowid } from './migrations/0010_audit_lookups_without_rowid.js';
import { selfRegisteredClients } from './migrations/0011_self_registered_clients.js';

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
  '0004_federation': federation,
  '0005_managed_nodes': managedNodes,
  '0006_agents': agents,
  '0007_dpop_exchange': dpopExchange,
  '0008_bound_refresh_tokens': boundRefreshTokens,
  '0009_audit_deferred_index': auditDeferredIndex,
  '0010_audit_lookups_without_rowid': auditLookupsWithoutRowid,
  '0011_self_registered_clients': selfRegisteredClients,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Applies every pending migration (or those up to and including `through`, for upgrade tests);
 * throws (with the failing migration's name) on error.
 */
export async function migrate(db: Kysely<unknown>, through?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = through === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(through);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
