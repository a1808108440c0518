import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditStore } from '../../src/audit/store.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('audit writer wiring', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('the embedded default appends audit events with prepared statements (the SQLite handle reaches the writer)', () => {
    assert.ok(server.signet.deps.dbKind === 'sqlite');
    assert.ok((server.signet.auditTrail.writer as unknown as { appender: unknown }).appender, 'writer has a SQLite appender');
  });
});

describe('SIGNET_AUDIT_WRITES=off-for-benchmarks', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ SIGNET_AUDIT_WRITES: 'off-for-benchmarks' });
  });
  after(() => server.close());

  it('drops token events (and only that): directory changes are still written', async () => {
    const tenant = await server.signet.services.tenants.resolve('default');
    await server.adminToken();
    const events = await auditStore.list(server.signet.deps.db, tenant.id, 100);
    assert.equal(events.filter((e) => e.type.startsWith('token.')).length, 0);
    assert.ok(events.some((e) => e.type === 'principal.created'));
  });
});
