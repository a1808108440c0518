import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, exportJWK, importJWK, jwtVerify } from 'jose';
import { SIGNING_ALGS } from '../../src/config.js';
import { signAccessToken, type AccessTokenClaims } from '../../src/oauth/access-token.js';

const claims: AccessTokenClaims = {
  iss: 'https://id.example.com/default',
  sub: '01a220e0-2c79-7350-8b18-40af0b3b6eee',
  aud: 'api://orders',
  exp: 2_000_000_000,
  iat: 1_999_999_400,
  nbf: 1_999_999_400,
  jti: '01a220e9-d4b6-752a-a8fc-e8af94260032',
  client_id: '01a220e0-2c79-7350-8b18-40af0b3b6eee',
  tid: '01a220e0-28dd-73da-8d2a-aa0a5aac4761',
  kind: 'service',
  roles: ['orders.read', 'ünïcode'],
};

describe('access-token signing (node:crypto compact JWS, verified by jose)', () => {
  for (const alg of SIGNING_ALGS) {
    it(`${alg}: jose verifies the token with the public JWK, and the header is exactly {alg, kid, typ: at+jwt}`, async () => {
      const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = signAccessToken(claims, { kid: `kid-${alg}`, alg, key: pair.privateKey });
      const publicKey = await importJWK(await exportJWK(pair.publicKey), alg);
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: [alg], typ: 'at+jwt', currentDate: new Date(1_999_999_500_000) });
      assert.deepEqual(protectedHeader, { alg, kid: `kid-${alg}`, typ: 'at+jwt' });
      assert.deepEqual(payload, { ...claims });
      assert.deepEqual(decodeProtectedHeader(token), protectedHeader);
    });
  }

  it('a token with a flipped signature bit does not verify', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = signAccessToken(claims, { kid: 'k', alg: 'ES256', key: pair.privateKey });
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[0] = (sig[0] as number) ^ 1;
    const publicKey = await importJWK(await exportJWK(pair.publicKey), 'ES256');
    await assert.rejects(jwtVerify(`${h}.${p}.${sig.toString('base64url')}`, publicKey, { currentDate: new Date(1_999_999_500_000) }));
  });
});
