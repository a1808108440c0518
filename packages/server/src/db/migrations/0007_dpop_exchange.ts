import type { Kysely, Migration } from 'kysely';

/** RFC 9449: principals that require DPoP-bound tokens. */
export const dpopExchange: Migration = {
  async up(db: Kysely<unknown>) {
    // RFC 9449 §5.2: a principal whose tokens must be DPoP-bound (a blueprint can require it too).
    await db.schema.alterTable('principals').addColumn('require_dpop', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
