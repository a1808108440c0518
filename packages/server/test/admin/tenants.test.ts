import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, createTenant, expectAudit, expectError, expectStatus, startAdmin, uniqueName, walkPages, type Admin, type Page, type TenantView } from './helpers.js';

describe('admin API: tenants', () => {
  let a: Admin;
  before(async () => {
    a = await startAdmin();
  });
  after(() => a.close());

  it('an install admin creates a tenant with default settings, its issuer, and a tenant.created audit event', async () => {
    const name = uniqueName();
    const tenant = expectStatus(await a.call<TenantView>('POST', '/tenants', { name, displayName: 'Acme' }), 201);
    assert.equal(tenant.name, name);
    assert.equal(tenant.displayName, 'Acme');
    assert.equal(tenant.status, 'active');
    assert.equal(tenant.issuer, `${a.s.url}/${name}`);
    assert.deepEqual(tenant.settings, { accessTokenTtlSeconds: null, allowSecrets: true, secretDefaultLifetimeDays: 90, secretMaxLifetimeDays: 365, auditRetentionDays: 90, requireMfa: false, sessionIdleSeconds: 1800, sessionLifetimeSeconds: 43200, refreshTokenLifetimeSeconds: 2_592_000, refreshTokenIdleSeconds: 604_800, consentLifetimeDays: 90, dynamicClientRegistration: false });
    await expectAudit(a, tenant.id, 'tenant.created', tenant.id);
  });

  it('a new tenant has the built-in admin resource without install.admin, and signing keys', async () => {
    const tenant = await createTenant(a);
    const admin = expectStatus(await a.call<{ roles: { name: string }[]; builtin: boolean }>('GET', `/tenants/${tenant.name}/resources/urn%3Asignet%3Aadmin`), 200);
    assert.equal(admin.builtin, true);
    assert.deepEqual(admin.roles.map((r) => r.name).sort(), ['audit.reader', 'tenant.admin', 'tenant.reader']);
    const keys = expectStatus(await a.call<{ items: { status: string }[] }>('GET', `/tenants/${tenant.name}/keys`), 200);
    assert.deepEqual(keys.items.map((k) => k.status).sort(), ['active', 'next']);
  });

  it('a duplicate tenant name is 409 conflict and writes no audit event', async () => {
    const tenant = await createTenant(a);
    const before = (await auditEvents(a, tenant.id)).length;
    expectError(await a.call('POST', '/tenants', { name: tenant.name }), 409, 'conflict');
    assert.equal((await auditEvents(a, tenant.id)).length, before);
  });

  for (const name of ['Upper', '-leading', 'trailing-', 'under_score', 'dot.ted', 'a'.repeat(64), '', 'sp ace', 'é']) {
    it(`an invalid tenant name ${JSON.stringify(name)} is 400 invalid_request`, async () => {
      expectError(await a.call('POST', '/tenants', { name }), 400, 'invalid_request');
    });
  }

  for (const name of ['admin', 'metrics', 'healthz', 'well-known', 'oauth2']) {
    it(`the reserved tenant name "${name}" is 400 invalid_request`, async () => {
      expectError(await a.call('POST', '/tenants', { name }), 400, 'invalid_request');
    });
  }

  it('an unknown body field is 400 invalid_request, at the top level and inside settings', async () => {
    expectError(await a.call('POST', '/tenants', { name: uniqueName(), colour: 'red' }), 400, 'invalid_request');
    expectError(await a.call('POST', '/tenants', { name: uniqueName(), settings: { allowSecret: false } }), 400, 'invalid_request');
  });

  it('a wrong JSON type is 400 invalid_request (no coercion of bodies)', async () => {
    expectError(await a.call('POST', '/tenants', { name: 42 }), 400, 'invalid_request');
    expectError(await a.call('POST', '/tenants', { name: uniqueName(), settings: { allowSecrets: 'false' } }), 400, 'invalid_request');
    expectError(await a.call('POST', '/tenants', { name: uniqueName(), settings: { secretMaxLifetimeDays: '30' } }), 400, 'invalid_request');
  });

  it('a default secret lifetime above the maximum is 400 invalid_request', async () => {
    expectError(await a.call('POST', '/tenants', { name: uniqueName(), settings: { secretDefaultLifetimeDays: 30, secretMaxLifetimeDays: 10 } }), 400, 'invalid_request');
  });

  it('a tenant is found by name and by id; an unknown one is 404 not_found', async () => {
    const tenant = await createTenant(a);
    assert.equal(expectStatus(await a.call<TenantView>('GET', `/tenants/${tenant.name}`), 200).id, tenant.id);
    assert.equal(expectStatus(await a.call<TenantView>('GET', `/tenants/${tenant.id}`), 200).name, tenant.name);
    expectError(await a.call('GET', '/tenants/no-such-tenant'), 404, 'not_found');
  });

  it('PATCH changes display name and settings and writes tenant.updated', async () => {
    const tenant = await createTenant(a);
    const updated = expectStatus(await a.call<TenantView>('PATCH', `/tenants/${tenant.name}`, { displayName: null, settings: { allowSecrets: false, secretMaxLifetimeDays: 30, secretDefaultLifetimeDays: 7 } }), 200);
    assert.equal(updated.displayName, null);
    assert.deepEqual(updated.settings, { accessTokenTtlSeconds: null, allowSecrets: false, secretDefaultLifetimeDays: 7, secretMaxLifetimeDays: 30, auditRetentionDays: 90, requireMfa: false, sessionIdleSeconds: 1800, sessionLifetimeSeconds: 43200, refreshTokenLifetimeSeconds: 2_592_000, refreshTokenIdleSeconds: 604_800, consentLifetimeDays: 90, dynamicClientRegistration: false });
    await expectAudit(a, tenant.id, 'tenant.updated', tenant.id);
    expectError(await a.call('PATCH', `/tenants/${tenant.name}`, { name: 'renamed' }), 400, 'invalid_request');
    expectError(await a.call('PATCH', '/tenants/no-such-tenant', { displayName: 'x' }), 404, 'not_found');
  });

  it('an access-token lifetime above the install cap is 400 invalid_request', async () => {
    const tenant = await createTenant(a);
    expectError(await a.call('PATCH', `/tenants/${tenant.name}`, { settings: { accessTokenTtlSeconds: 86_400 } }), 400, 'invalid_request');
  });

  it('disable and enable change the status and are audited', async () => {
    const tenant = await createTenant(a);
    assert.equal(expectStatus(await a.call<TenantView>('POST', `/tenants/${tenant.name}/disable`), 200).status, 'disabled');
    await expectAudit(a, tenant.id, 'tenant.disabled', tenant.id);
    assert.equal(expectStatus(await a.call<TenantView>('POST', `/tenants/${tenant.name}/enable`), 200).status, 'active');
    await expectAudit(a, tenant.id, 'tenant.enabled', tenant.id);
  });

  it('disabling the home "default" tenant is 409 conflict', async () => {
    expectError(await a.call('POST', '/tenants/default/disable'), 409, 'conflict');
    assert.equal(expectStatus(await a.call<TenantView>('GET', '/tenants/default'), 200).status, 'active');
  });

  it('pagination walks every tenant exactly once', async () => {
    for (let i = 0; i < 5; i++) await createTenant(a);
    const all = expectStatus(await a.call<Page<TenantView>>('GET', '/tenants?limit=500'), 200);
    assert.equal(all.nextCursor, null);
    const { items, pages } = await walkPages<TenantView>(a, '/tenants', 2);
    assert.deepEqual(items.map((t) => t.id), all.items.map((t) => t.id));
    assert.equal(new Set(items.map((t) => t.id)).size, items.length);
    assert.ok(pages >= 3);
  });

  it('a malformed cursor or limit is 400 invalid_request', async () => {
    expectError(await a.call('GET', '/tenants?cursor=not-a-cursor'), 400, 'invalid_request');
    expectError(await a.call('GET', `/tenants?cursor=${Buffer.from('../../etc').toString('base64url')}`), 400, 'invalid_request');
    expectError(await a.call('GET', '/tenants?limit=0'), 400, 'invalid_request');
    expectError(await a.call('GET', '/tenants?limit=501'), 400, 'invalid_request');
    expectError(await a.call('GET', '/tenants?limit=ten'), 400, 'invalid_request');
    expectError(await a.call('GET', '/tenants?colour=red'), 400, 'invalid_request');
  });
});
