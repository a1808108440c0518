import type { Kysely, Migration } from 'kysely';

/** RFC 9449: a public client's refresh tokens bound to its DPoP key. */
export const boundRefreshTokens: Migration = {
  async up(db: Kysely<unknown>) {
    // RFC 9449 §5: a public client that proved a DPoP key when its tokens were issued must prove it on every refresh.
    await db.schema.alterTable('token_families').addColumn('dpop_jkt', 'text').execute();
  },
};
