import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addSecret,
  adminClient,
  auditEvents,
  createPrincipal,
  createTenant,
  expectError,
  expectStatus,
  grant,
  jwtPayload,
  startAdmin,
  type Admin,
  type ResourceView,
  type TenantView,
} from './helpers.js';

describe('admin API: authentication and authorisation', () => {
  let a: Admin;
  let tenantA: TenantView;
  let tenantB: TenantView;
  before(async () => {
    a = await startAdmin();
    tenantA = await createTenant(a);
    tenantB = await createTenant(a);
  });
  after(() => a.close());

  it('no token is 401 unauthorized with a Bearer WWW-Authenticate challenge', async () => {
    const res = await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, null);
    expectError(res, 401, 'unauthorized');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="signet-admin"');
  });

  it('a garbage token is 401 unauthorized with error="invalid_token"', async () => {
    const res = await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, 'not.a.jwt');
    expectError(res, 401, 'unauthorized');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="signet-admin", error="invalid_token"/);
  });

  it('a Basic authorization header is 401 unauthorized', async () => {
    const res = await fetch(`${a.s.adminApi}/tenants`, { headers: { authorization: `Basic ${Buffer.from(`${a.s.admin.client_id}:${a.s.admin.client_secret}`).toString('base64')}` } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
  });

  it('a token with a tampered signature is 401 unauthorized', async () => {
    const [header, payload, signature] = a.token.split('.');
    const flipped = `${signature?.[0] === 'A' ? 'B' : 'A'}${signature?.slice(1)}`;
    expectError(await a.call('GET', '/tenants', undefined, `${header}.${payload}.${flipped}`), 401, 'unauthorized');
  });

  it('a token for another resource (audience) is 401 unauthorized', async () => {
    const api = expectStatus(await a.call<ResourceView>('POST', `/tenants/${tenantA.name}/resources`, { identifier: 'api://orders', displayName: 'Orders', roles: [{ name: 'orders.read', description: 'r' }] }), 201);
    const p = await createPrincipal(a, tenantA.name, { kind: 'service' });
    const secret = await addSecret(a, tenantA.name, p.id);
    await grant(a, tenantA.name, p.id, api.id, 'orders.read');
    await grant(a, tenantA.name, p.id, 'urn:signet:admin', 'tenant.admin');
    const ordersToken = await a.s.tokenFor(tenantA.name, p.id, secret, 'api://orders/.default');
    expectError(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, ordersToken), 401, 'unauthorized');
  });

  it('tenant B\'s admin on tenant A is 403 forbidden, for reads and writes alike', async () => {
    const token = await (await adminClient(a, tenantB.name, ['tenant.admin'])).token();
    expectStatus(await a.call('GET', `/tenants/${tenantB.name}/principals`, undefined, token), 200);
    expectError(await a.call('GET', `/tenants/${tenantA.name}`, undefined, token), 403, 'forbidden');
    expectError(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, token), 403, 'forbidden');
    expectError(await a.call('POST', `/tenants/${tenantA.name}/principals`, { kind: 'service', displayName: 'x' }, token), 403, 'forbidden');
    expectError(await a.call('GET', `/tenants/${tenantA.name}/resources`, undefined, token), 403, 'forbidden');
    expectError(await a.call('GET', `/tenants/${tenantA.name}/grants`, undefined, token), 403, 'forbidden');
    expectError(await a.call('GET', '/tenants/default/principals', undefined, token), 403, 'forbidden');
  });

  it('a tenant.reader may GET but every write is 403 forbidden', async () => {
    const token = await (await adminClient(a, tenantA.name, ['tenant.reader'])).token();
    const base = `/tenants/${tenantA.name}`;
    expectStatus(await a.call('GET', base, undefined, token), 200);
    expectStatus(await a.call('GET', `${base}/principals`, undefined, token), 200);
    expectStatus(await a.call('GET', `${base}/resources`, undefined, token), 200);
    expectStatus(await a.call('GET', `${base}/grants`, undefined, token), 200);
    const target = await createPrincipal(a, tenantA.name, { kind: 'service' });
    expectStatus(await a.call('GET', `${base}/principals/${target.id}/credentials`, undefined, token), 200);
    expectError(await a.call('POST', `${base}/principals`, { kind: 'service', displayName: 'x' }, token), 403, 'forbidden');
    expectError(await a.call('PATCH', `${base}/principals/${target.id}`, { displayName: 'x' }, token), 403, 'forbidden');
    expectError(await a.call('POST', `${base}/principals/${target.id}/disable`, undefined, token), 403, 'forbidden');
    expectError(await a.call('POST', `${base}/principals/${target.id}/credentials`, { type: 'secret' }, token), 403, 'forbidden');
    expectError(await a.call('POST', `${base}/resources`, { identifier: 'api://r', displayName: 'r' }, token), 403, 'forbidden');
    expectError(await a.call('POST', `${base}/grants`, { principal: target.id, resource: 'urn:signet:admin', role: 'tenant.admin' }, token), 403, 'forbidden');
    expectError(await a.call('PATCH', base, { displayName: 'x' }, token), 403, 'forbidden');
  });

  it('a tenant admin cannot create, list, disable or enable tenants: 403 forbidden', async () => {
    const token = await (await adminClient(a, tenantA.name, ['tenant.admin'])).token();
    expectError(await a.call('POST', '/tenants', { name: 'sneaky' }, token), 403, 'forbidden');
    expectError(await a.call('GET', '/tenants', undefined, token), 403, 'forbidden');
    expectError(await a.call('POST', `/tenants/${tenantA.name}/disable`, undefined, token), 403, 'forbidden');
    expectError(await a.call('POST', `/tenants/${tenantA.name}/enable`, undefined, token), 403, 'forbidden');
    expectStatus(await a.call('PATCH', `/tenants/${tenantA.name}`, { displayName: 'Mine' }, token), 200);
  });

  it('a tenant admin of the home tenant cannot grant or revoke install.admin: 403 forbidden', async () => {
    const client = await adminClient(a, 'default', ['tenant.admin']);
    const token = await client.token();
    const target = await createPrincipal(a, 'default', { kind: 'service' });
    expectError(await a.call('POST', '/tenants/default/grants', { principal: target.id, resource: 'urn:signet:admin', role: 'install.admin' }, token), 403, 'forbidden');
    expectError(await a.call('POST', '/tenants/default/grants', { principal: client.id, resource: 'urn:signet:admin', role: 'install.admin' }, token), 403, 'forbidden');
    expectError(await a.call('POST', '/tenants', { name: 'sneaky' }, token), 403, 'forbidden');
    const installGrant = expectStatus(await a.call<{ id: string }>('POST', '/tenants/default/grants', { principal: target.id, resource: 'urn:signet:admin', role: 'install.admin' }), 201);
    expectError(await a.call('DELETE', `/tenants/default/grants/${installGrant.id}`, undefined, token), 403, 'forbidden');
    assert.equal((await a.call('DELETE', `/tenants/default/grants/${installGrant.id}`)).status, 204);
  });

  it('an install admin manages every tenant', async () => {
    expectStatus(await a.call('GET', `/tenants/${tenantA.name}/principals`), 200);
    expectStatus(await a.call('POST', `/tenants/${tenantB.name}/principals`, { kind: 'service', displayName: 'x' }), 201);
  });

  it('after its principal is disabled, a previously issued admin token is 401 unauthorized', async () => {
    const client = await adminClient(a, tenantA.name, ['tenant.admin']);
    const token = await client.token();
    expectStatus(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, token), 200);
    expectStatus(await a.call('POST', `/tenants/${tenantA.name}/principals/${client.id}/disable`), 200);
    const res = await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, token);
    expectError(res, 401, 'unauthorized');
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    expectStatus(await a.call('POST', `/tenants/${tenantA.name}/principals/${client.id}/enable`), 200);
    expectStatus(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, token), 200);
  });

  it('after its principal is deleted, a previously issued admin token is 401 unauthorized', async () => {
    const client = await adminClient(a, tenantA.name, ['tenant.admin']);
    const token = await client.token();
    assert.equal((await a.call('DELETE', `/tenants/${tenantA.name}/principals/${client.id}`)).status, 204);
    expectError(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, token), 401, 'unauthorized');
  });

  it('after its tenant is disabled, the tenant\'s admin tokens are 401 unauthorized', async () => {
    const tenant = await createTenant(a);
    const token = await (await adminClient(a, tenant.name, ['tenant.admin'])).token();
    expectStatus(await a.call('GET', `/tenants/${tenant.name}/principals`, undefined, token), 200);
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/disable`), 200);
    expectError(await a.call('GET', `/tenants/${tenant.name}/principals`, undefined, token), 401, 'unauthorized');
  });

  it('a tenant admin cannot disable itself: 409 conflict', async () => {
    const client = await adminClient(a, tenantA.name, ['tenant.admin']);
    const token = await client.token();
    expectError(await a.call('POST', `/tenants/${tenantA.name}/principals/${client.id}/disable`, undefined, token), 409, 'conflict');
  });

  it('audit events name the acting principal and its token', async () => {
    const client = await adminClient(a, tenantA.name, ['tenant.admin']);
    const token = await client.token();
    const p = expectStatus(await a.call<{ id: string }>('POST', `/tenants/${tenantA.name}/principals`, { kind: 'service', displayName: 'x' }, token), 201);
    const event = (await auditEvents(a, tenantA.id)).find((e) => e.type === 'principal.created' && e.targetId === p.id);
    assert.equal(event?.actorId, client.id);
    assert.equal(event?.jti, jwtPayload(token).jti);
  });
});
