import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ocsfClassOf } from '../../src/audit/ocsf.js';
import { OAuthError } from '../../src/errors.js';
import { accessTokenHash, normalizeHtu, verifyDpopProof } from '../../src/oauth/dpop.js';
import { DPOP_NONCE_WINDOW_MS, DpopNonces } from '../../src/oauth/dpop-nonce.js';
import { dpopKey, dpopProof } from '../oauth/dpop-helpers.js';

const rejectsWith = (promise: Promise<unknown>, code: string) => assert.rejects(promise, (e: unknown) => e instanceof OAuthError && e.error === code);

describe('DPoP (RFC 9449) building blocks', () => {
  it('htu normalisation: case of scheme and host, default port, dot segments; query and fragment dropped; non-http refused', () => {
    assert.equal(normalizeHtu('HTTPS://Signet.Example:443/t/./oauth2/token?x=1#f'), 'https://signet.example/t/oauth2/token');
    assert.equal(normalizeHtu('http://127.0.0.1:8080/t/oauth2/token'), 'http://127.0.0.1:8080/t/oauth2/token');
    assert.notEqual(normalizeHtu('https://signet.example/t/oauth2/token'), normalizeHtu('https://signet.example/t/oauth2/token/'));
    assert.equal(normalizeHtu('ftp://signet.example/x'), undefined);
    assert.equal(normalizeHtu('not a url'), undefined);
  });

  it('ath is base64url(SHA-256(token)) (RFC 9449 §4.2 example)', () => {
    assert.equal(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('nonces: valid in their window and the next, then stale; bound to the tenant and the key; forgeries refused', () => {
    let now = 1_700_000_000_000;
    const key = randomBytes(32);
    const nonces = new DpopNonces(key, () => now);
    const nonce = nonces.current('t1');
    assert.equal(nonces.isValid('t1', nonce), true);
    assert.equal(nonces.isValid('t2', nonce), false, 'another tenant');
    assert.equal(new DpopNonces(randomBytes(32), () => now).isValid('t1', nonce), false, 'another master key');
    now += DPOP_NONCE_WINDOW_MS;
    assert.equal(nonces.isValid('t1', nonce), true, 'the next window still accepts it');
    now += DPOP_NONCE_WINDOW_MS;
    assert.equal(nonces.isValid('t1', nonce), false, 'two windows on it is stale');
    const current = nonces.current('t1');
    assert.equal(nonces.isValid('t1', `${current.slice(0, -1)}${current.endsWith('A') ? 'B' : 'A'}`), false);
    assert.equal(nonces.isValid('t1', 'garbage'), false);
  });

  it('verifyDpopProof: exact outcome for a good proof, and the error code for each broken part', async () => {
    const key = await dpopKey('EdDSA');
    const now = Date.now();
    const htu = 'https://signet.example/t/oauth2/token';
    const expect = { method: 'POST', url: htu, now };
    const good = await verifyDpopProof(await dpopProof(key, { htu, now }), expect);
    assert.equal(good.jkt, key.jkt);

    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now }), { ...expect, nonce: () => true }), 'use_dpop_nonce');
    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now, nonce: 'n' }), { ...expect, nonce: () => false }), 'use_dpop_nonce');
    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now }), { ...expect, accessToken: 'token' }), 'invalid_dpop_proof');
    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now, claims: { htm: undefined } }), expect), 'invalid_dpop_proof');
    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now, claims: { iat: undefined } }), expect), 'invalid_dpop_proof');
    await rejectsWith(verifyDpopProof(await dpopProof(key, { htu, now, header: { jwk: undefined } }), expect), 'invalid_dpop_proof');
    await rejectsWith(verifyDpopProof('a.b.c', expect), 'invalid_dpop_proof');
  });

  it('token.exchanged is an OCSF Authentication Ticket like token.issued', () => {
    const { cls, activity } = ocsfClassOf('token.exchanged');
    assert.equal(cls.uid, 3002);
    assert.deepEqual(activity, [3, 'Authentication Ticket']);
  });
});
