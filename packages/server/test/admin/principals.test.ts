import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addSecret,
  createPrincipal,
  createTenant,
  expectAudit,
  expectError,
  expectStatus,
  startAdmin,
  walkPages,
  type Admin,
  type CredentialView,
  type Page,
  type PrincipalView,
  type TenantView,
} from './helpers.js';
import { createBlueprint } from '../agents/helpers.js';

describe('admin API: principals', () => {
  let a: Admin;
  let tenant: TenantView;
  let path: string;
  let sponsor: PrincipalView;
  let blueprint: string;
  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
    path = `/tenants/${tenant.name}/principals`;
    sponsor = await createPrincipal(a, tenant.name, { kind: 'user', displayName: 'Ada' });
    blueprint = (await createBlueprint(a, tenant.name)).name;
  });
  after(() => a.close());

  for (const kind of ['user', 'service', 'managed'] as const) {
    it(`a ${kind} is created (201) and principal.created is audited`, async () => {
      const p = expectStatus(await a.call<PrincipalView>('POST', path, { kind, displayName: `a ${kind}`, description: 'd' }), 201);
      assert.equal(p.kind, kind);
      assert.equal(p.status, 'active');
      assert.equal(p.tenantId, tenant.id);
      assert.deepEqual(p.sponsors, []);
      assert.equal(p.deletedAt, null);
      await expectAudit(a, tenant.id, 'principal.created', p.id);
    });
  }

  it('an agent with an active user sponsor of the same tenant is created', async () => {
    const agent = expectStatus(await a.call<PrincipalView>('POST', path, { kind: 'agent', displayName: 'helper', blueprint, sponsors: [sponsor.id] }), 201);
    assert.deepEqual(agent.sponsors, [sponsor.id]);
  });

  it('an agent without sponsors is 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'orphan', blueprint }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'orphan', blueprint, sponsors: [] }), 400, 'invalid_request');
  });

  it('an agent whose sponsor is a service is 400 invalid_request', async () => {
    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', blueprint, sponsors: [service.id] }), 400, 'invalid_request');
  });

  it('an agent whose sponsor is disabled is 400 invalid_request', async () => {
    const user = await createPrincipal(a, tenant.name, { kind: 'user' });
    expectStatus(await a.call('POST', `${path}/${user.id}/disable`), 200);
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', blueprint, sponsors: [user.id] }), 400, 'invalid_request');
  });

  it('an agent whose sponsor is a user of another tenant is 400 invalid_request', async () => {
    const other = await createTenant(a);
    const foreign = await createPrincipal(a, other.name, { kind: 'user' });
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', blueprint, sponsors: [foreign.id] }), 400, 'invalid_request');
  });

  it('an agent whose sponsor does not exist is 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', blueprint, sponsors: ['00000000-0000-7000-8000-000000000000'] }), 400, 'invalid_request');
  });

  it('sponsors on a kind that has none is 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { kind: 'service', displayName: 's', sponsors: [sponsor.id] }), 400, 'invalid_request');
  });

  it('an agent\'s sponsors can be replaced, but not emptied or given a service', async () => {
    const agent = await createPrincipal(a, tenant.name, { kind: 'agent', blueprint, sponsors: [sponsor.id] });
    const second = await createPrincipal(a, tenant.name, { kind: 'user' });
    const updated = expectStatus(await a.call<PrincipalView>('PATCH', `${path}/${agent.id}`, { sponsors: [second.id] }), 200);
    assert.deepEqual(updated.sponsors, [second.id]);
    expectError(await a.call('PATCH', `${path}/${agent.id}`, { sponsors: [] }), 400, 'invalid_request');
    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    expectError(await a.call('PATCH', `${path}/${agent.id}`, { sponsors: [service.id] }), 400, 'invalid_request');
    assert.deepEqual(expectStatus(await a.call<PrincipalView>('GET', `${path}/${agent.id}`), 200).sponsors, [second.id]);
  });

  it('unknown fields, unknown kinds and wrong types are 400 invalid_request', async () => {
    expectError(await a.call('POST', path, { kind: 'service', displayName: 's', admin: true }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'robot', displayName: 's' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'service', displayName: 7 }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'service', displayName: '' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'service' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, [{ kind: 'service', displayName: 's' }]), 400, 'invalid_request');
  });

  it('GET returns a principal; an unknown id or one of another tenant is 404 not_found', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    assert.equal(expectStatus(await a.call<PrincipalView>('GET', `${path}/${p.id}`), 200).id, p.id);
    expectError(await a.call('GET', `${path}/00000000-0000-7000-8000-000000000000`), 404, 'not_found');
    const other = await createTenant(a);
    expectError(await a.call('GET', `/tenants/${other.name}/principals/${p.id}`), 404, 'not_found');
    expectError(await a.call('GET', `/tenants/no-such-tenant/principals/${p.id}`), 404, 'not_found');
  });

  it('PATCH updates display name and description and writes principal.updated; an empty patch is 400', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', description: 'old' });
    const updated = expectStatus(await a.call<PrincipalView>('PATCH', `${path}/${p.id}`, { displayName: 'renamed', description: null }), 200);
    assert.equal(updated.displayName, 'renamed');
    assert.equal(updated.description, null);
    await expectAudit(a, tenant.id, 'principal.updated', p.id);
    expectError(await a.call('PATCH', `${path}/${p.id}`, {}), 400, 'invalid_request');
    expectError(await a.call('PATCH', `${path}/${p.id}`, { kind: 'user' }), 400, 'invalid_request');
  });

  it('disable and enable are audited; disabling twice is idempotent', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    assert.equal(expectStatus(await a.call<PrincipalView>('POST', `${path}/${p.id}/disable`), 200).status, 'disabled');
    assert.equal(expectStatus(await a.call<PrincipalView>('POST', `${path}/${p.id}/disable`), 200).status, 'disabled');
    await expectAudit(a, tenant.id, 'principal.disabled', p.id);
    assert.equal(expectStatus(await a.call<PrincipalView>('POST', `${path}/${p.id}/enable`), 200).status, 'active');
    await expectAudit(a, tenant.id, 'principal.enabled', p.id);
  });

  it('a principal disabling or deleting itself is 409 conflict', async () => {
    const self = a.s.admin.client_id;
    expectError(await a.call('POST', `/tenants/default/principals/${self}/disable`), 409, 'conflict');
    expectError(await a.call('DELETE', `/tenants/default/principals/${self}`), 409, 'conflict');
    assert.equal(expectStatus(await a.call<PrincipalView>('GET', `/tenants/default/principals/${self}`), 200).status, 'active');
  });

  it('delete is soft: GET shows it deleted, lists hide it unless status=deleted, its credentials are gone', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service' });
    await addSecret(a, tenant.name, p.id);
    const credentials = expectStatus(await a.call<{ items: CredentialView[] }>('GET', `${path}/${p.id}/credentials`), 200).items;
    assert.equal(credentials.length, 1);

    assert.equal((await a.call('DELETE', `${path}/${p.id}`)).status, 204);
    const deleted = expectStatus(await a.call<PrincipalView>('GET', `${path}/${p.id}`), 200);
    assert.equal(deleted.status, 'deleted');
    assert.ok(deleted.deletedAt);
    const listed = expectStatus(await a.call<Page<PrincipalView>>('GET', `${path}?limit=500`), 200);
    assert.ok(!listed.items.some((x) => x.id === p.id));
    const deletedList = expectStatus(await a.call<Page<PrincipalView>>('GET', `${path}?status=deleted&limit=500`), 200);
    assert.ok(deletedList.items.some((x) => x.id === p.id));
    assert.deepEqual(expectStatus(await a.call<{ items: CredentialView[] }>('GET', `${path}/${p.id}/credentials`), 200).items, []);

    await expectAudit(a, tenant.id, 'principal.deleted', p.id);
    await expectAudit(a, tenant.id, 'credential.removed', credentials[0]?.id ?? '');
    assert.equal((await a.call('DELETE', `${path}/${p.id}`)).status, 204, 'deleting again is idempotent');
    expectError(await a.call('PATCH', `${path}/${p.id}`, { displayName: 'x' }), 409, 'conflict');
    expectError(await a.call('POST', `${path}/${p.id}/enable`), 409, 'conflict');
    expectError(await a.call('DELETE', `${path}/00000000-0000-7000-8000-000000000000`), 404, 'not_found');
  });

  it('list filters by kind and status; an unknown filter value is 400 invalid_request', async () => {
    const agents = expectStatus(await a.call<Page<PrincipalView>>('GET', `${path}?kind=agent&limit=500`), 200);
    assert.ok(agents.items.length > 0);
    assert.ok(agents.items.every((p) => p.kind === 'agent'));
    const disabled = expectStatus(await a.call<Page<PrincipalView>>('GET', `${path}?status=disabled&limit=500`), 200);
    assert.ok(disabled.items.every((p) => p.status === 'disabled'));
    expectError(await a.call('GET', `${path}?kind=robot`), 400, 'invalid_request');
    expectError(await a.call('GET', `${path}?status=gone`), 400, 'invalid_request');
    expectError(await a.call('GET', `${path}?cursor=bad`), 400, 'invalid_request');
  });

  it('pagination walks every principal exactly once', async () => {
    const fresh = await createTenant(a);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createPrincipal(a, fresh.name, { kind: 'service', displayName: `s${i}` })).id);
    const { items, pages } = await walkPages<PrincipalView>(a, `/tenants/${fresh.name}/principals`, 3);
    assert.deepEqual(items.map((p) => p.id), ids);
    assert.equal(pages, 3);
  });
});
