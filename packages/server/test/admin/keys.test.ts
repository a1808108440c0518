import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, auditEvents, createTenant, expectError, expectStatus, startAdmin, type Admin, type TenantView } from './helpers.js';

interface KeyView {
  kid: string;
  alg: string;
  status: 'next' | 'active' | 'retired';
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  expiresAt: string | null;
}

describe('admin API: signing keys', () => {
  let a: Admin;
  let tenant: TenantView;
  const keys = async (name = tenant.name, token?: string) => expectStatus(await a.call<{ items: KeyView[] }>('GET', `/tenants/${name}/keys`, undefined, token), 200).items;

  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
  });
  after(() => a.close());

  it('a tenant has one active and one published next key; the list shows lifecycle only, no key material', async () => {
    const items = await keys();
    assert.deepEqual(items.map((k) => k.status).sort(), ['active', 'next']);
    for (const k of items) {
      assert.deepEqual(Object.keys(k).sort(), ['activatedAt', 'alg', 'createdAt', 'expiresAt', 'kid', 'retiredAt', 'status']);
      assert.equal(k.alg, 'ES256');
    }
    const jwks = (await (await fetch(`${a.s.url}/${tenant.name}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), items.map((k) => k.kid).sort());
  });

  it('rotate activates the next key and retires the active one; a fresh next key is published', async () => {
    const before = await keys();
    const active = before.find((k) => k.status === 'active');
    const next = before.find((k) => k.status === 'next');
    const result = expectStatus(await a.call<{ activated: string; retired: string | null }>('POST', `/tenants/${tenant.name}/keys/rotate`), 200);
    assert.deepEqual(result, { activated: next?.kid, retired: active?.kid });
    const after = await keys();
    const byKid = new Map(after.map((k) => [k.kid, k]));
    assert.equal(byKid.get(result.activated)?.status, 'active');
    assert.equal(byKid.get(result.retired ?? '')?.status, 'retired');
    assert.ok(byKid.get(result.retired ?? '')?.expiresAt, 'a retired key stays published until its tokens expire');
    assert.equal(after.filter((k) => k.status === 'next').length, 1);
    assert.equal(after.length, 3);
    const [event] = (await auditEvents(a, tenant.id)).filter((e) => e.type === 'signing_key.rotated');
    assert.equal(event?.actorId, a.s.admin.client_id);
    assert.equal(event?.targetId, result.activated);
    assert.deepEqual((event?.data.after as { retired: string; reason: string }).retired, result.retired);
    assert.equal((event?.data.after as { reason: string }).reason, 'forced');
  });

  it('a token signed before a rotation still works after it', async () => {
    const client = await adminClient(a, tenant.name, ['tenant.admin']);
    const token = await client.token();
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/keys/rotate`, undefined, token), 200);
    await keys(tenant.name, token);
  });

  it('rotating one tenant leaves the others alone', async () => {
    const other = await createTenant(a);
    const before = await keys(other.name);
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/keys/rotate`), 200);
    assert.deepEqual(await keys(other.name), before);
  });

  it('a tenant.reader may list keys but rotating is 403 forbidden', async () => {
    const reader = await adminClient(a, tenant.name, ['tenant.reader']);
    const token = await reader.token();
    await keys(tenant.name, token);
    expectError(await a.call('POST', `/tenants/${tenant.name}/keys/rotate`, undefined, token), 403, 'forbidden');
  });

  it('another tenant\'s admin may neither list nor rotate: 403 forbidden', async () => {
    const other = await createTenant(a);
    const token = await (await adminClient(a, other.name, ['tenant.admin'])).token();
    expectError(await a.call('GET', `/tenants/${tenant.name}/keys`, undefined, token), 403, 'forbidden');
    expectError(await a.call('POST', `/tenants/${tenant.name}/keys/rotate`, undefined, token), 403, 'forbidden');
  });

  it('an unknown tenant is 404 not_found', async () => {
    expectError(await a.call('GET', '/tenants/no-such-tenant/keys'), 404, 'not_found');
    expectError(await a.call('POST', '/tenants/no-such-tenant/keys/rotate'), 404, 'not_found');
  });
});
