// Compact JWS with node:crypto only (no library in the load generator or the limit server).
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';

export const b64u = (data) => Buffer.from(data).toString('base64url');

/** A fresh P-256 key pair, with the public half as a JWK. */
export function es256KeyPair(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), ...(kid ? { kid } : {}), alg: 'ES256', use: 'sig' };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), ...(kid ? { kid } : {}), alg: 'ES256', use: 'sig' };
  return { privateKey, publicKey, publicJwk, privateJwk };
}

/** Signs `payload` with ES256 (IEEE P1363 signature, as JWS requires). `headerB64` may be precomputed. */
export function signEs256(payload, privateKey, header) {
  const headerB64 = typeof header === 'string' ? header : b64u(JSON.stringify(header));
  const input = `${headerB64}.${b64u(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) };
}

/** Verifies an ES256/EdDSA/RS256 compact JWS against a JWK set; returns the kid that verified, or null. */
export function verifyJwt(token, jwks) {
  const [h, p, s] = token.split('.');
  const { header } = decodeJwt(token);
  const candidates = jwks.keys.filter((k) => !header.kid || k.kid === header.kid);
  for (const jwk of candidates) {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const data = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s, 'base64url');
    const ok =
      header.alg === 'ES256'
        ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
        : header.alg === 'EdDSA'
          ? verify(null, data, key, sig)
          : verify('sha256', data, key, sig);
    if (ok) return jwk.kid ?? '(no kid)';
  }
  return null;
}

/**
 * A source of private_key_jwt client assertions (RFC 7523), each with a unique jti: a random
 * per-process prefix plus a counter, so runs and load-generator processes never collide.
 */
export function assertionFactory({ clientId, audience, privateKey, kid, lifetimeSeconds = 120 }) {
  const headerB64 = b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', ...(kid ? { kid } : {}) }));
  const prefix = randomBytes(9).toString('base64url');
  let counter = 0;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    counter += 1;
    return signEs256({ iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + lifetimeSeconds, jti: `${prefix}.${counter}` }, privateKey, headerB64);
  };
}

/**
 * A source of workload tokens from an external issuer (workload identity federation): ES256,
 * `iss` = the issuer, the given `sub`/claims, a unique jti per token, as GitHub Actions or a
 * Kubernetes API server would mint them.
 */
export function externalTokenFactory({ issuer, audience, claims, privateKey, kid, lifetimeSeconds = 300 }) {
  const headerB64 = b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
  const prefix = randomBytes(9).toString('base64url');
  let counter = 0;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    counter += 1;
    return signEs256({ iss: issuer, aud: audience, iat: now, nbf: now, exp: now + lifetimeSeconds, jti: `${prefix}.${counter}`, ...claims }, privateKey, headerB64);
  };
}
