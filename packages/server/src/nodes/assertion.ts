import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { Deps } from '../context.js';
import { oauthErrors } from '../errors.js';
import { rememberJti } from '../oauth/replay.js';
import type { Tenant } from '../tenants/model.js';
import type { Node, NodeKey } from './model.js';
import { nodeStore } from './store.js';

/** Algorithms a node key may sign with (asymmetric only; `signet node` generates ES256 keys). */
export const NODE_ASSERTION_ALGS = ['ES256', 'EdDSA'] as const;
/** Longest accepted assertion lifetime, as for client assertions (RFC 7523 §3). */
const MAX_LIFETIME_S = 300;
/** FAPI 2.0: accept `iat`/`nbf` up to 10 s in the future. */
const CLOCK_TOLERANCE_S = 10;
/** Assertions record the node's last contact at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

export interface VerifiedNode {
  node: Node;
  key: NodeKey;
  payload: JWTPayload;
}

/**
 * Verifies a node assertion: a JWT signed by one of the node's registered, unexpired keys (header
 * `kid` = the key's RFC 7638 thumbprint), `iss` = the node id, `aud` one of `audiences`, `exp` at
 * most 5 minutes ahead, `jti` single-use (shared `used_jtis` table). The node must be active.
 * Every refusal is `invalid_client` with the failed check as its internal detail.
 */
export async function verifyNodeAssertion(deps: Deps, tenant: Tenant, assertion: string, audiences: string[]): Promise<VerifiedNode> {
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(assertion));
  } catch {
    throw oauthErrors.invalidClient('node assertion is not a JWT');
  }
  if (!alg || !(NODE_ASSERTION_ALGS as readonly string[]).includes(alg)) throw oauthErrors.invalidClient('node assertion alg is not ES256 or EdDSA');
  if (!kid) throw oauthErrors.invalidClient('node assertion has no kid');
  const now = deps.clock();
  const key = await nodeStore.key(deps.db, tenant.id, kid);
  if (!key) throw oauthErrors.invalidClient('node assertion kid is not a registered node key');
  if (key.expiresAt <= now) throw oauthErrors.invalidClient('node key has expired');
  const node = await nodeStore.get(deps.db, tenant.id, key.nodeId);
  if (!node || node.status !== 'active') throw oauthErrors.invalidClient(`node is ${node?.status ?? 'unknown'}`);

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, await importJWK(key.publicJwk, alg), {
      algorithms: [alg],
      issuer: node.id,
      audience: audiences,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'iat', 'jti'],
      maxTokenAge: `${MAX_LIFETIME_S + CLOCK_TOLERANCE_S}s`,
      currentDate: new Date(now),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw oauthErrors.invalidClient('node assertion has expired');
    if (error instanceof joseErrors.JWTClaimValidationFailed) throw oauthErrors.invalidClient(`node assertion claim ${error.claim} is invalid: ${error.reason}`);
    if (error instanceof joseErrors.JOSEError) throw oauthErrors.invalidClient(`node assertion is invalid (${error.code})`);
    throw error;
  }
  const exp = payload.exp as number;
  if (exp * 1000 > now + (MAX_LIFETIME_S + CLOCK_TOLERANCE_S) * 1000) throw oauthErrors.invalidClient(`node assertion lifetime exceeds ${MAX_LIFETIME_S} s`);
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw oauthErrors.invalidClient('node assertion jti is invalid');
  if (!(await rememberJti(deps.db, tenant.id, `node:${node.id}`, payload.jti, exp * 1000 + CLOCK_TOLERANCE_S * 1000))) {
    throw oauthErrors.invalidClient('node assertion jti was already used');
  }
  if ((node.lastSeenAt ?? 0) < now - TOUCH_INTERVAL_MS) {
    nodeStore.touch(deps.db, tenant.id, node.id, now).catch((error: unknown) => deps.log.warn({ err: error, nodeId: node.id }, 'could not record node contact'));
  }
  return { node, key, payload };
}
