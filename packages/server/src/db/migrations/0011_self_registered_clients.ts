import type { Kysely, Migration } from 'kysely';

/** RFC 7591 dynamic client registration: which clients registered themselves (the consent page says so). */
export const selfRegisteredClients: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('oauth_clients').addColumn('self_registered', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
