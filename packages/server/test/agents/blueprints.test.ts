import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addSecret,
  createPrincipal,
  createTenant,
  expectAudit,
  expectError,
  expectStatus,
  grant,
  startAdmin,
  type Admin,
  type CreatedCredential,
  type PrincipalView,
  type TenantView,
} from '../admin/helpers.js';
import { decodeParts, expectIssued, expectOAuthError, keyPair, LENIENT_THROTTLE, postToken, signAssertion, basicAuth, JWT_BEARER } from '../oauth/helpers.js';
import { createAgent, createBlueprint, type BlueprintView } from './helpers.js';

describe('blueprints: the most an agent may ever hold', () => {
  let a: Admin;
  let tenant: TenantView;
  let sponsor: PrincipalView;
  let base: string;
  const resource = 'api://bp-orders';

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    tenant = await createTenant(a);
    base = `/tenants/${tenant.name}/blueprints`;
    sponsor = await createPrincipal(a, tenant.name, { kind: 'user', displayName: 'Ada' });
    expectStatus(
      await a.call('POST', `/tenants/${tenant.name}/resources`, {
        identifier: resource,
        displayName: 'Orders',
        roles: [{ name: 'orders.read', description: 'r' }, { name: 'orders.write', description: 'w' }],
        scopes: [{ name: 'orders.view', description: 'v' }],
      }),
      201,
    );
  });
  after(() => a.close());

  const ccToken = (clientId: string, secret: string, scope = `${resource}/.default`) =>
    postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope }, { authorization: basicAuth(clientId, secret) });

  /** An agent with a secret of its own, granted `roles` on the resource, from a blueprint allowing `allowed`. */
  async function agentWithRoles(allowed: string[], roles: string[], extra: Record<string, unknown> = {}) {
    const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: allowed }], ...extra });
    const agent = await createAgent(a, tenant.name, blueprint.name, [sponsor.id]);
    for (const role of roles) await grant(a, tenant.name, agent.id, resource, role);
    return { blueprint, agent, secret: await addSecret(a, tenant.name, agent.id) };
  }

  it('creates with secure defaults (5 min tokens, depth 1, delegation only, DPoP required) and audits blueprint.created', async () => {
    const b = expectStatus(await a.call<BlueprintView>('POST', base, { name: 'triage', permissions: [{ resource, scopes: ['orders.view'] }] }), 201);
    assert.equal(b.accessTokenLifetimeSeconds, 300);
    assert.equal(b.maxDelegationDepth, 1);
    assert.equal(b.allowAppRoles, false);
    assert.equal(b.allowDelegation, true);
    assert.equal(b.requireDpop, true);
    assert.deepEqual(b.permissions.map((p) => [p.resourceIdentifier, p.roles, p.scopes]), [[resource, [], ['orders.view']]]);
    await expectAudit(a, tenant.id, 'blueprint.created', b.id);
    assert.deepEqual(expectStatus(await a.call<BlueprintView>('GET', `${base}/triage`), 200), b);
    assert.deepEqual(expectStatus(await a.call<BlueprintView>('GET', `${base}/${b.id}`), 200), b);
  });

  it('refuses inconsistent or unknown permissions with 400 invalid_request and duplicate names with 409', async () => {
    expectError(await a.call('POST', base, { name: 'x1', permissions: [{ resource, roles: ['orders.read'] }] }), 400, 'invalid_request');
    expectError(await a.call('POST', base, { name: 'x2', allowDelegation: false, permissions: [{ resource, scopes: ['orders.view'] }] }), 400, 'invalid_request');
    expectError(await a.call('POST', base, { name: 'x3', allowAppRoles: true, permissions: [{ resource, roles: ['orders.delete'] }] }), 400, 'invalid_request');
    expectError(await a.call('POST', base, { name: 'x4', permissions: [{ resource, scopes: ['nope'] }] }), 400, 'invalid_request');
    expectError(await a.call('POST', base, { name: 'x5', accessTokenLifetimeSeconds: 86400 }), 400, 'invalid_request');
    expectError(await a.call('POST', base, { name: 'x6', permissions: [{ resource: 'api://none' }] }), 404, 'not_found');
    expectError(await a.call('POST', base, { name: 'Bad Name' }), 400, 'invalid_request');
    await createBlueprint(a, tenant.name, { name: 'dupe' });
    expectError(await a.call('POST', base, { name: 'dupe' }), 409, 'conflict');
  });

  it('an agent must be created from a blueprint of its tenant; other kinds cannot name one', async () => {
    const path = `/tenants/${tenant.name}/principals`;
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', sponsors: [sponsor.id] }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', sponsors: [sponsor.id], blueprint: 'no-such' }), 400, 'invalid_request');
    const other = await createTenant(a);
    const foreign = await createBlueprint(a, other.name);
    expectError(await a.call('POST', path, { kind: 'agent', displayName: 'a', sponsors: [sponsor.id], blueprint: foreign.id }), 400, 'invalid_request');
    const own = await createBlueprint(a, tenant.name);
    expectError(await a.call('POST', path, { kind: 'service', displayName: 's', blueprint: own.id }), 400, 'invalid_request');
    const agent = await createAgent(a, tenant.name, own.name, [sponsor.id]);
    assert.equal(agent.blueprintId, own.id);
  });

  it('a grant beyond the blueprint is refused at creation with 400 exceeds_blueprint', async () => {
    const { agent } = await agentWithRoles(['orders.read'], ['orders.read']);
    expectError(await a.call('POST', `/tenants/${tenant.name}/grants`, { principal: agent.id, resource, role: 'orders.write' }), 400, 'exceeds_blueprint');
  });

  it('tokens carry granted ∩ blueprint and live at most the blueprint\'s lifetime cap', async () => {
    const { agent, secret } = await agentWithRoles(['orders.read', 'orders.write'], ['orders.read', 'orders.write'], { accessTokenLifetimeSeconds: 120 });
    const res = await ccToken(agent.id, secret);
    const token = expectIssued(res);
    const { payload } = decodeParts(token);
    assert.deepEqual(payload.roles, ['orders.read', 'orders.write']);
    assert.equal(payload.kind, 'agent');
    assert.equal((payload.exp as number) - (payload.iat as number), 120);
    assert.equal(res.body.expires_in, 120);
  });

  it('narrowing a blueprint narrows its agents\' very next token', async () => {
    const { blueprint, agent, secret } = await agentWithRoles(['orders.read', 'orders.write'], ['orders.read', 'orders.write']);
    expectIssued(await ccToken(agent.id, secret)); // warms the directory cache
    expectStatus(await a.call('PATCH', `${base}/${blueprint.id}`, { permissions: [{ resource, roles: ['orders.read'] }] }), 200);
    assert.deepEqual(decodeParts(expectIssued(await ccToken(agent.id, secret))).payload.roles, ['orders.read']);
    const named = await postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', resource, scope: 'orders.write' }, { authorization: basicAuth(agent.id, secret) });
    expectOAuthError(named, 400, 'invalid_scope');
    expectStatus(await a.call('PATCH', `${base}/${blueprint.id}`, { permissions: [] }), 200);
    expectOAuthError(await ccToken(agent.id, secret), 400, 'invalid_scope');
    await expectAudit(a, tenant.id, 'blueprint.updated', blueprint.id);
  });

  it('an agent whose blueprint does not let it act on its own gets 400 unauthorized_client', async () => {
    const { blueprint, agent, secret } = await agentWithRoles(['orders.read'], ['orders.read']);
    expectStatus(await a.call('PATCH', `${base}/${blueprint.id}`, { allowAppRoles: false, permissions: [] }), 200);
    expectOAuthError(await ccToken(agent.id, secret), 400, 'unauthorized_client');
  });

  it('agents authenticate with their own client_id and the blueprint\'s secret; removing it stops every agent at once', async () => {
    const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: ['orders.read'] }] });
    const created = expectStatus(await a.call<CreatedCredential>('POST', `${base}/${blueprint.id}/credentials`, { type: 'secret' }), 201);
    assert.ok(created.secret);
    const agents = [await createAgent(a, tenant.name, blueprint.id, [sponsor.id]), await createAgent(a, tenant.name, blueprint.id, [sponsor.id])];
    for (const agent of agents) {
      await grant(a, tenant.name, agent.id, resource, 'orders.read');
      const { payload } = decodeParts(expectIssued(await ccToken(agent.id, created.secret)));
      assert.equal(payload.sub, agent.id);
      assert.equal(payload.client_id, agent.id);
    }
    const listed = expectStatus(await a.call<{ items: CreatedCredential[] }>('GET', `${base}/${blueprint.id}/credentials`), 200);
    assert.deepEqual(listed.items.map((c) => c.id), [created.id]);
    assert.equal(listed.items[0]?.secret, undefined);
    expectStatus(await a.call('DELETE', `${base}/${blueprint.id}/credentials/${created.id}`), 204);
    for (const agent of agents) expectOAuthError(await ccToken(agent.id, created.secret), 401, 'invalid_client');
    await expectAudit(a, tenant.id, 'credential.removed', created.id);
  });

  it('agents authenticate with private_key_jwt signed by the blueprint\'s key, naming themselves as iss and sub', async () => {
    const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: ['orders.read'] }] });
    const key = await keyPair('ES256');
    expectStatus(await a.call('POST', `${base}/${blueprint.id}/credentials`, { type: 'key', jwk: key.publicJwk }), 201);
    const agent = await createAgent(a, tenant.name, blueprint.id, [sponsor.id]);
    await grant(a, tenant.name, agent.id, resource, 'orders.read');
    const assertion = await signAssertion(key, { now: a.s.now(), clientId: agent.id, aud: `${a.s.url}/${tenant.name}` });
    const res = await postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${resource}/.default`, client_assertion_type: JWT_BEARER, client_assertion: assertion });
    assert.equal(decodeParts(expectIssued(res)).payload.sub, agent.id);
    // A key of another blueprint does not work for this agent.
    const stranger = await keyPair('ES256');
    const otherBlueprint = await createBlueprint(a, tenant.name);
    await a.call('POST', `${base}/${otherBlueprint.id}/credentials`, { type: 'key', jwk: stranger.publicJwk });
    const forged = await signAssertion(stranger, { now: a.s.now(), clientId: agent.id, aud: `${a.s.url}/${tenant.name}` });
    expectOAuthError(await postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${resource}/.default`, client_assertion_type: JWT_BEARER, client_assertion: forged }), 401, 'invalid_client');
  });

  it('a blueprint with live agents cannot be deleted (409 conflict); once they are gone it can', async () => {
    const blueprint = await createBlueprint(a, tenant.name);
    const agent = await createAgent(a, tenant.name, blueprint.id, [sponsor.id]);
    expectError(await a.call('DELETE', `${base}/${blueprint.id}`), 409, 'conflict');
    expectStatus(await a.call('DELETE', `/tenants/${tenant.name}/principals/${agent.id}`), 204);
    expectStatus(await a.call('DELETE', `${base}/${blueprint.id}`), 204);
    expectError(await a.call('GET', `${base}/${blueprint.id}`), 404, 'not_found');
    await expectAudit(a, tenant.id, 'blueprint.deleted', blueprint.id);
  });

  it('tenant readers list blueprints; they cannot create them (403 forbidden)', async () => {
    const list = expectStatus(await a.call<{ items: BlueprintView[] }>('GET', base), 200);
    assert.ok(list.items.length >= 3);
    const reader = await createPrincipal(a, tenant.name, { kind: 'service' });
    const secret = await addSecret(a, tenant.name, reader.id);
    await grant(a, tenant.name, reader.id, 'urn:signet:admin', 'tenant.reader');
    const token = await a.s.tokenFor(tenant.name, reader.id, secret, 'urn:signet:admin/.default');
    expectStatus(await a.call('GET', base, undefined, token), 200);
    expectError(await a.call('POST', base, { name: 'nope' }, token), 403, 'forbidden');
  });

  it('a key already on the blueprint is 409 conflict', async () => {
    const blueprint = await createBlueprint(a, tenant.name);
    const key = await keyPair('EdDSA');
    expectStatus(await a.call('POST', `${base}/${blueprint.id}/credentials`, { type: 'key', jwk: key.publicJwk }), 201);
    expectError(await a.call('POST', `${base}/${blueprint.id}/credentials`, { type: 'key', jwk: key.publicJwk }), 409, 'conflict');
  });
});
