import type { Kysely, Migration } from 'kysely';

/** Workload identity federation: the issuer, audience and match of federated credentials. */
export const federation: Migration = {
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
};
