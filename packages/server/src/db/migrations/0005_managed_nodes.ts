import type { Kysely, Migration } from 'kysely';

/** Managed identities' platform-held keys, and the nodes (`signet node`) that fetch their tokens. */
export const managedNodes: Migration = {
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
