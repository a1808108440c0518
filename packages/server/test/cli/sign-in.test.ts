import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { runCli, useFakeServer } from './fake-server.js';

const SETTINGS = {
  principalId: 'p-1',
  clientType: 'public',
  redirectUris: ['http://127.0.0.1/cb'],
  postLogoutRedirectUris: [],
  requiredScopes: ['openid'],
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

describe('signet principal sign-in and signet consent', () => {
  const { server, dir: dataDir } = useFakeServer();
  const last = () => server.requests.at(-1);

  it('principal sign-in set sends the client type, redirect URIs and required scopes', async () => {
    server.routes.set('PUT /admin/v1/tenants/default/principals/p-1/oauth-client', { status: 200, body: SETTINGS });
    const result = await runCli(['principal', 'sign-in', 'set', 'p-1', '--public', '--redirect-uri', 'http://127.0.0.1/cb', '--redirect-uri', 'com.example.app:/cb', '--required-scope', 'openid', '--tenant', 'default'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(last()?.body ?? '{}'), { clientType: 'public', redirectUris: ['http://127.0.0.1/cb', 'com.example.app:/cb'], requiredScopes: ['openid'] });
  });

  it('principal sign-in set without --redirect-uri is a usage error', async () => {
    const result = await runCli(['principal', 'sign-in', 'set', 'p-1', '--tenant', 'default'], dataDir());
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--redirect-uri/);
  });

  it('consent grant (admin consent for every user) and revoke', async () => {
    server.routes.set('POST /admin/v1/tenants/default/consents', { status: 201, body: { id: 'c-1', tenantId: 't', user: null, client: 'p-1', resource: 'api://x', scopes: ['a'], grantedBy: 'admin', createdAt: 'x', updatedAt: 'x', expiresAt: 'x' } });
    let result = await runCli(['consent', 'grant', '--client', 'p-1', '--resource', 'api://x', '--scope', 'a', '--scope', 'b', '--tenant', 'default'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(last()?.body ?? '{}'), { client: 'p-1', resource: 'api://x', scopes: ['a', 'b'] });
    server.routes.set('DELETE /admin/v1/tenants/default/consents/c-1', { status: 204, body: null });
    result = await runCli(['consent', 'revoke', 'c-1', '--tenant', 'default'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(last()?.method, 'DELETE');
  });
});
