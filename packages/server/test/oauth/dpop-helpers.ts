import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { postToken, type TokenResponse } from './helpers.js';

/** A client's DPoP key pair (RFC 9449). */
export interface DpopKey {
  alg: 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 thumbprint: what `cnf.jkt` of a bound token must be. */
  jkt: string;
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  return { alg, privateKey: pair.privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export interface ProofOptions {
  htm?: string;
  htu: string;
  /** Server time in ms (the test server's movable clock). */
  now: number;
  nonce?: string;
  /** The access token presented with the proof (sets `ath`). */
  accessToken?: string;
  /** Claims to set or, with `undefined`, to leave out. */
  claims?: Record<string, unknown>;
  /** Header members to set or override (e.g. another `jwk`, `typ`). */
  header?: Record<string, unknown>;
}

/** A DPoP proof JWT with sane defaults: htm POST, fresh jti, iat now, the key's public jwk. */
export async function dpopProof(key: DpopKey, o: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: o.htm ?? 'POST', htu: o.htu, iat: Math.floor(o.now / 1000) };
  if (o.nonce !== undefined) claims.nonce = o.nonce;
  if (o.accessToken !== undefined) claims.ath = createHash('sha256').update(o.accessToken).digest('base64url');
  Object.assign(claims, o.claims);
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...o.header } as never).sign(key.privateKey);
}

export interface DpopTokenRequest {
  url: string;
  tenant: string;
  form: Record<string, string>;
  headers?: Record<string, string>;
  key: DpopKey;
  now: () => number;
  /** A nonce from an earlier response; without one the server's `use_dpop_nonce` answer supplies it. */
  nonce?: string;
}

/**
 * A token request with a DPoP proof that follows the nonce protocol (RFC 9449 §8): on
 * `use_dpop_nonce` it retries once with the `DPoP-Nonce` the server sent.
 */
export async function postTokenWithDpop(r: DpopTokenRequest): Promise<TokenResponse> {
  const htu = `${r.url}/${r.tenant}/oauth2/token`;
  const send = async (nonce: string | undefined) =>
    postToken(r.url, r.tenant, r.form, { ...r.headers, dpop: await dpopProof(r.key, { htu, now: r.now(), ...(nonce ? { nonce } : {}) }) });
  const first = await send(r.nonce);
  const nonce = first.headers.get('dpop-nonce');
  if (first.status === 400 && first.body?.error === 'use_dpop_nonce' && nonce) return send(nonce);
  return first;
}
