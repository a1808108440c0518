import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addSecret, auditEvents, createPrincipal, createTenant, expectError, expectStatus, grant, startAdmin, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { basicAuth, expectIssued, expectOAuthError, LENIENT_THROTTLE, postToken } from '../oauth/helpers.js';
import { createAgent, createBlueprint, mintToken } from './helpers.js';

describe('sponsors: every agent has an accountable human, and an expiry', () => {
  let a: Admin;
  let tenant: TenantView;
  let blueprint: string;
  const resource = 'api://sponsored';
  const path = (id: string, action = '') => `/tenants/${tenant.name}/principals/${id}${action}`;

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    tenant = await createTenant(a);
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/resources`, { identifier: resource, displayName: 'R', roles: [{ name: 'read', description: 'r' }] }), 201);
    blueprint = (await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: ['read'] }] })).id;
  });
  after(() => a.close());

  const user = (name = 'sponsor') => createPrincipal(a, tenant.name, { kind: 'user', displayName: name });
  async function agentWithSecret(sponsors: string[], extra: Record<string, unknown> = {}) {
    const agent = await createAgent(a, tenant.name, blueprint, sponsors, extra);
    await grant(a, tenant.name, agent.id, resource, 'read');
    return { agent, secret: await addSecret(a, tenant.name, agent.id) };
  }
  const token = (id: string, secret: string) => postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${resource}/.default` }, { authorization: basicAuth(id, secret) });
  const status = async (id: string) => expectStatus(await a.call<PrincipalView>('GET', path(id)), 200).status;

  it('disabling the last active sponsor suspends the agent in the same change, audited as principal.suspended', async () => {
    const ada = await user();
    const { agent, secret } = await agentWithSecret([ada.id]);
    expectIssued(await token(agent.id, secret));
    expectStatus(await a.call('POST', path(ada.id, '/disable')), 200);
    assert.equal(await status(agent.id), 'suspended');
    expectOAuthError(await token(agent.id, secret), 401, 'invalid_client');
    const events = await auditEvents(a, tenant.id);
    const suspended = events.find((e) => e.type === 'principal.suspended' && e.targetId === agent.id);
    assert.ok(suspended);
    assert.equal(suspended.data.reason, 'no active sponsor');
    assert.equal(suspended.data.lastSponsor, ada.id);
    const disabled = events.find((e) => e.type === 'principal.disabled' && e.targetId === ada.id);
    assert.ok(disabled);
    // Written in the same transaction as the sponsor's disable, right after it in the chain.
    assert.equal(suspended.chainId, disabled.chainId);
    assert.equal(suspended.seq, disabled.seq + 1);
  });

  it('an agent with another active sponsor stays active; deleting the last one suspends it', async () => {
    const [ada, bob] = [await user('ada'), await user('bob')];
    const { agent, secret } = await agentWithSecret([ada.id, bob.id]);
    expectStatus(await a.call('POST', path(ada.id, '/disable')), 200);
    assert.equal(await status(agent.id), 'active');
    expectIssued(await token(agent.id, secret));
    expectStatus(await a.call('DELETE', path(bob.id)), 204);
    assert.equal(await status(agent.id), 'suspended');
    expectOAuthError(await token(agent.id, secret), 401, 'invalid_client');
  });

  it('a suspended agent is enabled only once it names an active sponsor', async () => {
    const ada = await user();
    const { agent, secret } = await agentWithSecret([ada.id]);
    expectStatus(await a.call('POST', path(ada.id, '/disable')), 200);
    expectError(await a.call('POST', path(agent.id, '/enable')), 400, 'invalid_request');
    const carol = await user('carol');
    expectStatus(await a.call('PATCH', path(agent.id), { sponsors: [carol.id] }), 200);
    assert.equal(await status(agent.id), 'suspended');
    assert.equal(expectStatus(await a.call<PrincipalView>('POST', path(agent.id, '/enable')), 200).status, 'active');
    expectIssued(await token(agent.id, secret));
  });

  it('a sponsor may disable and extend their own agent with their own token; not enable it, nor touch another agent', async () => {
    const ada = await user('ada');
    const bob = await user('bob');
    const { agent, secret } = await agentWithSecret([ada.id]);
    const other = await createAgent(a, tenant.name, blueprint, [bob.id]);
    const adaToken = await mintToken(a, tenant, ada.id);
    const later = new Date(a.s.now() + 30 * 86_400_000).toISOString();
    const extended = expectStatus(await a.call<PrincipalView>('POST', path(agent.id, '/extend'), { expiresAt: later }, adaToken), 200);
    assert.equal(extended.expiresAt, later);
    expectError(await a.call('POST', path(other.id, '/extend'), {}, adaToken), 403, 'forbidden');
    expectError(await a.call('POST', path(other.id, '/disable'), undefined, adaToken), 403, 'forbidden');
    expectError(await a.call('GET', path(agent.id), undefined, adaToken), 403, 'forbidden');
    assert.equal(expectStatus(await a.call<PrincipalView>('POST', path(agent.id, '/disable'), undefined, adaToken), 200).status, 'disabled');
    expectOAuthError(await token(agent.id, secret), 401, 'invalid_client');
    expectError(await a.call('POST', path(agent.id, '/enable'), undefined, adaToken), 403, 'forbidden');
    // A sponsor's token from another tenant does nothing here.
    const elsewhere = await createTenant(a);
    const stranger = await createPrincipal(a, elsewhere.name, { kind: 'user' });
    expectError(await a.call('POST', path(other.id, '/disable'), undefined, await mintToken(a, elsewhere, stranger.id)), 403, 'forbidden');
  });

  it('agents expire (default SIGNET_AGENT_LIFETIME_DAYS = 90) and get no token until a sponsor extends them', async () => {
    const ada = await user();
    const { agent: defaulted } = await agentWithSecret([ada.id]);
    assert.ok(defaulted.expiresAt);
    const days = (Date.parse(defaulted.expiresAt) - a.s.now()) / 86_400_000;
    assert.ok(days > 89.99 && days <= 90, `expires in ${days} days`);

    const { agent, secret } = await agentWithSecret([ada.id], { expiresAt: new Date(a.s.now() + 60_000).toISOString() });
    expectIssued(await token(agent.id, secret));
    a.s.advance(61_000);
    const refused = await token(agent.id, secret);
    expectOAuthError(refused, 401, 'invalid_client');
    const event = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.refused' && e.data.reason === 'principal has expired');
    assert.ok(event, 'the refusal is audited with the reason');
    expectStatus(await a.call('POST', path(agent.id, '/extend'), {}, await mintToken(a, tenant, ada.id)), 200);
    expectIssued(await token(agent.id, secret));
  });

  it('extensions are bounded: past the lifetime or in the past is 400; kinds that do not expire are 400', async () => {
    const ada = await user();
    const { agent } = await agentWithSecret([ada.id]);
    expectError(await a.call('POST', path(agent.id, '/extend'), { expiresAt: new Date(a.s.now() + 91 * 86_400_000).toISOString() }), 400, 'invalid_request');
    expectError(await a.call('POST', path(agent.id, '/extend'), { expiresAt: new Date(a.s.now() - 1000).toISOString() }), 400, 'invalid_request');
    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    expectError(await a.call('POST', path(service.id, '/extend'), {}), 400, 'invalid_request');
    expectError(await a.call('POST', `/tenants/${tenant.name}/principals`, { kind: 'service', displayName: 's', expiresAt: new Date(a.s.now() + 1000).toISOString() }), 400, 'invalid_request');
  });
});
