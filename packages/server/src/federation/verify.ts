import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Deps } from '../context.js';
import { OAuthError } from '../errors.js';
import { ASSERTION_ALGS } from '../credentials/keys.js';
import type { Credential } from '../credentials/model.js';
import { credentialStore } from '../credentials/store.js';
import { rememberJti } from '../oauth/replay.js';
import { rulesFor } from '../principals/kinds.js';
import type { Principal } from '../principals/model.js';
import { principalStore } from '../principals/store.js';
import type { Tenant } from '../tenants/model.js';
import { type Candidate, CandidateIndex } from './candidates.js';
import { FetchRefused } from './fetch.js';
import { IssuerKeys } from './jwks-cache.js';

/**
 * Verifying an external token (a workload's OIDC token from GitHub Actions, Kubernetes, a cloud)
 * against the tenant's federated credentials. Used for `client_assertion` on the token endpoint
 * (oauth/client-auth/federated-jwt.ts) and meant for RFC 8693 `subject_token`s of type
 * `urn:ietf:params:oauth:token-type:jwt`. Every refusal names the check that failed; callers turn
 * it into `invalid_client` or `invalid_grant`.
 */
export type FederationCheck =
  | 'format' | 'alg' | 'issuer' | 'audience' | 'keys' | 'kid' | 'signature' | 'expired' | 'nbf' | 'iat'
  | 'age' | 'lifetime' | 'jti' | 'replay' | 'subject' | 'claims' | 'ambiguous' | 'principal' | 'credential';

export class FederationRefusal extends Error {
  override name = 'FederationRefusal';
  constructor(
    readonly check: FederationCheck,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The OAuth error for a refusal: `invalid_client` when the token was a client assertion,
 * `invalid_grant` when it was an RFC 8693 subject_token. The refusal is the cause, so the
 * token.refused audit event records which check failed (`data.federationCheck`).
 */
export function refusalAsOAuthError(refusal: FederationRefusal, code: 'invalid_client' | 'invalid_grant'): OAuthError {
  const description = code === 'invalid_client' ? 'client authentication failed' : 'the subject_token is not accepted';
  return new OAuthError(code, description, `federation check "${refusal.check}" failed: ${refusal.message}`, { cause: refusal });
}

export interface FederatedMatch {
  principal: Principal;
  credential: Credential;
  /** The external token's `iss`, `sub` and `jti` (when it has one), for the audit trail. */
  issuer: string;
  subject: string;
  jti: string | undefined;
  claims: JWTPayload;
}

export interface FederationContext {
  deps: Deps;
  tenant: Tenant;
}

/** Longest lifetime (exp - iat) of an external token accepted (with single use, its jti is remembered that long). */
const MAX_LIFETIME_S = 86_400;
const MAX_AUDIENCES = 10;
/** Prefix of the replay-cache key: jtis are unique per issuer, whichever principal a token is for. */
const REPLAY_PREFIX = 'iss:';


const issuerKeysByDeps = new WeakMap<Deps, IssuerKeys>();

/** The key cache of one Signet instance (one per Deps, so test servers in one process never share one). */
export function issuerKeysOf(deps: Deps): IssuerKeys {
  let keys = issuerKeysByDeps.get(deps);
  if (!keys) {
    keys = new IssuerKeys(deps.config.federation, deps.clock);
    issuerKeysByDeps.set(deps, keys);
  }
  return keys;
}

/** Federated credentials for one issuer + audience, indexed for matching, through the directory cache. */
function candidatesFor(ctx: FederationContext, issuer: string, audience: string): Promise<CandidateIndex> {
  return ctx.deps.cache.get(ctx.tenant.id, `federated:${issuer}\u0000${audience}`, async () => new CandidateIndex(await credentialStore.federatedFor(ctx.deps.db, ctx.tenant.id, issuer, audience)));
}

function unverified(token: string): { alg: string; kid: string | undefined; iss: string; aud: string[] } {
  let header;
  let payload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new FederationRefusal('format', 'the token is not a signed JWT');
  }
  const alg = header.alg ?? '';
  // Asymmetric algorithms only: `none` and HMAC (a public key used as an HMAC secret) are refused.
  if (!(ASSERTION_ALGS as readonly string[]).includes(alg)) throw new FederationRefusal('alg', `alg "${alg.slice(0, 20)}" is not accepted (asymmetric algorithms only)`);
  if (typeof payload.iss !== 'string' || payload.iss === '') throw new FederationRefusal('issuer', 'the token has no iss');
  const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.filter((a: unknown): a is string => typeof a === 'string') : [];
  if (aud.length === 0) throw new FederationRefusal('audience', 'the token has no aud');
  if (aud.length > MAX_AUDIENCES) throw new FederationRefusal('audience', `the token has more than ${MAX_AUDIENCES} audiences`);
  return { alg, kid: typeof header.kid === 'string' ? header.kid : undefined, iss: payload.iss, aud };
}

/** Why no credential was found: nothing trusts this issuer at all, or not with this audience. */
async function noCandidate(ctx: FederationContext, issuer: string, principalId: string | undefined): Promise<FederationRefusal> {
  let q = ctx.deps.db.selectFrom('credentials').select('id').where('tenant_id', '=', ctx.tenant.id).where('issuer', '=', issuer);
  if (principalId !== undefined) q = q.where('principal_id', '=', principalId);
  const any = await q.limit(1).executeTakeFirst();
  return any
    ? new FederationRefusal('audience', 'no federated credential trusts this issuer with the token\'s audience')
    : new FederationRefusal('issuer', 'no federated credential trusts this issuer');
}

function refusalOf(error: unknown): FederationRefusal {
  if (error instanceof FederationRefusal) return error;
  if (error instanceof FetchRefused) return new FederationRefusal('keys', `the issuer's keys could not be fetched: ${error.check}: ${error.message}`);
  if (error instanceof joseErrors.JWTExpired) {
    return error.claim === 'iat' ? new FederationRefusal('age', 'the token was issued longer ago than allowed (iat)') : new FederationRefusal('expired', 'the token has expired');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new FederationRefusal('nbf', 'the token is not valid yet (nbf)');
    if (error.claim === 'iat') return new FederationRefusal('iat', 'iat is missing or in the future');
    if (error.claim === 'jti') return new FederationRefusal('jti', 'the token has no jti');
    if (error.claim === 'sub') return new FederationRefusal('subject', 'the token has no sub');
    return new FederationRefusal('format', `claim ${error.claim} is invalid: ${error.message}`);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return new FederationRefusal('kid', 'no key of the issuer matches the token\'s kid and alg');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new FederationRefusal('signature', 'the signature does not verify');
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new FederationRefusal('alg', 'alg is not accepted');
  if (error instanceof joseErrors.JOSEError) return new FederationRefusal('format', `the token is invalid (${error.code})`);
  throw error;
}

/**
 * Verifies an external token and finds the federated credential (and so the principal) it proves.
 * `principalId` (a `client_id` the caller sent) restricts matching to that principal; without it
 * the token must match credentials of exactly one principal. With single use configured, success
 * spends the token's `jti`; otherwise the token is accepted again until it expires.
 * Throws FederationRefusal.
 */
export async function verifyFederatedToken(ctx: FederationContext, token: string, principalId?: string): Promise<FederatedMatch> {
  const { deps } = ctx;
  const { alg, kid, iss, aud } = unverified(token);
  const now = deps.clock();

  const indexes = await Promise.all(aud.map((a) => candidatesFor(ctx, iss, a)));
  const mine = (c: Candidate) => principalId === undefined || c.credential.principalId === principalId;
  const unexpired = (c: Candidate) => c.credential.expiresAt === null || c.credential.expiresAt > now;
  const all = indexes.flatMap((index) => index.all).filter(mine);
  if (all.length === 0) throw await noCandidate(ctx, iss, principalId);
  // Expiry is checked at use: an expired credential stops working at once.
  const live = all.filter(unexpired);
  if (live.length === 0) throw new FederationRefusal('credential', 'every federated credential for this issuer and audience has expired');

  // Key sources: OIDC discovery (shared by every credential without keys) or keys configured on
  // credentials (one source per distinct key set).
  const sources = new Map<string, { jwks: { keys: JWK[] } | null }>();
  for (const c of live) if (!sources.has(c.source)) sources.set(c.source, { jwks: c.credential.federation?.jwks ?? null });
  const verified = new Set<string>();
  let payload: JWTPayload | undefined;
  let lastRefusal: FederationRefusal | undefined;
  for (const [key, source] of sources) {
    try {
      payload = await verifyWith(ctx, token, alg, kid, iss, aud, source.jwks, now);
      verified.add(key);
    } catch (error) {
      lastRefusal = refusalOf(error);
    }
  }
  if (!payload) throw lastRefusal ?? new FederationRefusal('signature', 'the signature does not verify');
  const sub = payload.sub as string;
  const claims = payload;

  // Exact subjects first, then expressions, each in credential id order: deterministic.
  const matches = indexes.flatMap((index) => index.match(claims)).filter((c) => mine(c) && unexpired(c) && verified.has(c.source));
  if (matches.length === 0) {
    const bySubject = live.every((c) => c.expr === null);
    throw new FederationRefusal(bySubject ? 'subject' : 'claims', bySubject ? 'no federated credential names this subject' : 'no federated credential\'s subject or claims expression matches the token');
  }
  const principals = new Set(matches.map((m) => m.credential.principalId));
  if (principals.size > 1) throw new FederationRefusal('ambiguous', 'the token matches federated credentials of several principals; send client_id');
  const credential = (matches[0] as Candidate).credential;

  const principal = await deps.cache.get(ctx.tenant.id, `principal:${credential.principalId}`, () => principalStore.get(deps.db, ctx.tenant.id, credential.principalId));
  if (!principal || principal.status !== 'active') throw new FederationRefusal('principal', `principal is ${principal?.status ?? 'unknown'}`);
  if (!rulesFor(principal.kind).mayHoldFederated) throw new FederationRefusal('principal', `principals of kind ${principal.kind} cannot use federated credentials`);

  const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
  if (deps.config.federation.singleUse) {
    if (jti === undefined) throw new FederationRefusal('jti', 'the token has no jti');
    if (jti.length === 0 || jti.length > 256) throw new FederationRefusal('jti', 'jti is empty or too long');
    const exp = payload.exp as number;
    if (!(await rememberJti(deps.db, ctx.tenant.id, REPLAY_PREFIX + iss.slice(0, 400), jti, exp * 1000 + deps.config.federation.clockSkewSeconds * 1000))) {
      throw new FederationRefusal('replay', 'the token was already used (jti replay)');
    }
  }
  return { principal, credential, issuer: iss, subject: sub, jti: jti?.slice(0, 256), claims: payload };
}

/** Signature and the registered claims (RFC 7519 §4.1), with bounded skew and age. */
async function verifyWith(ctx: FederationContext, token: string, alg: string, kid: string | undefined, iss: string, audiences: readonly string[], configured: { keys: JWK[] } | null, now: number): Promise<JWTPayload> {
  const { federation } = ctx.deps.config;
  let keys: JWK[];
  if (configured) {
    // A configured key without a kid (PEM keys have none) may verify a token naming any kid.
    keys = configured.keys.map((k) => (k.kid === undefined && kid !== undefined ? { ...k, kid } : k));
  } else {
    const found = await issuerKeysOf(ctx.deps).keysFor(iss, kid);
    if (!found.kidKnown) throw new FederationRefusal('kid', `the issuer publishes no key with kid "${kid?.slice(0, 100)}"`);
    keys = found.keys;
  }
  const { payload } = await jwtVerify(token, createLocalJWKSet({ keys }), {
    algorithms: [alg],
    issuer: iss,
    audience: [...new Set(audiences)],
    clockTolerance: federation.clockSkewSeconds,
    maxTokenAge: federation.maxTokenAgeSeconds,
    requiredClaims: ['exp', 'iat', 'sub'],
    currentDate: new Date(now),
  });
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new FederationRefusal('subject', 'the token has no sub');
  if ((payload.exp as number) - (payload.iat as number) > MAX_LIFETIME_S) throw new FederationRefusal('lifetime', `the token lives longer than ${MAX_LIFETIME_S} s`);
  return payload;
}
