import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { auditEvents, createPrincipal, addSecret, expectStatus, grant, type Admin, type TenantView } from '../admin/helpers.js';
import { startAdmin } from '../admin/helpers.js';
import { verifyDpopBoundToken } from '../../src/oauth/dpop.js';
import { OAuthError } from '../../src/errors.js';
import { dpopKey, dpopProof, postTokenWithDpop, type DpopKey } from './dpop-helpers.js';
import { basicAuth, createResource, decodeParts, expectIssued, expectOAuthError, LENIENT_THROTTLE, postToken, secretClient, uniqueResourceId, type SecretClient, type TokenResponse } from './helpers.js';

describe('token endpoint: DPoP (RFC 9449)', () => {
  let a: Admin;
  let orders: string;
  let client: SecretClient;
  let key: DpopKey;
  let htu: string;
  const form = () => ({ grant_type: 'client_credentials', scope: `${orders}/.default` });
  const auth = (c: SecretClient = client) => ({ authorization: basicAuth(c.id, c.secret) });
  const withProof = (proof: string, c: SecretClient = client) => postToken(a.s.url, 'default', form(), { ...auth(c), dpop: proof });
  /** A nonce the server currently accepts (from its use_dpop_nonce answer). */
  const freshNonce = async (): Promise<string> => {
    const res = await withProof(await dpopProof(key, { htu, now: a.s.now() }));
    expectOAuthError(res, 400, 'use_dpop_nonce');
    const nonce = res.headers.get('dpop-nonce');
    assert.ok(nonce);
    return nonce;
  };

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    client = await secretClient(a, 'default', orders, ['orders.read']);
    key = await dpopKey('ES256');
    htu = `${a.s.url}/default/oauth2/token`;
  });
  after(() => a.close());

  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`an ${alg} proof with the server nonce gets token_type DPoP bound by cnf.jkt = RFC 7638 thumbprint`, async () => {
      const k = await dpopKey(alg);
      const res = await postTokenWithDpop({ url: a.s.url, tenant: 'default', form: form(), headers: auth(), key: k, now: a.s.now });
      const token = expectIssued(res);
      assert.equal(res.body.token_type, 'DPoP');
      assert.ok(res.headers.get('dpop-nonce'), 'a fresh nonce comes with the token');
      const jwks = createRemoteJWKSet(new URL(`${a.s.url}/default/.well-known/jwks.json`));
      const { payload } = await jwtVerify(token, jwks, { issuer: `${a.s.url}/default`, audience: orders, typ: 'at+jwt', currentDate: new Date(a.s.now()) });
      assert.deepEqual(payload.cnf, { jkt: k.jkt });
    });
  }

  it('the first proof without a nonce gets 400 use_dpop_nonce with a DPoP-Nonce header (RFC 9449 §8)', async () => {
    const res = await withProof(await dpopProof(key, { htu, now: a.s.now() }));
    expectOAuthError(res, 400, 'use_dpop_nonce');
    assert.match(res.headers.get('dpop-nonce') ?? '', /^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('a nonce two windows old is stale: use_dpop_nonce again, with a new nonce', async () => {
    const old = await freshNonce();
    a.s.advance(125_000);
    const res = await withProof(await dpopProof(key, { htu, now: a.s.now(), nonce: old }));
    expectOAuthError(res, 400, 'use_dpop_nonce');
    assert.notEqual(res.headers.get('dpop-nonce'), old);
  });

  it('a forged nonce is refused: use_dpop_nonce', async () => {
    const nonce = await freshNonce();
    const forged = `${nonce.split('.')[0]}.${'A'.repeat(43)}`;
    expectOAuthError(await withProof(await dpopProof(key, { htu, now: a.s.now(), nonce: forged })), 400, 'use_dpop_nonce');
  });

  it('a replayed proof is refused: invalid_dpop_proof', async () => {
    const proof = await dpopProof(key, { htu, now: a.s.now(), nonce: await freshNonce() });
    expectIssued(await withProof(proof));
    expectOAuthError(await withProof(proof), 400, 'invalid_dpop_proof');
  });

  it('wrong htm is refused: invalid_dpop_proof', async () => {
    const proof = await dpopProof(key, { htu, htm: 'GET', now: a.s.now(), nonce: await freshNonce() });
    expectOAuthError(await withProof(proof), 400, 'invalid_dpop_proof');
  });

  it('wrong htu (another path, another host) is refused: invalid_dpop_proof', async () => {
    const nonce = await freshNonce();
    for (const other of [`${a.s.url}/default/oauth2/introspect`, htu.replace('127.0.0.1', 'localhost'), `${a.s.url}/other/oauth2/token`]) {
      expectOAuthError(await withProof(await dpopProof(key, { htu: other, now: a.s.now(), nonce })), 400, 'invalid_dpop_proof');
    }
  });

  it('htu is compared after normalisation and without query or fragment (RFC 9449 §4.3)', async () => {
    const nonce = await freshNonce();
    const variant = `${htu.replace('http://', 'HTTP://')}?x=1#frag`;
    expectIssued(await withProof(await dpopProof(key, { htu: variant, now: a.s.now(), nonce })));
  });

  it('a proof signed by another key than its jwk header is refused: invalid_dpop_proof', async () => {
    const other = await dpopKey('ES256');
    const proof = await dpopProof(other, { htu, now: a.s.now(), nonce: await freshNonce(), header: { jwk: key.publicJwk } });
    expectOAuthError(await withProof(proof), 400, 'invalid_dpop_proof');
  });

  it('alg none and HS256 proofs are refused: invalid_dpop_proof', async () => {
    const nonce = await freshNonce();
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = enc({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(a.s.now() / 1000), nonce });
    const none = `${enc({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${claims}.`;
    expectOAuthError(await withProof(none), 400, 'invalid_dpop_proof');
    const hsHeader = enc({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } });
    const hs = `${hsHeader}.${claims}.${createHmac('sha256', 'secret').update(`${hsHeader}.${claims}`).digest('base64url')}`;
    expectOAuthError(await withProof(hs), 400, 'invalid_dpop_proof');
  });

  it('typ other than dpop+jwt, a private jwk, a missing jti or an old or future iat are refused: invalid_dpop_proof', async () => {
    const nonce = await freshNonce();
    const now = a.s.now();
    const { privateKey } = key;
    const privateJwk = { ...key.publicJwk, d: 'AAAA' };
    const proofs = [
      await dpopProof(key, { htu, now, nonce, header: { typ: 'JWT' } }),
      await dpopProof({ ...key, privateKey }, { htu, now, nonce, header: { jwk: privateJwk } }),
      await dpopProof(key, { htu, now, nonce, claims: { jti: undefined } }),
      await dpopProof(key, { htu, now: now - 120_000, nonce }),
      await dpopProof(key, { htu, now: now + 60_000, nonce }),
    ];
    for (const proof of proofs) expectOAuthError(await withProof(proof), 400, 'invalid_dpop_proof');
  });

  it('two DPoP headers are refused: invalid_dpop_proof (RFC 9449 §4.3)', async () => {
    const nonce = await freshNonce();
    const one = await dpopProof(key, { htu, now: a.s.now(), nonce });
    const two = await dpopProof(key, { htu, now: a.s.now(), nonce });
    const body = new URLSearchParams(form()).toString();
    const res = await new Promise<TokenResponse>((resolve, reject) => {
      const req = httpRequest(`${htu}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth(), dpop: [one, two] } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expectOAuthError(res, 400, 'invalid_dpop_proof');
  });

  it('a principal that requires DPoP gets no bearer token: invalid_request; with a proof, a DPoP token', async () => {
    const principal = await createPrincipal(a, 'default', { kind: 'service', displayName: 'dpop-only', requireDpop: true });
    assert.equal(principal.requireDpop, true);
    const bound: SecretClient = { id: principal.id, secret: await addSecret(a, 'default', principal.id) };
    await grant(a, 'default', bound.id, orders, 'orders.read');
    expectOAuthError(await postToken(a.s.url, 'default', form(), auth(bound)), 400, 'invalid_request');
    const res = await postTokenWithDpop({ url: a.s.url, tenant: 'default', form: form(), headers: auth(bound), key, now: a.s.now });
    expectIssued(res);
    assert.equal(res.body.token_type, 'DPoP');
  });

  it('token.issued records the bound key thumbprint', async () => {
    const token = expectIssued(await postTokenWithDpop({ url: a.s.url, tenant: 'default', form: form(), headers: auth(), key, now: a.s.now }));
    const tenantId = expectStatus(await a.call<TenantView>('GET', '/tenants/default'), 200).id;
    const event = (await auditEvents(a, tenantId)).find((e) => e.jti === decodeParts(token).payload.jti);
    assert.ok(event);
    assert.equal(event.type, 'token.issued');
    assert.equal(event.data.cnfJkt, key.jkt);
  });

  it('verifyDpopBoundToken accepts the bound token with a proof of its key and ath; refuses another key, a wrong ath, the Bearer scheme', async () => {
    const token = expectIssued(await postTokenWithDpop({ url: a.s.url, tenant: 'default', form: form(), headers: auth(), key, now: a.s.now }));
    const claims = decodeParts(token).payload as { cnf?: { jkt?: unknown } };
    const api = 'https://orders.example/v1/orders';
    const now = a.s.now();
    const good = { method: 'GET', url: `${api}?page=2`, authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: api, now, accessToken: token }) };
    assert.equal((await verifyDpopBoundToken(good, claims, now)).jkt, key.jkt);

    const other = await dpopKey('EdDSA');
    const refusals = [
      { ...good, dpop: await dpopProof(other, { htm: 'GET', htu: api, now, accessToken: token }) },
      { ...good, dpop: await dpopProof(key, { htm: 'GET', htu: api, now, accessToken: `${token}x` }) },
      { ...good, dpop: await dpopProof(key, { htm: 'GET', htu: api, now }) },
      { ...good, authorization: `Bearer ${token}` },
      { ...good, dpop: undefined },
    ];
    for (const request of refusals) {
      await assert.rejects(verifyDpopBoundToken(request, claims, now), (error: unknown) => error instanceof OAuthError && error.error === 'invalid_dpop_proof');
    }
  });
});

describe('token endpoint: DPoP with SIGNET_DPOP_NONCE=off', () => {
  let a: Admin;
  before(async () => {
    a = await startAdmin({ SIGNET_DPOP_NONCE: 'off' });
  });
  after(() => a.close());

  it('a proof without a nonce is accepted and binds the token; no DPoP-Nonce header is sent', async () => {
    const orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    const client = await secretClient(a, 'default', orders, ['orders.read']);
    const key = await dpopKey('EdDSA');
    const htu = `${a.s.url}/default/oauth2/token`;
    const res = await postToken(a.s.url, 'default', { grant_type: 'client_credentials', scope: `${orders}/.default` }, { authorization: basicAuth(client.id, client.secret), dpop: await dpopProof(key, { htu, now: a.s.now() }) });
    assert.deepEqual(decodeParts(expectIssued(res)).payload.cnf, { jkt: key.jkt });
    assert.equal(res.body.token_type, 'DPoP');
    assert.equal(res.headers.get('dpop-nonce'), null);
  });
});
