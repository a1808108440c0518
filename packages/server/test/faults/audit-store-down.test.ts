import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { before, it } from 'node:test';
import { auditStore } from '../../src/audit/store.js';
import { recordHash } from '../../src/audit/chain.js';
import type { Db } from '../../src/db/connect.js';
import { describeEachServerBackend } from '../contract/backends.js';
import type { TestServer } from '../helpers/server.js';

/** Makes every audit insert fail, as a full disk or a revoked privilege would. */
async function breakAudit(db: Db, kind: 'sqlite' | 'postgres'): Promise<void> {
  if (kind === 'sqlite') {
    await sql`CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END`.execute(db);
  } else {
    await sql`CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER audit_down BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_down()`.execute(db);
  }
}
async function repairAudit(db: Db, kind: 'sqlite' | 'postgres'): Promise<void> {
  await sql`DROP TRIGGER audit_down${kind === 'postgres' ? sql` ON audit_events` : sql``}`.execute(db);
  if (kind === 'postgres') await sql`DROP FUNCTION audit_down()`.execute(db);
}

describeEachServerBackend('audit is fail-closed: no durable event, no token', (current) => {
  let server: TestServer;
  let clientId: string;
  let secret: string;
  const scope = 'api://orders/.default';

  before(async () => {
    server = current();
    await server.api('POST', '/tenants/default/resources', { identifier: 'api://orders', displayName: 'Orders', roles: [{ name: 'orders.read', description: 'Read' }] });
    clientId = (await server.api('POST', '/tenants/default/principals', { kind: 'service', displayName: 'worker' })).body.id;
    secret = (await server.api('POST', `/tenants/default/principals/${clientId}/credentials`, { type: 'secret' })).body.secret;
    await server.api('POST', '/tenants/default/grants', { principal: clientId, resource: 'api://orders', role: 'orders.read' });
  });

  it('while the audit store cannot write, token requests get 503 temporarily_unavailable and no token; they succeed again once it can', async () => {
    const { db, dbKind } = server.signet.deps;
    const tenant = await server.signet.services.tenants.resolve('default');
    const before = (await auditStore.list(db, tenant.id, 1000)).length;

    await breakAudit(db, dbKind);
    const refused = await Promise.all([1, 2, 3].map(() => server.token('default', clientId, secret, { scope })));
    for (const r of refused) {
      assert.equal(r.status, 503);
      assert.equal(r.body.error, 'temporarily_unavailable');
      assert.equal(r.body.access_token, undefined);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
    // Refusals of bad requests cannot be recorded either: they are 503 too, never silently unaudited.
    const bad = await server.token('default', clientId, 'sgn_wrong', { scope });
    assert.equal(bad.status, 503);

    await repairAudit(db, dbKind);
    const ok = await server.token('default', clientId, secret, { scope });
    assert.equal(ok.status, 200);
    const events = await auditStore.list(db, tenant.id, 1000);
    assert.equal(events.length, before + 1, 'nothing from the outage was half-written');
    assert.equal(events[0]?.type, 'token.issued');
  });

  it('concurrent requests share commits and keep the chain whole: contiguous seq, every link and hash valid, one event per token', async () => {
    const { db } = server.signet.deps;
    const tenant = await server.signet.services.tenants.resolve('default');
    const responses = await Promise.all(Array.from({ length: 200 }, () => server.token('default', clientId, secret, { scope })));
    const jtis = responses.map((r) => {
      assert.equal(r.status, 200);
      return JSON.parse(Buffer.from(String(String(r.body.access_token).split('.')[1]), 'base64url').toString()).jti as string;
    });
    const events = await auditStore.list(db, tenant.id, 10_000);
    const issued = new Set(events.filter((e) => e.type === 'token.issued').map((e) => e.jti));
    for (const jti of jtis) assert.ok(issued.has(jti), `token ${jti} has its event`);

    const byChain = new Map<string, typeof events>();
    for (const e of events) byChain.set(e.chainId, [...(byChain.get(e.chainId) ?? []), e]);
    for (const chain of byChain.values()) {
      chain.sort((a, b) => a.seq - b.seq);
      chain.forEach((e, i) => {
        assert.equal(e.seq, i + 1);
        assert.equal(e.prevHash, i === 0 ? '' : chain[i - 1]?.hash);
        assert.equal(recordHash(e), e.hash);
      });
    }
  });
});
