import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { createPrincipal, expectStatus, startAdmin, type Admin, type CredentialView, type Page } from '../admin/helpers.js';
import {
  addKey,
  createResource,
  decodeParts,
  expectInvalidClient,
  expectIssued,
  expectOAuthError,
  JWT_BEARER,
  keyPair,
  LENIENT_THROTTLE,
  postToken,
  signAssertion,
  uniqueResourceId,
  type AssertionOptions,
  type KeyPair,
} from './helpers.js';
import { credentialStore } from '../../src/credentials/store.js';
import { newId } from '../../src/crypto/ids.js';
import { tenantStore } from '../../src/tenants/store.js';

describe('token endpoint: private_key_jwt (RFC 7523 §2.2)', () => {
  let a: Admin;
  let orders: string;
  let issuer: string;
  let tokenEndpoint: string;
  let clientId: string;
  let es256: KeyPair;
  let ed25519: KeyPair;
  let rs256: KeyPair;

  const form = (assertion: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    scope: `${orders}/.default`,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  });
  const send = (assertion: string, extra: Record<string, string> = {}) => postToken(a.s.url, 'default', form(assertion, extra));
  const assertion = (key: KeyPair, o: Partial<AssertionOptions> = {}) => signAssertion(key, { now: a.s.now(), clientId, aud: issuer, ...o });

  /** A service principal granted orders.read, holding the given keys. */
  async function keyClient(...keys: KeyPair[]): Promise<string> {
    const principal = await createPrincipal(a, 'default', { kind: 'service', displayName: 'key client' });
    for (const key of keys) await addKey(a, 'default', principal.id, key.publicJwk);
    expectStatus(await a.call('POST', '/tenants/default/grants', { principal: principal.id, resource: orders, role: 'orders.read' }), 201);
    return principal.id;
  }

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    issuer = `${a.s.url}/default`;
    tokenEndpoint = `${issuer}/oauth2/token`;
    orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    [es256, ed25519, rs256] = await Promise.all([keyPair('ES256'), keyPair('EdDSA'), keyPair('RS256')]);
    clientId = await keyClient(es256, ed25519, rs256);
  });
  after(() => a.close());

  it('an ES256 assertion with iss = sub = client_id and aud = issuer authenticates the client', async () => {
    const { payload } = decodeParts(expectIssued(await send(await assertion(es256))));
    assert.equal(payload.client_id, clientId);
    assert.equal(payload.sub, clientId);
  });

  it('aud = the token endpoint URL is accepted too', async () => {
    expectIssued(await send(await assertion(es256, { aud: tokenEndpoint })));
  });

  it('an EdDSA (Ed25519) assertion is accepted', async () => {
    expectIssued(await send(await assertion(ed25519, { kid: await calculateJwkThumbprint(ed25519.publicJwk) })));
  });

  it('an RS256 (2048-bit) assertion is accepted', async () => {
    expectIssued(await send(await assertion(rs256, { kid: await calculateJwkThumbprint(rs256.publicJwk) })));
  });

  it('without kid, the matching key is found among keys of other types (no 500)', async () => {
    expectIssued(await send(await assertion(ed25519)));
    expectIssued(await send(await assertion(rs256)));
  });

  it('a kid naming a registered key (by its own kid or its RFC 7638 thumbprint) selects it among several', async () => {
    const first = await keyPair('ES256');
    const second = await keyPair('ES256');
    const id = await keyClient({ ...first, publicJwk: { ...first.publicJwk, kid: 'key-one' } }, { ...second, publicJwk: { ...second.publicJwk, kid: 'key-two' } });
    expectIssued(await send(await assertion(second, { clientId: id, kid: 'key-two' })));
    expectIssued(await send(await assertion(first, { clientId: id, kid: 'key-one' })));
    expectIssued(await send(await assertion(second, { clientId: id, kid: await calculateJwkThumbprint(second.publicJwk) })));
    // A kid naming the other key: that key's signature check fails, so the client is refused.
    expectInvalidClient(await send(await assertion(first, { clientId: id, kid: 'key-two' })));
  });

  it('client_id in the body equal to the assertion subject is accepted; a different one is 401 invalid_client', async () => {
    expectIssued(await send(await assertion(es256), { client_id: clientId }));
    expectInvalidClient(await send(await assertion(es256), { client_id: randomUUID() }));
  });

  it('an aud that is neither the issuer nor the token endpoint is 401 invalid_client', async () => {
    expectInvalidClient(await send(await assertion(es256, { aud: 'https://elsewhere.example' })));
    expectInvalidClient(await send(await assertion(es256, { aud: `${a.s.url}/other-tenant` })));
  });

  it('a replayed jti is 401 invalid_client (RFC 7523 §3 item 7)', async () => {
    const jwt = await assertion(es256);
    expectIssued(await send(jwt));
    expectInvalidClient(await send(jwt));
    const jti = randomUUID();
    expectIssued(await send(await assertion(es256, { claims: { jti } })));
    expectInvalidClient(await send(await assertion(es256, { claims: { jti } })));
  });

  it('a missing jti is 401 invalid_client', async () => {
    expectInvalidClient(await send(await assertion(es256, { claims: { jti: undefined } })));
  });

  it('a missing exp is 401 invalid_client', async () => {
    expectInvalidClient(await send(await assertion(es256, { claims: { exp: undefined } })));
  });

  it('an exp more than 300 s ahead (too long a lifetime) is 401 invalid_client', async () => {
    const now = Math.floor(a.s.now() / 1000);
    expectInvalidClient(await send(await assertion(es256, { claims: { exp: now + 600 } })));
  });

  it('an expired assertion is 401 invalid_client', async () => {
    const now = Math.floor(a.s.now() / 1000);
    expectInvalidClient(await send(await assertion(es256, { claims: { iat: now - 120, exp: now - 60 } })));
  });

  it('an iat 2 minutes in the future is 401 invalid_client', async () => {
    const now = Math.floor(a.s.now() / 1000);
    expectInvalidClient(await send(await assertion(es256, { claims: { iat: now + 120, exp: now + 180 } })));
  });

  it('a wrong iss or sub is 401 invalid_client', async () => {
    expectInvalidClient(await send(await assertion(es256, { claims: { iss: randomUUID() } })));
    expectInvalidClient(await send(await assertion(es256, { claims: { sub: randomUUID(), iss: randomUUID() } })));
  });

  it('an assertion signed with an unregistered key is 401 invalid_client (same type and other types)', async () => {
    expectInvalidClient(await send(await assertion(await keyPair('ES256'))));
    expectInvalidClient(await send(await assertion(await keyPair('ES256'), { kid: await calculateJwkThumbprint(es256.publicJwk) })));
    const onlyEc = await keyClient(await keyPair('ES256'));
    expectInvalidClient(await send(await assertion(await keyPair('EdDSA'), { clientId: onlyEc })));
    expectInvalidClient(await send(await assertion(await keyPair('RS256'), { clientId: onlyEc })));
  });

  it('alg HS256 is 401 invalid_client', async () => {
    const now = Math.floor(a.s.now() / 1000);
    const jwt = await new SignJWT({ iss: clientId, sub: clientId, aud: issuer, iat: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a shared secret of more than thirty-two bytes'));
    expectInvalidClient(await send(jwt));
  });

  it('alg none is 401 invalid_client', async () => {
    const now = Math.floor(a.s.now() / 1000);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: clientId, sub: clientId, aud: issuer, iat: now, exp: now + 60, jti: randomUUID() })}.`;
    expectInvalidClient(await send(jwt));
  });

  it('a client_assertion that is not a JWT is 401 invalid_client', async () => {
    expectInvalidClient(await send('not.a.jwt'));
  });

  it('a wrong client_assertion_type is 400 invalid_request', async () => {
    expectOAuthError(await send(await assertion(es256), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }), 400, 'invalid_request');
  });

  it('client_assertion_type without client_assertion is 400 invalid_request', async () => {
    const { client_assertion: _, ...rest } = form('x');
    expectOAuthError(await postToken(a.s.url, 'default', rest), 400, 'invalid_request');
  });

  it('an assertion combined with client_secret is 400 invalid_request (one method only)', async () => {
    expectOAuthError(await send(await assertion(es256), { client_id: clientId, client_secret: 'sgn_anything' }), 400, 'invalid_request');
  });

  it('an assertion combined with Basic is 400 invalid_request (one method only)', async () => {
    const basic = `Basic ${Buffer.from(`${clientId}:x`).toString('base64')}`;
    expectOAuthError(await postToken(a.s.url, 'default', form(await assertion(es256)), { authorization: basic }), 400, 'invalid_request');
  });

  it('an expired key credential is 401 invalid_client', async () => {
    const key = await keyPair('ES256');
    const principal = await createPrincipal(a, 'default', { kind: 'service', displayName: 'expiring key' });
    await addKey(a, 'default', principal.id, key.publicJwk, { expiresAt: new Date(a.s.now() + 30_000).toISOString() });
    expectStatus(await a.call('POST', '/tenants/default/grants', { principal: principal.id, resource: orders, role: 'orders.read' }), 201);
    expectIssued(await send(await assertion(key, { clientId: principal.id })));
    a.s.advance(31_000);
    expectInvalidClient(await send(await assertion(key, { clientId: principal.id })));
  });

  it('a key stored on a managed identity (added before that was refused) does not authenticate it: 401 invalid_client', async () => {
    const key = await keyPair('ES256');
    const managed = await createPrincipal(a, 'default', { kind: 'managed', displayName: 'vm identity' });
    expectStatus(await a.call('POST', '/tenants/default/grants', { principal: managed.id, resource: orders, role: 'orders.read' }), 201);
    const tenant = await tenantStore.byName(a.s.signet.deps.db, 'default');
    const now = a.s.now();
    await credentialStore.insert(a.s.signet.deps.db, {
      id: newId(), tenantId: tenant?.id ?? '', principalId: managed.id, type: 'key', description: null, secretDigest: null,
      publicJwk: key.publicJwk, thumbprint: await calculateJwkThumbprint(key.publicJwk, 'sha256'), certificate: null, createdAt: now, expiresAt: null, lastUsedAt: null,
    });
    expectInvalidClient(await send(await assertion(key, { clientId: managed.id })));
  });

  it('a disabled principal cannot authenticate with its key', async () => {
    const key = await keyPair('ES256');
    const id = await keyClient(key);
    expectStatus(await a.call('POST', `/tenants/default/principals/${id}/disable`), 200);
    expectInvalidClient(await send(await assertion(key, { clientId: id })));
  });

  it('using a key records lastUsedAt on that credential only', async () => {
    const used = await keyPair('ES256');
    const unused = await keyPair('ES256');
    const id = await keyClient(used, unused);
    expectIssued(await send(await assertion(used, { clientId: id })));
    const thumbprint = await calculateJwkThumbprint(used.publicJwk);
    let items: CredentialView[] = [];
    for (let i = 0; i < 50; i += 1) {
      items = expectStatus(await a.call<Page<CredentialView>>('GET', `/tenants/default/principals/${id}/credentials`), 200).items;
      if (items.some((c) => c.lastUsedAt)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(typeof items.find((c) => c.thumbprint === thumbprint)?.lastUsedAt, 'string');
    assert.equal(items.find((c) => c.thumbprint !== thumbprint)?.lastUsedAt, null);
  });
});
