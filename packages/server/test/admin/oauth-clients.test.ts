import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBlueprint } from '../agents/helpers.js';
import { createPrincipal, expectAudit, expectError, expectStatus, startAdmin, type Admin } from './helpers.js';

interface View {
  principalId: string;
  clientType: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  requiredScopes: string[];
}

/** Sign-in settings of services and agents: who may have users sign in, and which redirect URIs are allowed. */
describe('admin API: sign-in settings (redirect URIs)', () => {
  let a: Admin;
  let service: string;
  const path = (id: string) => `/tenants/default/principals/${id}/oauth-client`;

  before(async () => {
    a = await startAdmin();
    service = (await createPrincipal(a, 'default', { kind: 'service', displayName: 'web app' })).id;
  });
  after(() => a.close());

  it('sets, reads, replaces and removes the settings, audited as oauth_client.updated / removed', async () => {
    const set = expectStatus(await a.call<View>('PUT', path(service), { clientType: 'confidential', redirectUris: ['https://app.example/cb'], postLogoutRedirectUris: ['https://app.example/'] }), 200);
    assert.deepEqual(set, { ...set, principalId: service, clientType: 'confidential', redirectUris: ['https://app.example/cb'], postLogoutRedirectUris: ['https://app.example/'], requiredScopes: [] });
    assert.deepEqual(expectStatus(await a.call<View>('GET', path(service)), 200).redirectUris, ['https://app.example/cb']);
    const replaced = expectStatus(await a.call<View>('PUT', path(service), { clientType: 'public', redirectUris: ['com.example.app:/cb', 'http://127.0.0.1/cb'], requiredScopes: ['openid'] }), 200);
    assert.equal(replaced.clientType, 'public');
    assert.deepEqual(replaced.postLogoutRedirectUris, []);
    const tenantId = (await a.s.signet.services.tenants.resolve('default')).id;
    await expectAudit(a, tenantId, 'oauth_client.updated', service);
    expectStatus(await a.call('DELETE', path(service)), 204);
    expectError(await a.call('GET', path(service)), 404, 'not_found');
    expectError(await a.call('DELETE', path(service)), 404, 'not_found');
    await expectAudit(a, tenantId, 'oauth_client.removed', service);
  });

  it('refuses redirect URIs RFC 9700 and RFC 8252 forbid', async () => {
    const cases: Array<[string, 'confidential' | 'public']> = [
      ['http://app.example/cb', 'confidential'],
      ['http://localhost/cb', 'public'],
      ['https://app.example/cb#frag', 'confidential'],
      ['https://*.example/cb', 'confidential'],
      ['https://user:pw@app.example/cb', 'confidential'],
      ['com.example.app:/cb', 'confidential'],
      ['myapp:/cb', 'public'],
      ['/relative', 'confidential'],
      ['javascript:alert(1)', 'public'],
    ];
    for (const [uri, clientType] of cases) {
      const res = await a.call('PUT', path(service), { clientType, redirectUris: [uri] });
      expectError(res, 400, 'invalid_request');
      assert.match((res.body as { message: string }).message, /redirect URI/, uri);
    }
    expectError(await a.call('PUT', path(service), { clientType: 'confidential', redirectUris: [] }), 400, 'invalid_request');
    expectError(await a.call('PUT', path(service), { clientType: 'secret', redirectUris: ['https://a.example/'] }), 400, 'invalid_request');
  });

  it('only services and agents can have users sign in (kind rules)', async () => {
    const user = await createPrincipal(a, 'default', { kind: 'user', displayName: 'u' });
    const managed = await createPrincipal(a, 'default', { kind: 'managed', displayName: 'm' });
    for (const id of [user.id, managed.id]) expectError(await a.call('PUT', path(id), { clientType: 'confidential', redirectUris: ['https://a.example/cb'] }), 400, 'invalid_request');
    const blueprint = await createBlueprint(a, 'default', { allowDelegation: true });
    const agent = await createPrincipal(a, 'default', { kind: 'agent', displayName: 'agent', blueprint: blueprint.name, sponsors: [user.id] });
    expectStatus(await a.call('PUT', path(agent.id), { clientType: 'confidential', redirectUris: ['https://a.example/cb'] }), 200);
    expectError(await a.call('PUT', path('0190d7c4-0000-7000-8000-000000000000'), { clientType: 'confidential', redirectUris: ['https://a.example/cb'] }), 404, 'not_found');
  });

  it('a tenant reader can read but not change them', async () => {
    const { adminClient } = await import('./helpers.js');
    const reader = await adminClient(a, 'default', ['tenant.reader']);
    expectStatus(await a.call('PUT', path(service), { clientType: 'confidential', redirectUris: ['https://app.example/cb'] }), 200);
    const token = await reader.token();
    expectStatus(await a.call('GET', path(service), undefined, token), 200);
    expectError(await a.call('PUT', path(service), { clientType: 'confidential', redirectUris: ['https://x.example/cb'] }, token), 403, 'forbidden');
  });
});
