import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, expectStatus, startAdmin, type Admin, type TenantView } from '../admin/helpers.js';
import { basicAuth, createResource, decodeParts, expectIssued, expectOAuthError, LENIENT_THROTTLE, postToken, secretClient, uniqueResourceId, type SecretClient } from './helpers.js';

describe('token endpoint: client_credentials', () => {
  let a: Admin;
  let orders: string;
  let other: string;
  let client: SecretClient;
  let tenantId: string;
  const token = (form: Record<string, string> | string, c: SecretClient = client, tenant = 'default') =>
    postToken(a.s.url, tenant, typeof form === 'string' ? form : { grant_type: 'client_credentials', ...form }, { authorization: basicAuth(c.id, c.secret) });

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    orders = uniqueResourceId();
    other = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read', 'orders.write', 'orders.admin']);
    await createResource(a, 'default', other, ['other.read']);
    client = await secretClient(a, 'default', orders, ['orders.read', 'orders.write']);
    tenantId = expectStatus(await a.call<TenantView>('GET', '/tenants/default'), 200).id;
  });
  after(() => a.close());

  it('scope=<resource>/.default issues every granted role as an RFC 9068 at+jwt with exactly the documented claims', async () => {
    const res = await token({ scope: `${orders}/.default` });
    const accessToken = expectIssued(res);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 600);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');

    const { header, payload } = decodeParts(accessToken);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    const jwks = (await (await fetch(`${a.s.url}/default/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'the signing kid is published');

    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'kind', 'nbf', 'roles', 'sub', 'tid']);
    assert.equal(payload.iss, `${a.s.url}/default`);
    assert.equal(payload.sub, client.id);
    assert.equal(payload.client_id, client.id);
    assert.equal(payload.aud, orders);
    assert.equal(payload.tid, tenantId);
    assert.equal(payload.kind, 'service');
    assert.deepEqual([...(payload.roles as string[])].sort(), ['orders.read', 'orders.write']);
    assert.equal((payload.exp as number) - (payload.iat as number), 600);
    assert.equal(payload.nbf, payload.iat);
    assert.ok(Math.abs((payload.iat as number) - Math.floor(a.s.now() / 1000)) <= 5);
  });

  it('every token has a unique jti', async () => {
    const one = decodeParts(expectIssued(await token({ scope: `${orders}/.default` }))).payload;
    const two = decodeParts(expectIssued(await token({ scope: `${orders}/.default` }))).payload;
    assert.equal(typeof one.jti, 'string');
    assert.notEqual(one.jti, two.jti);
  });

  it('resource=<id> with scope=<role> issues only that role (RFC 8707)', async () => {
    const res = await token({ resource: orders, scope: 'orders.read' });
    const { payload } = decodeParts(expectIssued(res));
    assert.equal(payload.aud, orders);
    assert.deepEqual(payload.roles, ['orders.read']);
  });

  it('resource=<id> without scope issues every granted role', async () => {
    const { payload } = decodeParts(expectIssued(await token({ resource: orders })));
    assert.equal(payload.aud, orders);
    assert.deepEqual([...(payload.roles as string[])].sort(), ['orders.read', 'orders.write']);
  });

  it('resource=<id> with scope=<id>/.default is the same request twice and is accepted', async () => {
    const { payload } = decodeParts(expectIssued(await token({ resource: orders, scope: `${orders}/.default` })));
    assert.equal(payload.aud, orders);
  });

  it('the tenant setting accessTokenTtlSeconds changes expires_in and exp', async () => {
    const tenant = await createTenant(a);
    const resource = uniqueResourceId();
    await createResource(a, tenant.name, resource, ['r']);
    const c = await secretClient(a, tenant.name, resource, ['r']);
    expectStatus(await a.call('PATCH', `/tenants/${tenant.name}`, { settings: { accessTokenTtlSeconds: 120 } }), 200);
    const res = await token({ scope: `${resource}/.default` }, c, tenant.name);
    const { payload } = decodeParts(expectIssued(res));
    assert.equal(res.body.expires_in, 120);
    assert.equal((payload.exp as number) - (payload.iat as number), 120);
  });

  it('a role that is not granted is 400 invalid_scope', async () => {
    expectOAuthError(await token({ resource: orders, scope: 'orders.admin' }), 400, 'invalid_scope');
    expectOAuthError(await token({ resource: orders, scope: 'orders.read orders.admin' }), 400, 'invalid_scope');
    expectOAuthError(await token({ resource: orders, scope: 'no.such.role' }), 400, 'invalid_scope');
  });

  it('/.default with nothing granted on the resource is 400 invalid_scope', async () => {
    expectOAuthError(await token({ scope: `${other}/.default` }), 400, 'invalid_scope');
    expectOAuthError(await token({ resource: other }), 400, 'invalid_scope');
  });

  it('/.default combined with another scope is 400 invalid_scope', async () => {
    expectOAuthError(await token({ scope: `${orders}/.default orders.read` }), 400, 'invalid_scope');
    expectOAuthError(await token({ scope: `${orders}/.default ${other}/.default` }), 400, 'invalid_scope');
  });

  it('an unknown resource named by `resource` is 400 invalid_target', async () => {
    expectOAuthError(await token({ resource: 'api://no-such-api' }), 400, 'invalid_target');
  });

  it('an unknown resource named by `/.default` is 400 invalid_scope', async () => {
    expectOAuthError(await token({ scope: 'api://no-such-api/.default' }), 400, 'invalid_scope');
  });

  it('`resource` and the `/.default` resource differing is 400 invalid_target', async () => {
    expectOAuthError(await token({ resource: orders, scope: `${other}/.default` }), 400, 'invalid_target');
  });

  it('a resource that is not an absolute URI, or has a fragment, is 400 invalid_target (RFC 8707 §2)', async () => {
    expectOAuthError(await token({ resource: `${orders}#frag` }), 400, 'invalid_target');
    expectOAuthError(await token({ resource: 'orders' }), 400, 'invalid_target');
    expectOAuthError(await token({ resource: '/orders' }), 400, 'invalid_target');
  });

  it('naming neither resource nor scope is 400 invalid_scope', async () => {
    expectOAuthError(await token({}), 400, 'invalid_scope');
  });

  it('a missing grant_type is 400 invalid_request', async () => {
    expectOAuthError(await token(new URLSearchParams({ scope: `${orders}/.default` }).toString()), 400, 'invalid_request');
  });

  // No password grant (RFC 9700 §2.4), no implicit; authorization_code and refresh_token have their own tests.
  for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
    it(`grant_type=${grantType} is 400 unsupported_grant_type`, async () => {
      expectOAuthError(await token({ grant_type: grantType, scope: `${orders}/.default` }), 400, 'unsupported_grant_type');
    });
  }

  it('a repeated parameter is 400 invalid_request (RFC 6749 §3.2)', async () => {
    expectOAuthError(await token(`grant_type=client_credentials&scope=${encodeURIComponent(`${orders}/.default`)}&scope=b`), 400, 'invalid_request');
    expectOAuthError(await token(`grant_type=client_credentials&grant_type=client_credentials&resource=${encodeURIComponent(orders)}`), 400, 'invalid_request');
  });

  it('a JSON body instead of a form is 400 invalid_request', async () => {
    const response = await fetch(`${a.s.url}/default/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(client.id, client.secret), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', scope: `${orders}/.default` }),
    });
    expectOAuthError({ status: response.status, headers: response.headers, body: await response.json() }, 400, 'invalid_request');
  });

  it('an empty parameter counts as omitted (RFC 6749 §3.1)', async () => {
    const { payload } = decodeParts(expectIssued(await token({ scope: `${orders}/.default`, resource: '' })));
    assert.equal(payload.aud, orders);
  });

  it('an unknown tenant is 404', async () => {
    const res = await token({ scope: `${orders}/.default` }, client, 'no-such-tenant');
    expectOAuthError(res, 404, 'invalid_request');
  });

  it('a disabled tenant is 404, and issues again once enabled', async () => {
    const tenant = await createTenant(a);
    const resource = uniqueResourceId();
    await createResource(a, tenant.name, resource, ['r']);
    const c = await secretClient(a, tenant.name, resource, ['r']);
    expectIssued(await token({ scope: `${resource}/.default` }, c, tenant.name));
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/disable`), 200);
    expectOAuthError(await token({ scope: `${resource}/.default` }, c, tenant.name), 404, 'invalid_request');
    assert.equal((await fetch(`${a.s.url}/${tenant.name}/.well-known/openid-configuration`)).status, 404);
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/enable`), 200);
    expectIssued(await token({ scope: `${resource}/.default` }, c, tenant.name));
  });

  it('a client of one tenant is unknown at another tenant\'s token endpoint (401 invalid_client)', async () => {
    const tenant: TenantView = await createTenant(a);
    const res = await token({ scope: `${orders}/.default` }, client, tenant.name);
    expectOAuthError(res, 401, 'invalid_client');
  });
});
