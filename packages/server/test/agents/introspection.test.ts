import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addSecret, auditEvents, createPrincipal, createTenant, expectStatus, grant, startAdmin, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { basicAuth, expectIssued, expectOAuthError, LENIENT_THROTTLE, type TokenResponse } from '../oauth/helpers.js';
import { createAgent, createBlueprint, mintToken } from './helpers.js';

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? '' : JSON.parse(text) };
}

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  let a: Admin;
  let tenant: TenantView;
  let issuer: string;
  let rs: { id: string; secret: string };
  let client: { id: string; secret: string };
  let sponsor: PrincipalView;
  let blueprint: string;
  const resource = 'api://introspected';

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    tenant = await createTenant(a);
    issuer = `${a.s.url}/${tenant.name}`;
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/resources`, { identifier: resource, displayName: 'R', roles: [{ name: 'read', description: 'r' }], scopes: [{ name: 'view', description: 'v' }] }), 201);
    const server = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'resource server' });
    rs = { id: server.id, secret: await addSecret(a, tenant.name, server.id) };
    const c = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'client' });
    client = { id: c.id, secret: await addSecret(a, tenant.name, c.id) };
    await grant(a, tenant.name, c.id, resource, 'read');
    sponsor = await createPrincipal(a, tenant.name, { kind: 'user' });
    blueprint = (await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource, roles: ['read'], scopes: ['view'] }] })).id;
  });
  after(() => a.close());

  /** Delegated tokens rest on consent: an admin consents for every user to `client` using `view`. */
  const consent = async (client: string) => expectStatus(await a.call('POST', `/tenants/${tenant.name}/consents`, { client, resource, scopes: ['view'] }), 201);
  const introspect = (token: string, who = rs) => post(`${issuer}/oauth2/introspect`, { token }, { authorization: basicAuth(who.id, who.secret) });
  const revoke = (token: string, who = client, extra: Record<string, string> = {}) => post(`${issuer}/oauth2/revoke`, { token, ...extra }, { authorization: basicAuth(who.id, who.secret) });
  const issue = async (who = client) =>
    expectIssued(await post(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', scope: `${resource}/.default` }, { authorization: basicAuth(who.id, who.secret) }));
  async function expectInactive(token: string, reason: string) {
    const res = await introspect(token);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { active: false });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const events = await auditEvents(a, tenant.id);
    assert.ok(events.some((e) => e.type === 'token.introspected' && e.data.reason === reason), `no token.introspected with reason "${reason}"; have ${JSON.stringify(events.filter((e) => e.type === 'token.introspected').map((e) => e.data.reason))}`);
  }

  it('metadata advertises both endpoints with the token endpoint\'s client authentication methods', async () => {
    const body = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(body.introspection_endpoint, `${issuer}/oauth2/introspect`);
    assert.equal(body.revocation_endpoint, `${issuer}/oauth2/revoke`);
    // Introspection needs an authenticated client; a public client (`none`) may revoke its own refresh tokens.
    const authenticated = (body.token_endpoint_auth_methods_supported as string[]).filter((m) => m !== 'none');
    assert.deepEqual(body.introspection_endpoint_auth_methods_supported, authenticated);
    assert.deepEqual(body.revocation_endpoint_auth_methods_supported, body.token_endpoint_auth_methods_supported);
  });

  it('an active token introspects with every claim a resource server needs; nothing is audited for it', async () => {
    const token = await issue();
    const before = (await auditEvents(a, tenant.id)).filter((e) => e.type === 'token.introspected').length;
    const res = await introspect(token);
    assert.equal(res.status, 200);
    const { iat, exp, nbf, jti, ...rest } = res.body;
    assert.deepEqual(rest, { active: true, iss: issuer, sub: client.id, aud: resource, client_id: client.id, tid: tenant.id, kind: 'service', token_type: 'Bearer', roles: ['read'] });
    assert.equal(typeof jti, 'string');
    assert.equal(exp - iat, 600);
    assert.equal(nbf, iat);
    assert.equal((await auditEvents(a, tenant.id)).filter((e) => e.type === 'token.introspected').length, before);
  });

  it('a delegated, DPoP-bound token shows act (the whole chain), scope, cnf and token_type DPoP', async () => {
    const [agentA, agentB] = [await createAgent(a, tenant.name, blueprint, [sponsor.id]), await createAgent(a, tenant.name, blueprint, [sponsor.id])];
    const act = { sub: agentB.id, act: { sub: agentA.id } };
    await consent(agentA.id);
    const token = await mintToken(a, tenant, sponsor.id, { aud: resource, client_id: agentB.id, scope: 'view', act, cnf: { jkt: 'abc' } });
    const res = await introspect(token);
    assert.equal(res.body.active, true);
    assert.deepEqual(res.body.act, act);
    assert.equal(res.body.scope, 'view');
    assert.equal(res.body.kind, 'user');
    assert.deepEqual(res.body.cnf, { jkt: 'abc' });
    assert.equal(res.body.token_type, 'DPoP');
  });

  it('introspection needs client authentication (401 invalid_client) and a token (400 invalid_request)', async () => {
    expectOAuthError(await post(`${issuer}/oauth2/introspect`, { token: 'x' }), 401, 'invalid_client');
    expectOAuthError(await introspect('x', { id: rs.id, secret: 'sgn_wrong' }), 401, 'invalid_client');
    expectOAuthError(await post(`${issuer}/oauth2/introspect`, {}, { authorization: basicAuth(rs.id, rs.secret) }), 400, 'invalid_request');
  });

  it('expired, forged, foreign and garbage tokens are inactive', async () => {
    const token = await issue();
    const [h, p, s] = token.split('.') as [string, string, string];
    await expectInactive(`${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`, 'the token is invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
    await expectInactive('not-a-token', 'the token is not a JWT');
    const other = await createTenant(a);
    const foreignUser = await createPrincipal(a, other.name, { kind: 'user' });
    await expectInactive(await mintToken(a, other, foreignUser.id), 'issued by another tenant');
    a.s.advance(611_000);
    await expectInactive(token, 'the token has expired');
  });

  it('a token whose subject, client or any actor of its chain is stopped is inactive', async () => {
    a.token = await a.s.adminToken(); // the clock moved in an earlier test
    const agentA = await createAgent(a, tenant.name, blueprint, [sponsor.id]);
    const agentB = await createAgent(a, tenant.name, blueprint, [sponsor.id]);
    const user = await createPrincipal(a, tenant.name, { kind: 'user' });
    await consent(agentA.id);
    const chain = await mintToken(a, tenant, user.id, { aud: resource, client_id: agentB.id, scope: 'view', act: { sub: agentB.id, act: { sub: agentA.id } } });
    assert.equal((await introspect(chain)).body.active, true);
    // The upstream agent A (deepest in the chain) is disabled by its sponsor: B's token dies with it.
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${agentA.id}/disable`, undefined, await mintToken(a, tenant, sponsor.id)), 200);
    await expectInactive(chain, `principal ${agentA.id} is disabled`);

    const svc = await createPrincipal(a, tenant.name, { kind: 'service' });
    const secret = await addSecret(a, tenant.name, svc.id);
    await grant(a, tenant.name, svc.id, resource, 'read');
    const own = await issue({ id: svc.id, secret });
    expectStatus(await a.call('DELETE', `/tenants/${tenant.name}/principals/${svc.id}`), 204);
    await expectInactive(own, `principal ${svc.id} is deleted`);

    const expiring = await createAgent(a, tenant.name, blueprint, [sponsor.id], { expiresAt: new Date(a.s.now() + 30_000).toISOString() });
    const agentToken = await mintToken(a, tenant, expiring.id, { aud: resource, kind: 'agent', roles: ['read'] });
    assert.equal((await introspect(agentToken)).body.active, true);
    a.s.advance(31_000);
    a.token = await a.s.adminToken();
    await expectInactive(agentToken, `principal ${expiring.id} is expired`);

    const lone = await createPrincipal(a, tenant.name, { kind: 'user' });
    const suspendedAgent = await createAgent(a, tenant.name, blueprint, [lone.id]);
    const suspendedToken = await mintToken(a, tenant, suspendedAgent.id, { aud: resource, kind: 'agent' });
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${lone.id}/disable`), 200);
    await expectInactive(suspendedToken, `principal ${suspendedAgent.id} is suspended`);
    await expectInactive(await mintToken(a, tenant, lone.id), `principal ${lone.id} is disabled`);
  });

  it('the client a token was issued to revokes it: 200 with no body, then it introspects inactive; token.revoked is audited', async () => {
    const token = await issue();
    const res = await revoke(token);
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    await expectInactive(token, 'revoked');
    const revoked = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.revoked' && e.clientId === client.id);
    assert.ok(revoked);
    assert.equal(revoked.jti, JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).jti);
    assert.equal((await revoke(token)).status, 200, 'revoking twice is still 200');
    assert.equal((await revoke(await issue(), client, { token_type_hint: 'refresh_token' })).status, 200, 'a wrong hint is only a hint');
  });

  it('revocation: another client\'s token is 400 unauthorized_client; unknown tokens are 200; missing token 400; no auth 401', async () => {
    const token = await issue();
    expectOAuthError(await revoke(token, rs), 400, 'unauthorized_client');
    assert.equal((await introspect(token)).body.active, true);
    assert.equal((await revoke('garbage')).status, 200);
    expectOAuthError(await post(`${issuer}/oauth2/revoke`, {}, { authorization: basicAuth(client.id, client.secret) }), 400, 'invalid_request');
    expectOAuthError(await post(`${issuer}/oauth2/revoke`, { token }), 401, 'invalid_client');
  });
});
