import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSignet } from '../../src/main.js';
import { grantStore } from '../../src/grants/store.js';
import { auditStore } from '../../src/audit/store.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('first start bootstrap', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'signet-boot-'));
  const config = loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_MASTER_KEY: randomBytes(32).toString('hex'), SIGNET_PUBLIC_URL: 'https://id.example.com' }, { warn: () => undefined });

  it('creates the default tenant, the admin resource and an install admin, and writes its credentials once (0600), logging the path but never the secret', async () => {
    const { log, lines } = capture();
    const signet = await createSignet(config, { log });
    try {
      const file = join(dataDir, 'admin-credentials.json');
      assert.equal(signet.credentialsFile, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dataDir, 'signet.db')).mode & 0o777, 0o600, 'the database holds digests and sealed keys');
      const creds = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(creds.issuer, 'https://id.example.com/default');
      assert.equal(creds.token_endpoint, 'https://id.example.com/default/oauth2/token');
      assert.equal(creds.scope, 'urn:signet:admin/.default');
      assert.equal(creds.admin_api, 'https://id.example.com/admin/v1');
      assert.equal(creds.tenant, 'default');
      assert.match(creds.client_secret, /^sgn_[A-Za-z0-9_-]{43}$/);
      const output = lines.join('');
      assert.match(output, /admin-credentials\.json/);
      assert.ok(!output.includes(creds.client_secret), 'the secret must never be logged');

      const tenant = await signet.services.tenants.resolve('default');
      const admin = await signet.services.resources.resolve(tenant, 'urn:signet:admin');
      assert.equal(admin.builtin, true);
      assert.deepEqual(admin.roles.map((r) => r.name).sort(), ['audit.reader', 'install.admin', 'tenant.admin', 'tenant.reader']);
      const grants = await grantStore.roles(signet.deps.db, tenant.id, creds.client_id, admin.id);
      assert.deepEqual(grants, ['install.admin', 'tenant.admin']);
    } finally {
      await signet.close();
    }
  });

  it('a start adds built-in admin roles that a tenant created by an older version lacks (audited)', async () => {
    const first = await createSignet(config, { log: pino({ level: 'silent' }) });
    const tenant = await first.services.tenants.resolve('default');
    const admin = await first.services.resources.resolve(tenant, 'urn:signet:admin');
    await first.deps.db.updateTable('resources').set({ roles: JSON.stringify(admin.roles.filter((r) => r.name !== 'audit.reader')) }).where('id', '=', admin.id).execute();
    await first.close();
    const second = await createSignet(config, { log: pino({ level: 'silent' }) });
    try {
      const after = await second.services.resources.resolve(tenant, 'urn:signet:admin');
      assert.deepEqual(after.roles.map((r) => r.name).sort(), admin.roles.map((r) => r.name).sort());
      const events = await auditStore.list(second.deps.db, tenant.id, 10);
      assert.ok(events.some((e) => e.type === 'resource.updated' && e.targetId === admin.id && e.actorId === null));
    } finally {
      await second.close();
    }
  });

  it('a second start keeps the existing admin and file untouched', async () => {
    const file = join(dataDir, 'admin-credentials.json');
    const before = readFileSync(file, 'utf8');
    const signet = await createSignet(config, { log: pino({ level: 'silent' }) });
    try {
      assert.equal(signet.credentialsFile, undefined);
      assert.equal(readFileSync(file, 'utf8'), before);
    } finally {
      await signet.close();
    }
  });
});
