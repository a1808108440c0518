import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { runCli, useFakeServer } from './fake-server.js';

const FEDERATED = {
  id: 'c-9',
  principalId: 'p-1',
  type: 'federated',
  description: null,
  thumbprint: null,
  publicJwk: null,
  createdAt: '2025-01-03T00:00:00.000Z',
  expiresAt: null,
  lastUsedAt: null,
  issuer: 'https://token.actions.githubusercontent.com',
  audience: 'api://signet',
  subject: null,
  claims: 'repository == "acme/api"',
  jwks: null,
};

describe('signet credential add-federated / expiring', () => {
  const { server, dir: dataDir } = useFakeServer();

  it('adds a federated credential with a claims expression', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals/p-1/credentials', { status: 201, body: FEDERATED });
    const claims = 'repository == "acme/api" && ref matches "refs/heads/release/*"';
    const result = await runCli(['credential', 'add-federated', 'p-1', '--issuer', 'https://token.actions.githubusercontent.com', '--audience', 'api://signet', '--claims', claims, '--json'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { type: 'federated', issuer: 'https://token.actions.githubusercontent.com', audience: 'api://signet', claims });
    assert.equal((JSON.parse(result.stdout) as { id: string }).id, 'c-9');
  });

  it('sends PEM keys for clusters without discovery', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals/p-1/credentials', { status: 201, body: FEDERATED });
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
    await writeFile(join(dataDir(), 'sa.pub'), pem);
    const result = await runCli(['credential', 'add-federated', 'p-1', '--issuer', 'https://kubernetes.default.svc', '--audience', 'signet', '--subject', 'system:serviceaccount:payments:api', '--key', join(dataDir(), 'sa.pub')], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { type: 'federated', issuer: 'https://kubernetes.default.svc', audience: 'signet', subject: 'system:serviceaccount:payments:api', keys: [pem] });
  });

  it('refuses neither or both of --subject and --claims before calling the API', async () => {
    const neither = await runCli(['credential', 'add-federated', 'p-1', '--issuer', 'https://i', '--audience', 'a'], dataDir());
    assert.equal(neither.code, 1);
    assert.equal(neither.stderr, 'error: usage: give exactly one of --subject <sub> or --claims <expression>\n');
    const both = await runCli(['credential', 'add-federated', 'p-1', '--issuer', 'https://i', '--audience', 'a', '--subject', 's', '--claims', 'a == "b"'], dataDir());
    assert.equal(both.code, 1);
    assert.equal(server.requests.length, 0);
  });

  it('shows the server\'s message for an invalid expression', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals/p-1/credentials', {
      status: 400,
      body: { code: 'invalid_request', message: 'claims: expected a quoted glob pattern after "matches" but found the end of the expression at position 11', details: { position: 11 } },
    });
    const result = await runCli(['credential', 'add-federated', 'p-1', '--issuer', 'https://i', '--audience', 'a', '--claims', 'ref matches'], dataDir());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid_request: claims: expected a quoted glob pattern after "matches" but found the end of the expression at position 11/);
  });

  it('lists credentials expiring within N days', async () => {
    server.routes.set('GET /admin/v1/tenants/default/credentials?expiringWithinDays=14', { status: 200, body: { items: [{ ...FEDERATED, expiresAt: '2025-01-05T00:00:00.000Z' }], nextCursor: null } });
    const result = await runCli(['credential', 'expiring', '--days', '14', '--json'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.apiRequests[0]?.path, '/admin/v1/tenants/default/credentials?expiringWithinDays=14');
    const bad = await runCli(['credential', 'expiring', '--days', 'soon'], dataDir());
    assert.equal(bad.code, 1);
  });
});
