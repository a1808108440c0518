import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { adminClient, createTenant, expectError, expectStatus, startAdmin, type Admin } from '../admin/helpers.js';
import { createResource, decodeParts, secretClient, uniqueResourceId } from './helpers.js';

interface Fetched {
  status: number;
  headers: Headers;
  body: any;
}

async function get(url: string): Promise<Fetched> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('discovery (RFC 8414, OIDC Discovery) and JWKS', () => {
  let a: Admin;
  let issuer: string;

  before(async () => {
    a = await startAdmin();
    issuer = `${a.s.url}/default`;
  });
  after(() => a.close());

  const metadataUrls = (base: string, tenant: string) => [
    `${base}/${tenant}/.well-known/openid-configuration`,
    `${base}/${tenant}/.well-known/oauth-authorization-server`,
    // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    `${base}/.well-known/oauth-authorization-server/${tenant}`,
  ];

  it('the three metadata URLs serve identical JSON for the tenant\'s issuer', async () => {
    const [first, ...rest] = await Promise.all(metadataUrls(a.s.url, 'default').map(get));
    assert.ok(first);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(first.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
    for (const other of rest) {
      assert.equal(other.status, 200);
      assert.deepEqual(other.body, first.body);
    }
  });

  it('metadata names the issuer exactly and advertises only what the server does', async () => {
    const { body } = await get(`${issuer}/.well-known/openid-configuration`);
    assert.equal(body.issuer, issuer);
    assert.equal(body.token_endpoint, `${issuer}/oauth2/token`);
    assert.equal(body.jwks_uri, `${issuer}/.well-known/jwks.json`);
    assert.deepEqual(body.grant_types_supported, ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange']);
    assert.deepEqual([...body.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
    assert.equal(body.authorization_endpoint, `${issuer}/oauth2/authorize`);
    assert.equal(body.userinfo_endpoint, `${issuer}/oauth2/userinfo`);
    assert.equal(body.end_session_endpoint, `${issuer}/oauth2/logout`);
    // RFC 9700: code flow only, PKCE with S256 only, iss in the authorization response (RFC 9207).
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.equal(body.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(body.scopes_supported, ['openid', 'profile', 'email', 'offline_access']);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['ES256']);
    for (const claim of ['sub', 'auth_time', 'nonce', 'amr', 'acr', 'name', 'email']) assert.ok(body.claims_supported.includes(claim), claim);
    // RFC 9449 §5.1: DPoP proofs with ES256 or EdDSA only.
    assert.deepEqual(body.dpop_signing_alg_values_supported, ['ES256', 'EdDSA']);
    const algs: string[] = [...body.token_endpoint_auth_signing_alg_values_supported, ...body.access_token_signing_alg_values_supported];
    assert.ok(algs.length > 0);
    for (const alg of algs) {
      assert.notEqual(alg.toLowerCase(), 'none');
      assert.doesNotMatch(alg, /^HS/);
    }
    assert.ok(body.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
    assert.deepEqual(body.access_token_signing_alg_values_supported, ['ES256']);
  });

  it('an unknown tenant has no metadata and no JWKS (404)', async () => {
    for (const url of [...metadataUrls(a.s.url, 'no-such-tenant'), `${a.s.url}/no-such-tenant/.well-known/jwks.json`]) {
      assert.equal((await fetch(url)).status, 404, url);
    }
  });

  it('the JWKS is application/jwk-set+json with the active and next public keys and no private members', async () => {
    const { status, headers, body } = await get(`${issuer}/.well-known/jwks.json`);
    assert.equal(status, 200);
    assert.equal(headers.get('content-type')?.split(';')[0], 'application/jwk-set+json');
    const jwks = body as JSONWebKeySet;
    assert.ok(jwks.keys.length >= 2, `expected active + next keys, got ${jwks.keys.length}`);
    assert.equal(new Set(jwks.keys.map((k) => k.kid)).size, jwks.keys.length, 'kids are unique');
    for (const key of jwks.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(member in key, false, `JWKS key has private member ${member}`);
      assert.equal(key.use, 'sig');
      assert.equal(key.alg, 'ES256');
      assert.equal(typeof key.kid, 'string');
    }
  });

  it('a tenant created through the admin API has its own issuer and keys', async () => {
    const tenant = await createTenant(a);
    const ownIssuer = `${a.s.url}/${tenant.name}`;
    assert.equal(tenant.issuer, ownIssuer);
    const metadata = await Promise.all(metadataUrls(a.s.url, tenant.name).map(get));
    for (const m of metadata) {
      assert.equal(m.status, 200);
      assert.equal(m.body.issuer, ownIssuer);
      assert.equal(m.body.token_endpoint, `${ownIssuer}/oauth2/token`);
      assert.equal(m.body.jwks_uri, `${ownIssuer}/.well-known/jwks.json`);
    }
    const own = (await get(`${ownIssuer}/.well-known/jwks.json`)).body as JSONWebKeySet;
    const home = (await get(`${issuer}/.well-known/jwks.json`)).body as JSONWebKeySet;
    assert.ok(own.keys.length >= 2);
    const homeKids = new Set(home.keys.map((k) => k.kid));
    for (const key of own.keys) assert.equal(homeKids.has(key.kid), false, 'tenants share no signing key');
  });

  it('a token of tenant A is refused by the admin API for tenant B (403) and does not verify against B\'s JWKS', async () => {
    const tenantA = await createTenant(a);
    const tenantB = await createTenant(a);
    const adminOfA = await adminClient(a, tenantA.name, ['tenant.admin']);
    const tokenA = await adminOfA.token();
    assert.equal(decodeParts(tokenA).payload.iss, `${a.s.url}/${tenantA.name}`);

    expectStatus(await a.call('GET', `/tenants/${tenantA.name}/principals`, undefined, tokenA), 200);
    expectError(await a.call('GET', `/tenants/${tenantB.name}/principals`, undefined, tokenA), 403, 'forbidden');
    expectError(await a.call('POST', `/tenants/${tenantB.name}/principals`, { kind: 'service', displayName: 'intruder' }, tokenA), 403, 'forbidden');

    const jwksA = createLocalJWKSet((await get(`${a.s.url}/${tenantA.name}/.well-known/jwks.json`)).body as JSONWebKeySet);
    const jwksB = createLocalJWKSet((await get(`${a.s.url}/${tenantB.name}/.well-known/jwks.json`)).body as JSONWebKeySet);
    await jwtVerify(tokenA, jwksA, { typ: 'at+jwt', issuer: `${a.s.url}/${tenantA.name}`, audience: 'urn:signet:admin' });
    await assert.rejects(jwtVerify(tokenA, jwksB), joseErrors.JWKSNoMatchingKey);
  });

  it('a token verifies against its own tenant\'s JWKS with typ at+jwt, issuer and audience', async () => {
    const orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    const client = await secretClient(a, 'default', orders, ['orders.read']);
    const token = await a.s.tokenFor('default', client.id, client.secret, `${orders}/.default`);
    const jwks = createLocalJWKSet((await get(`${issuer}/.well-known/jwks.json`)).body as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { typ: 'at+jwt', issuer, audience: orders, algorithms: ['ES256'] });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, client.id);
  });
});
