import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { oauthErrors } from '../errors.js';

/** RFC 9449 §5.1: the proof algorithms this server accepts (asymmetric only; never `none` or HMAC). */
export const DPOP_ALGS = ['ES256', 'EdDSA'] as const;
export const DPOP_TYP = 'dpop+jwt';
/** How old a proof may be (its `iat`); replayed `jti`s are remembered this long. */
export const DPOP_PROOF_MAX_AGE_S = 60;
/** FAPI 2.0: accept `iat` up to 10 s in the future. */
const CLOCK_TOLERANCE_S = 10;
/** JWK members that only a private (or symmetric) key has (RFC 7517 §4, RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What a verified proof establishes. */
export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: the `cnf.jkt` of a bound token. */
  jkt: string;
  jwk: JWK;
  jti: string;
  iat: number;
}

/** What the proof must fit. */
export interface ProofExpectations {
  /** The request's HTTP method (`htm`). */
  method: string;
  /** The request's URL (`htu`); compared without query and fragment after normalisation. */
  url: string;
  /** Epoch milliseconds. */
  now: number;
  /** When presenting an access token: `ath` must be its SHA-256 hash (RFC 9449 §4.2). */
  accessToken?: string | undefined;
  /** When the server requires nonces: true when `nonce` is one it issued and still accepts. */
  nonce?: ((nonce: string) => boolean) | undefined;
}

/**
 * The one `DPoP` request header, or undefined when there is none. RFC 9449 §4.3 check 1: more than
 * one is refused.
 */
export function dpopHeader(request: Pick<FastifyRequest, 'headers' | 'raw'>): string | undefined {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'dpop') count += 1;
  if (count > 1) throw oauthErrors.invalidDpopProof('send exactly one DPoP header');
  const value = request.headers.dpop;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** RFC 9449 §4.3 check 9 with RFC 3986 §6.2.2–6.2.3 normalisation: scheme, host, port, path. */
export function normalizeHtu(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(access token)): the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/**
 * Verifies a DPoP proof JWT (RFC 9449 §4.3) with jose: `typ`, an accepted asymmetric `alg`, a public
 * `jwk` header that verifies the signature, `jti`, `htm`, `htu`, `iat` within the accepted window,
 * `ath` when a token is presented, and the server nonce when one is required. Replay of `jti` is the
 * caller's check (it needs storage). Every refusal is `invalid_dpop_proof` except a missing or stale
 * nonce, which is `use_dpop_nonce` (RFC 9449 §8).
 */
export async function verifyDpopProof(proof: string, expect: ProofExpectations): Promise<DpopProof> {
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw oauthErrors.invalidDpopProof('the DPoP proof is not a JWS');
  }
  if (header.typ !== DPOP_TYP) throw oauthErrors.invalidDpopProof(`the DPoP proof typ must be ${DPOP_TYP}`);
  if (!header.alg || !(DPOP_ALGS as readonly string[]).includes(header.alg)) {
    throw oauthErrors.invalidDpopProof(`the DPoP proof alg must be one of ${DPOP_ALGS.join(', ')}`);
  }
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object') throw oauthErrors.invalidDpopProof('the DPoP proof has no jwk header');
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw oauthErrors.invalidDpopProof('the DPoP proof jwk must be a public key');

  let payload;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: DPOP_TYP, algorithms: [...DPOP_ALGS], currentDate: new Date(expect.now), clockTolerance: CLOCK_TOLERANCE_S }));
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw oauthErrors.invalidDpopProof('the DPoP proof signature does not verify with its jwk');
    if (error instanceof joseErrors.JOSEError) throw oauthErrors.invalidDpopProof(`the DPoP proof is invalid (${error.code})`, error.message);
    throw error;
  }

  const { jti, htm, htu, iat } = payload as { jti?: unknown; htm?: unknown; htu?: unknown; iat?: unknown };
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw oauthErrors.invalidDpopProof('the DPoP proof jti is missing or longer than 256 characters');
  if (htm !== expect.method) throw oauthErrors.invalidDpopProof(`the DPoP proof htm must be ${expect.method}`);
  const expectedHtu = normalizeHtu(expect.url);
  if (typeof htu !== 'string' || expectedHtu === undefined || normalizeHtu(htu) !== expectedHtu) {
    throw oauthErrors.invalidDpopProof('the DPoP proof htu does not match the request URL');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw oauthErrors.invalidDpopProof('the DPoP proof has no iat');
  const nowS = expect.now / 1000;
  if (iat > nowS + CLOCK_TOLERANCE_S) throw oauthErrors.invalidDpopProof('the DPoP proof iat is in the future');
  if (iat < nowS - DPOP_PROOF_MAX_AGE_S) throw oauthErrors.invalidDpopProof(`the DPoP proof is older than ${DPOP_PROOF_MAX_AGE_S} s`);

  if (expect.accessToken !== undefined) {
    if (payload.ath !== accessTokenHash(expect.accessToken)) throw oauthErrors.invalidDpopProof('the DPoP proof ath does not match the access token');
  }
  if (expect.nonce) {
    if (typeof payload.nonce !== 'string') throw oauthErrors.useDpopNonce('the authorization server requires a nonce in the DPoP proof');
    if (!expect.nonce(payload.nonce)) throw oauthErrors.useDpopNonce('the DPoP proof nonce is unknown or stale');
  }
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), jwk, jti, iat };
}

/** A bound token's key must be the proof's key (RFC 9449 §7.1; refresh tokens: §5). */
export function requireSameKey(proof: DpopProof, jkt: string): void {
  if (proof.jkt !== jkt) throw oauthErrors.invalidDpopProof('the DPoP proof key is not the key the token is bound to');
}

/** What a resource server received: method, full URL, and the two headers that matter. */
export interface BoundTokenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  dpop: string | undefined;
}

/**
 * For resource servers (RFC 9449 §7.1): checks that a DPoP-bound access token is presented with
 * `Authorization: DPoP <token>` and a proof for this request whose `ath` is the token's hash and
 * whose key is the one in the token's `cnf.jkt`. The token's own signature and claims must already
 * be verified (e.g. with jose against the tenant's JWKS); remembering proof `jti`s is the resource
 * server's part. Returns the verified proof; throws `invalid_dpop_proof` otherwise.
 */
export async function verifyDpopBoundToken(request: BoundTokenRequest, claims: { cnf?: { jkt?: unknown } }, now: number = Date.now()): Promise<DpopProof> {
  const match = request.authorization === undefined ? null : /^DPoP ([A-Za-z0-9._~+/-]+=*)$/.exec(request.authorization);
  if (!match?.[1]) throw oauthErrors.invalidDpopProof('a DPoP-bound token is presented as Authorization: DPoP <token>');
  const jkt = claims.cnf?.jkt;
  if (typeof jkt !== 'string') throw oauthErrors.invalidDpopProof('the token is not DPoP-bound');
  if (request.dpop === undefined) throw oauthErrors.invalidDpopProof('a DPoP-bound token needs a DPoP proof');
  const proof = await verifyDpopProof(request.dpop, { method: request.method, url: request.url, now, accessToken: match[1] });
  requireSameKey(proof, jkt);
  return proof;
}
