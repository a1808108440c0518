import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { type Admin, auditEvents, createPrincipal, expectError, expectStatus, adminOf } from '../admin/helpers.js';
import { expectIssued } from '../oauth/helpers.js';
import { runMaintenance } from '../../src/maintenance.js';
import { describeEachServerBackend } from '../contract/backends.js';
import { joinedNode, managedSetup, managedToken, type ManagedSetup } from './helpers.js';

interface KeyView {
  kid: string;
  generation: number;
  publicJwk: Record<string, unknown>;
  createdAt: string;
  rotatesAt: string;
  expiresAt: string;
}

const HOUR = 3_600_000;

describeEachServerBackend('managed identity keys: platform-held, rotated at half their lifetime without a gap', (server) => {
  let a: Admin;
  let setup: ManagedSetup;
  before(async () => {
    a = await adminOf(server());
    setup = await managedSetup(a);
  });

  const keys = async (id = setup.managed.id) =>
    expectStatus(await a.call<{ items: KeyView[] }>('GET', `/tenants/${setup.tenant.name}/principals/${id}/managed-keys`, undefined, await a.s.adminToken()), 200).items;

  it('a managed identity is created with one key; the admin API shows only its public half and times', async () => {
    const [key, ...rest] = await keys();
    assert.equal(rest.length, 0);
    assert.ok(key);
    assert.equal(key.generation, 1);
    assert.deepEqual(Object.keys(key.publicJwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(Date.parse(key.expiresAt) - Date.parse(key.createdAt), 24 * HOUR);
    assert.equal(Date.parse(key.rotatesAt) - Date.parse(key.createdAt), 12 * HOUR);
    const body = JSON.stringify(await a.call('GET', `/tenants/${setup.tenant.name}/principals/${setup.managed.id}/managed-keys`, undefined, await a.s.adminToken()));
    assert.doesNotMatch(body, /"d"|private|v1\./);
    const row = await a.s.signet.deps.db.selectFrom('managed_keys').select('private_key').where('id', '=', key.kid).executeTakeFirstOrThrow();
    assert.match(row.private_key, /^v1\./, 'sealed by the master-key envelope');
    assert.doesNotMatch(row.private_key, /BEGIN/);
    const created = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === 'managed_key.created' && e.targetId === setup.managed.id);
    assert.ok(created);
  });

  it('maintenance adds the next key at half the lifetime; both keys are valid in the overlap; tokens move to the new key; the old one is deleted once expired', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    const [first] = await keys();
    assert.ok(first);
    a.s.advance(12 * HOUR - 60_000);
    await runMaintenance(a.s.signet.deps);
    assert.equal((await keys()).length, 1, 'not yet due');
    expectIssued(await managedToken(a, setup, node, setup.managed.id));

    a.s.advance(61_000);
    await runMaintenance(a.s.signet.deps);
    const both = await keys();
    assert.deepEqual(both.map((k) => k.generation), [2, 1]);
    const rotated = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === 'managed_key.rotated' && e.targetId === setup.managed.id);
    assert.ok(rotated);
    assert.equal((rotated.data.after as Record<string, unknown>).reason, 'scheduled');
    assert.equal((rotated.data.before as Record<string, unknown>).kid, first.kid);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the token path's key cache (SIGNET_CACHE_STALENESS_MS)
    const issued = expectIssued(await managedToken(a, setup, node, setup.managed.id));
    const jti = JSON.parse(Buffer.from(issued.split('.')[1] as string, 'base64url').toString()).jti as string;
    const event = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === 'token.issued' && e.jti === jti);
    assert.equal(event?.credentialId, both[0]?.kid);

    a.s.advance(12 * HOUR);
    await runMaintenance(a.s.signet.deps);
    const later = await keys();
    assert.ok(!later.some((k) => k.kid === first.kid), 'the expired key is gone');
    const stored = await a.s.signet.deps.db.selectFrom('managed_keys').select('id').where('id', '=', first.kid).execute();
    assert.deepEqual(stored, [], 'its sealed private half is deleted');
  });

  it('when maintenance has not run, the token path rotates itself: a managed identity never lacks a valid key', async () => {
    const managed = await createPrincipal(a, setup.tenant.name, { kind: 'managed', displayName: 'unattended' }, await a.s.adminToken());
    await a.call('POST', `/tenants/${setup.tenant.name}/grants`, { principal: managed.id, resource: setup.resource, role: 'orders.read' }, await a.s.adminToken());
    const before = await keys(managed.id);
    a.s.advance(25 * HOUR); // its only key expired and maintenance never ran
    const node = await joinedNode(a, setup.tenant.name, [managed.id]);
    expectIssued(await managedToken(a, setup, node, managed.id));
    const after = await keys(managed.id);
    assert.equal(after.length, 1);
    assert.ok(after[0] && !before.some((k) => k.kid === after[0]?.kid));
    const rotated = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === 'managed_key.rotated' && e.targetId === managed.id);
    assert.equal((rotated?.data.after as Record<string, unknown>).reason, 'expired');
  });

  it('an admin can force the next key; kinds without a platform-held key have none', async () => {
    const forced = expectStatus(await a.call<KeyView>('POST', `/tenants/${setup.tenant.name}/principals/${setup.managed.id}/managed-keys/rotate`, undefined, await a.s.adminToken()), 200);
    assert.equal((await keys())[0]?.kid, forced.kid);
    const service = await createPrincipal(a, setup.tenant.name, { kind: 'service', displayName: 'svc' }, await a.s.adminToken());
    expectError(await a.call('GET', `/tenants/${setup.tenant.name}/principals/${service.id}/managed-keys`, undefined, await a.s.adminToken()), 400, 'invalid_request');
  });

  it('deleting a managed identity deletes its keys', async () => {
    const managed = await createPrincipal(a, setup.tenant.name, { kind: 'managed', displayName: 'short-lived' }, await a.s.adminToken());
    expectStatus(await a.call('DELETE', `/tenants/${setup.tenant.name}/principals/${managed.id}`, undefined, await a.s.adminToken()), 204);
    const rows = await a.s.signet.deps.db.selectFrom('managed_keys').select('id').where('principal_id', '=', managed.id).execute();
    assert.deepEqual(rows, []);
  });
});
