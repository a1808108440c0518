import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addSecret,
  createPrincipal,
  createTenant,
  expectAudit,
  expectError,
  expectStatus,
  jwtPayload,
  startAdmin,
  walkPages,
  type Admin,
  type GrantView,
  type Page,
  type PrincipalView,
  type ResourceView,
  type TenantView,
} from './helpers.js';
import { createBlueprint } from '../agents/helpers.js';

const role = (name: string) => ({ name, description: `may ${name}` });

describe('admin API: grants', () => {
  let a: Admin;
  let tenant: TenantView;
  let path: string;
  let orders: ResourceView;
  let billing: ResourceView;
  let service: PrincipalView;
  const post = (body: unknown) => a.call<GrantView>('POST', path, body);

  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
    path = `/tenants/${tenant.name}/grants`;
    const resource = async (identifier: string, roles: string[]) =>
      expectStatus(await a.call<ResourceView>('POST', `/tenants/${tenant.name}/resources`, { identifier, displayName: identifier, roles: roles.map(role) }), 201);
    orders = await resource('api://orders', ['orders.read', 'orders.write']);
    billing = await resource('https://billing.example/api', ['invoices.read']);
    service = await createPrincipal(a, tenant.name, { kind: 'service' });
  });
  after(() => a.close());

  it('a grant by resource identifier is created (201) with the identifier in its view, and grant.added is audited', async () => {
    const g = expectStatus(await post({ principal: service.id, resource: 'api://orders', role: 'orders.read' }), 201);
    assert.equal(g.principal, service.id);
    assert.equal(g.resource, orders.id);
    assert.equal(g.resourceIdentifier, 'api://orders');
    assert.equal(g.role, 'orders.read');
    assert.equal(g.tenantId, tenant.id);
    await expectAudit(a, tenant.id, 'grant.added', g.id);
  });

  it('a grant by resource id works the same way', async () => {
    const g = expectStatus(await post({ principal: service.id, resource: billing.id, role: 'invoices.read' }), 201);
    assert.equal(g.resourceIdentifier, billing.identifier);
  });

  it('the granted role appears in the principal\'s client_credentials token', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    const secret = await addSecret(a, tenant.name, p.id);
    expectStatus(await post({ principal: p.id, resource: orders.identifier, role: 'orders.write' }), 201);
    const token = await a.s.tokenFor(tenant.name, p.id, secret, 'api://orders/.default');
    const claims = jwtPayload(token);
    assert.equal(claims.aud, 'api://orders');
    assert.deepEqual(claims.roles, ['orders.write']);
  });

  it('the same grant twice is 409 conflict', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    expectStatus(await post({ principal: p.id, resource: orders.id, role: 'orders.read' }), 201);
    expectError(await post({ principal: p.id, resource: 'api://orders', role: 'orders.read' }), 409, 'conflict');
  });

  it('a role the resource does not offer is 400 invalid_request', async () => {
    expectError(await post({ principal: service.id, resource: orders.id, role: 'orders.delete' }), 400, 'invalid_request');
    expectError(await post({ principal: service.id, resource: 'urn:signet:admin', role: 'install.admin' }), 400, 'invalid_request');
  });

  it('a user cannot hold application roles: 400 invalid_request', async () => {
    const user = await createPrincipal(a, tenant.name, { kind: 'user' });
    expectError(await post({ principal: user.id, resource: orders.id, role: 'orders.read' }), 400, 'invalid_request');
  });

  it('managed identities and agents may hold roles', async () => {
    const managed = await createPrincipal(a, tenant.name, { kind: 'managed' });
    expectStatus(await post({ principal: managed.id, resource: orders.id, role: 'orders.read' }), 201);
    const user = await createPrincipal(a, tenant.name, { kind: 'user' });
    const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource: orders.id, roles: ['orders.read'] }] });
    const agent = await createPrincipal(a, tenant.name, { kind: 'agent', blueprint: blueprint.id, sponsors: [user.id] });
    expectStatus(await post({ principal: agent.id, resource: orders.id, role: 'orders.read' }), 201);
  });

  it('an agent cannot be granted beyond its blueprint: 400 exceeds_blueprint, nothing stored', async () => {
    const user = await createPrincipal(a, tenant.name, { kind: 'user' });
    const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource: orders.id, roles: ['orders.read'] }] });
    const agent = await createPrincipal(a, tenant.name, { kind: 'agent', blueprint: blueprint.id, sponsors: [user.id] });
    expectError(await post({ principal: agent.id, resource: orders.id, role: 'orders.write' }), 400, 'exceeds_blueprint');
    const page = expectStatus(await a.call<{ items: unknown[] }>('GET', `/tenants/${tenant.name}/grants?principal=${agent.id}`), 200);
    assert.equal(page.items.length, 0);
  });

  it('an unknown principal or resource is 404 not_found; a deleted principal is 409 conflict', async () => {
    expectError(await post({ principal: '00000000-0000-7000-8000-000000000000', resource: orders.id, role: 'orders.read' }), 404, 'not_found');
    expectError(await post({ principal: service.id, resource: 'api://nothing', role: 'orders.read' }), 404, 'not_found');
    const other = await createTenant(a);
    const foreign = await createPrincipal(a, other.name, { kind: 'service' });
    expectError(await post({ principal: foreign.id, resource: orders.id, role: 'orders.read' }), 404, 'not_found');
    const gone = await createPrincipal(a, tenant.name, { kind: 'service' });
    assert.equal((await a.call('DELETE', `/tenants/${tenant.name}/principals/${gone.id}`)).status, 204);
    expectError(await post({ principal: gone.id, resource: orders.id, role: 'orders.read' }), 409, 'conflict');
  });

  it('unknown fields, missing fields and wrong types are 400 invalid_request', async () => {
    expectError(await post({ principal: service.id, resource: orders.id, role: 'orders.read', expires: 1 }), 400, 'invalid_request');
    expectError(await post({ principal: service.id, resource: orders.id }), 400, 'invalid_request');
    expectError(await post({ principal: service.id, resource: orders.id, role: ['orders.read'] }), 400, 'invalid_request');
    expectError(await post({ principal: service.id, resource: orders.id, role: '' }), 400, 'invalid_request');
  });

  it('GET returns a grant with its resource identifier; unknown ids are 404 not_found', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    const g = expectStatus(await post({ principal: p.id, resource: billing.identifier, role: 'invoices.read' }), 201);
    assert.deepEqual(expectStatus(await a.call<GrantView>('GET', `${path}/${g.id}`), 200), g);
    expectError(await a.call('GET', `${path}/00000000-0000-7000-8000-000000000000`), 404, 'not_found');
    const other = await createTenant(a);
    expectError(await a.call('GET', `/tenants/${other.name}/grants/${g.id}`), 404, 'not_found');
  });

  it('the list filters by principal and by resource identifier, with identifiers filled in', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    const g1 = expectStatus(await post({ principal: p.id, resource: orders.id, role: 'orders.read' }), 201);
    const g2 = expectStatus(await post({ principal: p.id, resource: billing.id, role: 'invoices.read' }), 201);
    const mine = expectStatus(await a.call<Page<GrantView>>('GET', `${path}?principal=${p.id}`), 200);
    assert.deepEqual(mine.items, [g1, g2]);
    const onBilling = expectStatus(await a.call<Page<GrantView>>('GET', `${path}?principal=${p.id}&resource=${encodeURIComponent(billing.identifier)}`), 200);
    assert.deepEqual(onBilling.items, [g2]);
    const byId = expectStatus(await a.call<Page<GrantView>>('GET', `${path}?resource=${billing.id}&limit=500`), 200);
    assert.ok(byId.items.every((g) => g.resource === billing.id && g.resourceIdentifier === billing.identifier));
    expectError(await a.call('GET', `${path}?resource=${encodeURIComponent('api://nothing')}`), 404, 'not_found');
    expectError(await a.call('GET', `${path}?role=orders.read`), 400, 'invalid_request');
    expectError(await a.call('GET', `${path}?cursor=bad`), 400, 'invalid_request');
  });

  it('pagination walks every grant exactly once', async () => {
    const all = expectStatus(await a.call<Page<GrantView>>('GET', `${path}?limit=500`), 200);
    assert.ok(all.items.length >= 8);
    const { items } = await walkPages<GrantView>(a, path, 3);
    assert.deepEqual(items, all.items);
    assert.ok(items.every((g) => g.resourceIdentifier === (g.resource === orders.id ? orders.identifier : g.resource === billing.id ? billing.identifier : 'urn:signet:admin')));
  });

  it('DELETE removes a grant (204) and audits grant.removed; again is 404 not_found', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    const g = expectStatus(await post({ principal: p.id, resource: orders.id, role: 'orders.write' }), 201);
    assert.equal((await a.call('DELETE', `${path}/${g.id}`)).status, 204);
    expectError(await a.call('GET', `${path}/${g.id}`), 404, 'not_found');
    await expectAudit(a, tenant.id, 'grant.removed', g.id);
    expectError(await a.call('DELETE', `${path}/${g.id}`), 404, 'not_found');
  });
});
