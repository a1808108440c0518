import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  auditEvents,
  createPrincipal,
  createTenant,
  expectAudit,
  expectError,
  expectStatus,
  grant,
  startAdmin,
  walkPages,
  type Admin,
  type GrantView,
  type Page,
  type ResourceView,
  type TenantView,
} from './helpers.js';

const role = (name: string) => ({ name, description: `may ${name}` });

describe('admin API: resources', () => {
  let a: Admin;
  let tenant: TenantView;
  let path: string;
  let n = 0;
  const identifier = () => `api://orders-${++n}`;
  const create = async (body: Record<string, unknown> = {}) =>
    expectStatus(await a.call<ResourceView>('POST', path, { identifier: identifier(), displayName: 'Orders', ...body }), 201);

  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
    path = `/tenants/${tenant.name}/resources`;
  });
  after(() => a.close());

  it('a resource is created (201) with its scopes and roles and resource.created is audited', async () => {
    const id = identifier();
    const r = expectStatus(
      await a.call<ResourceView>('POST', path, { identifier: id, displayName: 'Orders', description: 'd', scopes: [role('orders.read')], roles: [role('orders.write')] }),
      201,
    );
    assert.equal(r.identifier, id);
    assert.equal(r.tenantId, tenant.id);
    assert.equal(r.builtin, false);
    assert.deepEqual(r.scopes, [role('orders.read')]);
    assert.deepEqual(r.roles, [role('orders.write')]);
    await expectAudit(a, tenant.id, 'resource.created', r.id);
  });

  it('a duplicate identifier in one tenant is 409 conflict; another tenant may reuse it', async () => {
    const r = await create();
    expectError(await a.call('POST', path, { identifier: r.identifier, displayName: 'again' }), 409, 'conflict');
    const events = await auditEvents(a, tenant.id);
    assert.equal(events.filter((e) => e.type === 'resource.created' && JSON.stringify(e.data).includes(`"identifier":"${r.identifier}"`)).length, 1);
    const other = await createTenant(a);
    expectStatus(await a.call('POST', `/tenants/${other.name}/resources`, { identifier: r.identifier, displayName: 'Orders' }), 201);
  });

  it('creating another urn:signet:admin is 409 conflict', async () => {
    expectError(await a.call('POST', path, { identifier: 'urn:signet:admin', displayName: 'mine' }), 409, 'conflict');
  });

  for (const bad of ['orders', 'api://has space', 'https://x.example/#frag', '://nothing', '']) {
    it(`the identifier ${JSON.stringify(bad)} is 400 invalid_request (absolute URI, no fragment)`, async () => {
      expectError(await a.call('POST', path, { identifier: bad, displayName: 'x' }), 400, 'invalid_request');
    });
  }

  it('invalid or duplicated permissions are 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', roles: [role('a'), role('a')] }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', scopes: [role('has space')] }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', roles: [{ name: 'a' }] }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', roles: [{ ...role('a'), admin: true }] }), 400, 'invalid_request');
  });

  it('unknown fields and wrong types are 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', builtin: true }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { identifier: identifier(), displayName: 'x', roles: 'orders.read' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { identifier: identifier() }), 400, 'invalid_request');
  });

  it('GET finds a resource by id and by its URL-encoded identifier (%2F in the segment)', async () => {
    const r = await create();
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${r.id}`), 200).identifier, r.identifier);
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${encodeURIComponent(r.identifier)}`), 200).id, r.id);
    const https = await create({ identifier: 'https://orders.example/v1/api?x=1' });
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${encodeURIComponent(https.identifier)}`), 200).id, https.id);
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/urn%3Asignet%3Aadmin`), 200).builtin, true);
  });

  it('an identifier is decoded exactly once: a literal %2F in it survives, and 500 characters fit', async () => {
    const escaped = await create({ identifier: 'https://x.example/a%2Fb' });
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${encodeURIComponent(escaped.identifier)}`), 200).id, escaped.id);
    expectError(await a.call('GET', `${path}/${encodeURIComponent('https://x.example/a/b')}`), 404, 'not_found');
    const long = await create({ identifier: `https://x.example/${'é'.repeat(482)}` });
    assert.equal(long.identifier.length, 500);
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${encodeURIComponent(long.identifier)}`), 200).id, long.id);
  });

  it('an unknown resource is 404 not_found; another tenant\'s resource id is 404 not_found', async () => {
    expectError(await a.call('GET', `${path}/${encodeURIComponent('api://nothing')}`), 404, 'not_found');
    expectError(await a.call('GET', `${path}/00000000-0000-7000-8000-000000000000`), 404, 'not_found');
    const other = await createTenant(a);
    const foreign = expectStatus(await a.call<ResourceView>('POST', `/tenants/${other.name}/resources`, { identifier: 'api://foreign', displayName: 'f' }), 201);
    expectError(await a.call('GET', `${path}/${foreign.id}`), 404, 'not_found');
    expectError(await a.call('PATCH', `${path}/${foreign.id}`, { displayName: 'mine now' }), 404, 'not_found');
    expectError(await a.call('DELETE', `${path}/${foreign.id}`), 404, 'not_found');
  });

  it('PATCH by identifier updates and writes resource.updated; an empty patch is 400', async () => {
    const r = await create({ roles: [role('a')] });
    const updated = expectStatus(await a.call<ResourceView>('PATCH', `${path}/${encodeURIComponent(r.identifier)}`, { displayName: 'Renamed', description: null, roles: [role('a'), role('b')] }), 200);
    assert.equal(updated.displayName, 'Renamed');
    assert.equal(updated.description, null);
    assert.deepEqual(updated.roles.map((x) => x.name), ['a', 'b']);
    assert.equal(updated.identifier, r.identifier);
    await expectAudit(a, tenant.id, 'resource.updated', r.id);
    expectError(await a.call('PATCH', `${path}/${r.id}`, {}), 400, 'invalid_request');
    expectError(await a.call('PATCH', `${path}/${r.id}`, { identifier: 'api://moved' }), 400, 'invalid_request');
  });

  it('changing or deleting the built-in urn:signet:admin resource is 409 conflict', async () => {
    expectError(await a.call('PATCH', `${path}/urn%3Asignet%3Aadmin`, { displayName: 'mine' }), 409, 'conflict');
    expectError(await a.call('PATCH', `${path}/urn%3Asignet%3Aadmin`, { roles: [] }), 409, 'conflict');
    expectError(await a.call('DELETE', `${path}/urn%3Asignet%3Aadmin`), 409, 'conflict');
    expectError(await a.call('DELETE', '/tenants/default/resources/urn%3Asignet%3Aadmin'), 409, 'conflict');
    const admin = expectStatus(await a.call<ResourceView>('GET', `${path}/urn%3Asignet%3Aadmin`), 200);
    assert.deepEqual(admin.roles.map((x) => x.name).sort(), ['audit.reader', 'tenant.admin', 'tenant.reader']);
  });

  it('removing a role that is still granted is 409 conflict; once the grant is gone it succeeds', async () => {
    const r = await create({ roles: [role('keep'), role('drop')] });
    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    const g = await grant(a, tenant.name, service.id, r.identifier, 'drop');
    expectError(await a.call('PATCH', `${path}/${r.id}`, { roles: [role('keep')] }), 409, 'conflict');
    assert.equal(expectStatus(await a.call<ResourceView>('GET', `${path}/${r.id}`), 200).roles.length, 2);
    assert.equal((await a.call('DELETE', `/tenants/${tenant.name}/grants/${g.id}`)).status, 204);
    assert.deepEqual(expectStatus(await a.call<ResourceView>('PATCH', `${path}/${r.id}`, { roles: [role('keep')] }), 200).roles, [role('keep')]);
  });

  it('DELETE removes the resource and its grants (204), auditing resource.deleted and grant.removed', async () => {
    const r = await create({ roles: [role('use')] });
    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    const g = await grant(a, tenant.name, service.id, r.id, 'use');
    assert.equal((await a.call('DELETE', `${path}/${encodeURIComponent(r.identifier)}`)).status, 204);
    expectError(await a.call('GET', `${path}/${r.id}`), 404, 'not_found');
    expectError(await a.call('GET', `/tenants/${tenant.name}/grants/${g.id}`), 404, 'not_found');
    const grants = expectStatus(await a.call<Page<GrantView>>('GET', `/tenants/${tenant.name}/grants?principal=${service.id}`), 200);
    assert.deepEqual(grants.items, []);
    await expectAudit(a, tenant.id, 'resource.deleted', r.id);
    await expectAudit(a, tenant.id, 'grant.removed', g.id);
    expectError(await a.call('DELETE', `${path}/${r.id}`), 404, 'not_found');
  });

  it('pagination walks every resource exactly once, the built-in one included', async () => {
    const fresh = await createTenant(a);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(expectStatus(await a.call<ResourceView>('POST', `/tenants/${fresh.name}/resources`, { identifier: `api://r${i}`, displayName: `r${i}` }), 201).id);
    }
    const { items, pages } = await walkPages<ResourceView>(a, `/tenants/${fresh.name}/resources`, 2);
    assert.equal(items.length, 7);
    assert.equal(new Set(items.map((r) => r.id)).size, 7);
    assert.deepEqual(items.slice(1).map((r) => r.id), ids);
    assert.equal(items[0]?.identifier, 'urn:signet:admin');
    assert.equal(pages, 4);
    expectError(await a.call('GET', `/tenants/${fresh.name}/resources?cursor=bad`), 400, 'invalid_request');
  });
});
