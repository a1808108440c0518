import { decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';
import { ASSERTION_ALGS } from '../../credentials/keys.js';
import type { Credential } from '../../credentials/model.js';
import { oauthErrors } from '../../errors.js';
import type { Params } from '../params.js';
import { rememberJti } from '../replay.js';
import { type AuthenticatedClient, type ClientAuthContext, liveCredentials, loadClient, touchCredential } from './client.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Longest accepted assertion lifetime (RFC 7523 §3: exp "within a reasonable amount of time"). */
const MAX_ASSERTION_LIFETIME_S = 300;
/** FAPI 2.0: accept `iat`/`nbf` up to 10 s in the future. */
const CLOCK_TOLERANCE_S = 10;

function keysFor(credentials: Credential[], kid: string | undefined): Credential[] {
  if (!kid) return credentials;
  const named = credentials.filter((c) => c.publicJwk?.kid === kid || c.thumbprint === kid);
  return named.length > 0 ? named : credentials;
}

/** private_key_jwt (RFC 7523 §2.2, OIDC Core §9): a JWT signed by a key registered on the principal. */
export async function authenticateWithAssertion(ctx: ClientAuthContext, params: Params): Promise<AuthenticatedClient> {
  if (params.client_assertion_type !== JWT_BEARER_ASSERTION) {
    throw oauthErrors.invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  }
  const assertion = params.client_assertion;
  if (!assertion) throw oauthErrors.invalidRequest('client_assertion is missing');

  let claimedClient: unknown;
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    claimedClient = decodeJwt(assertion).sub;
    ({ kid, alg } = decodeProtectedHeader(assertion));
  } catch {
    throw oauthErrors.invalidClient('client_assertion is not a JWT');
  }
  if (!alg || !(ASSERTION_ALGS as readonly string[]).includes(alg)) throw oauthErrors.invalidClient('client_assertion alg is not an accepted asymmetric algorithm');
  if (typeof claimedClient !== 'string') throw oauthErrors.invalidClient('client_assertion has no sub');
  if (params.client_id !== undefined && params.client_id !== claimedClient) throw oauthErrors.invalidClient('client_id does not match the assertion subject');

  const principal = await loadClient(ctx, claimedClient);
  const live = await liveCredentials(ctx, principal, 'key');
  if (live.length === 0) throw oauthErrors.invalidClient('client has no unexpired key');
  const candidates = keysFor(live, kid).flatMap((credential) => (credential.publicJwk && keyFits(credential.publicJwk, alg as string) ? [{ credential, jwk: credential.publicJwk }] : []));

  const now = ctx.deps.clock();
  for (const { credential, jwk } of candidates) {
    let payload;
    try {
      const key = await importedKey(jwk, alg);
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: [alg],
        issuer: principal.id,
        subject: principal.id,
        audience: [ctx.endpoints.issuer, ctx.endpoints.token],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (error instanceof joseErrors.JWTExpired) throw oauthErrors.invalidClient('client_assertion has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw oauthErrors.invalidClient(`client_assertion claim ${error.claim} is invalid: ${error.reason}`);
      if (error instanceof joseErrors.JOSEError) throw oauthErrors.invalidClient(`client_assertion is invalid (${error.code})`);
      throw error;
    }
    const exp = payload.exp as number;
    if (exp * 1000 > now + (MAX_ASSERTION_LIFETIME_S + CLOCK_TOLERANCE_S) * 1000) {
      throw oauthErrors.invalidClient(`client_assertion lifetime exceeds ${MAX_ASSERTION_LIFETIME_S} s`);
    }
    if (typeof payload.iat === 'number' && payload.iat * 1000 > now + CLOCK_TOLERANCE_S * 1000) {
      throw oauthErrors.invalidClient('client_assertion iat is in the future');
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw oauthErrors.invalidClient('client_assertion jti is invalid');
    if (!(await rememberJti(ctx.deps.db, ctx.tenant.id, principal.id, payload.jti, exp * 1000 + CLOCK_TOLERANCE_S * 1000))) {
      throw oauthErrors.invalidClient('client_assertion jti was already used');
    }
    touchCredential(ctx, credential);
    return { principal, credential, method: 'private_key_jwt' };
  }
  throw oauthErrors.invalidClient('client_assertion signature does not match any registered key');
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Imported keys, per registered JWK object and algorithm. The JWK objects come from the directory
 * cache, so an entry lives exactly as long as the cached credential it belongs to.
 */
const importedKeys = new WeakMap<JWK, Map<string, Promise<VerifyKey>>>();

function importedKey(jwk: JWK, alg: string): Promise<VerifyKey> {
  let byAlg = importedKeys.get(jwk);
  if (!byAlg) {
    byAlg = new Map();
    importedKeys.set(jwk, byAlg);
  }
  let key = byAlg.get(alg);
  if (!key) {
    key = importJWK(jwk, alg);
    // A key that fails to import is not remembered: the error surfaces on every attempt.
    key.catch(() => byAlg.delete(alg));
    byAlg.set(alg, key);
  }
  return key;
}

/**
 * Whether a registered key can verify `alg`: the key type and curve must fit, and a key registered
 * with an `alg` verifies only that algorithm (no RS256 key accepted as PS256).
 */
function keyFits(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  switch (jwk.kty) {
    case 'EC':
      return ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg] === jwk.crv;
    case 'OKP':
      return (alg === 'EdDSA' || alg === 'Ed25519') && jwk.crv === 'Ed25519';
    case 'RSA':
      return /^(RS|PS)(256|384|512)$/.test(alg);
    default:
      return false;
  }
}
