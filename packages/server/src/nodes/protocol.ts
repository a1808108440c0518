import type { FastifyRequest } from 'fastify';
import { errors as joseErrors, importJWK, jwtVerify } from 'jose';
import type { AuditActor, AuditEventInput } from '../audit/model.js';
import { AuditUnavailable } from '../audit/writer.js';
import type { Deps } from '../context.js';
import { parsePublicJwk, type ParsedKey } from '../credentials/keys.js';
import { newId } from '../crypto/ids.js';
import { changeDirectory } from '../db/directory-change.js';
import { ApiError, OAuthError, oauthErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import { principalStore } from '../principals/store.js';
import type { Tenant } from '../tenants/model.js';
import { verifyNodeAssertion } from './assertion.js';
import type { Node, NodeKey } from './model.js';
import { JOIN_TOKEN_PREFIX } from './service.js';
import { nodeStore } from './store.js';

/** After a node registers its next key, the previous one keeps working this long (requests in flight). */
export const NODE_KEY_OVERLAP_MS = 5 * 60_000;

export interface NodeEndpoints {
  join: string;
  keys: string;
  identities: string;
}

export function nodeEndpointsFor(issuer: string): NodeEndpoints {
  return { join: `${issuer}/nodes/join`, keys: `${issuer}/nodes/keys`, identities: `${issuer}/nodes/identities` };
}

function source(request: FastifyRequest) {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : undefined, requestId: request.id };
}

/** Node keys: P-256 or Ed25519 public keys, nothing else (the node generates them). */
async function nodePublicKey(jwk: unknown): Promise<ParsedKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw oauthErrors.invalidRequest('jwk must be a public JWK object');
  const crv = (jwk as { crv?: unknown }).crv;
  if (crv !== 'P-256' && crv !== 'Ed25519') throw oauthErrors.invalidRequest('node keys must be EC P-256 or Ed25519');
  try {
    return await parsePublicJwk(jwk as Record<string, unknown>);
  } catch (error) {
    if (error instanceof ApiError) throw oauthErrors.invalidRequest(error.message);
    throw error;
  }
}

/** A join proof may be this old (like client assertions, RFC 7523 §3), with FAPI's 10 s of clock skew. */
const PROOF_MAX_AGE_S = 300;

/**
 * Proof of possession at join: `proof` is a JWT signed by the private half of the key being
 * registered, for the join endpoint, fresh. Without it anyone holding a join token could register a
 * public key someone else owns.
 */
async function verifyJoinProof(deps: Deps, proof: string, key: ParsedKey, audience: string): Promise<void> {
  const alg = key.jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  try {
    await jwtVerify(proof, await importJWK(key.jwk, alg), {
      algorithms: [alg],
      audience,
      requiredClaims: ['iat', 'exp', 'jti'],
      maxTokenAge: `${PROOF_MAX_AGE_S}s`,
      clockTolerance: 10,
      currentDate: new Date(deps.clock()),
    });
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw oauthErrors.invalidRequest('proof must be a fresh JWT signed by the key being registered, for the join endpoint', `join proof: ${error.code}`);
    throw error;
  }
}

function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 8192) throw oauthErrors.invalidRequest(`${name} is missing`);
  return value;
}

/** Records a refusal; when the audit store cannot write, the request gets 503 instead (fail closed). */
async function recordRefusal(deps: Deps, event: AuditEventInput): Promise<void> {
  try {
    await deps.audit.record(event);
  } catch (error) {
    if (error instanceof AuditUnavailable) throw oauthErrors.temporarilyUnavailable('audit store unavailable');
    throw error;
  }
}

async function refusing<T>(deps: Deps, tenant: Tenant, request: FastifyRequest, type: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OAuthError && error.status !== 503) {
      await recordRefusal(deps, { tenantId: tenant.id, type, outcome: 'failure', source: source(request), data: { error: error.error, description: error.description, reason: error.detail ?? null } });
    }
    throw error;
  }
}

/**
 * Join (`POST {issuer}/nodes/join`): a node presents a join token, the public half of the key
 * pair it generated and a proof signed with its private half. The token is consumed atomically (single use, unexpired), the node and its
 * first key are created in the same transaction, and the node learns its id.
 */
export function join(deps: Deps, tenant: Tenant, issuer: string, request: FastifyRequest): Promise<{ node: Node; key: NodeKey }> {
  return refusing(deps, tenant, request, 'node.join_refused', async () => {
    const token = field(request.body, 'join_token');
    const key = await nodePublicKey((request.body as Record<string, unknown>).jwk);
    await verifyJoinProof(deps, field(request.body, 'proof'), key, nodeEndpointsFor(issuer).join);
    const nameField = (request.body as Record<string, unknown>).name;
    if (nameField !== undefined && (typeof nameField !== 'string' || nameField.length === 0 || nameField.length > 200)) throw oauthErrors.invalidRequest('name must be 1-200 characters');
    if (!token.startsWith(JOIN_TOKEN_PREFIX)) throw oauthErrors.invalidGrant('join token is invalid', 'not a join token');
    const digest = deps.hasher.digest(token);
    const now = deps.clock();
    const nodeId = newId();
    return changeDirectory(deps, tenant.id, async (trx) => {
      if (!(await nodeStore.consumeJoinToken(trx, tenant.id, digest, nodeId, now))) {
        const known = await nodeStore.joinTokenByDigest(trx, tenant.id, digest);
        const reason = !known ? 'unknown join token' : known.usedAt !== null ? 'join token was already used' : 'join token has expired';
        throw oauthErrors.invalidGrant('join token is invalid, used or expired', reason);
      }
      const joinToken = await nodeStore.joinTokenByDigest(trx, tenant.id, digest);
      const node: Node = { id: nodeId, tenantId: tenant.id, name: (nameField as string | undefined) ?? joinToken?.name ?? `node-${nodeId.slice(-12)}`, status: 'active', createdAt: now, updatedAt: now, lastSeenAt: now };
      const nodeKey: NodeKey = { id: key.thumbprint, tenantId: tenant.id, nodeId, publicJwk: { ...key.jwk, kid: key.thumbprint }, createdAt: now, expiresAt: now + deps.config.nodeKeyLifetimeSeconds * 1000 };
      if (await nodeStore.key(trx, tenant.id, nodeKey.id)) throw oauthErrors.invalidRequest('this key is already registered');
      await nodeStore.insertNode(trx, node);
      await nodeStore.insertKey(trx, nodeKey);
      const actor: AuditActor = { id: null, jti: null, tenantId: tenant.id, source: source(request) };
      await deps.audit.recordInTransaction(trx, [
        { tenantId: tenant.id, type: 'node.joined', actor, target: { type: 'node', id: nodeId }, after: { name: node.name, joinTokenId: joinToken?.id ?? null, kid: nodeKey.id, keyExpiresAt: nodeKey.expiresAt } },
      ]);
      return { node, key: nodeKey };
    });
  });
}

/**
 * Key rotation (`POST {issuer}/nodes/keys`): the node registers its next public key, authenticated
 * by an assertion signed with its current key whose `jkt` claim names the new key's thumbprint.
 * The previous key keeps working for NODE_KEY_OVERLAP_MS, so rotation has no gap.
 */
export function rotateNodeKey(deps: Deps, tenant: Tenant, issuer: string, request: FastifyRequest): Promise<{ key: NodeKey; previous: NodeKey }> {
  return refusing(deps, tenant, request, 'node_key.rotation_refused', async () => {
    const assertion = field(request.body, 'assertion');
    const next = await nodePublicKey((request.body as Record<string, unknown>).jwk);
    const { node, key: current, payload } = await verifyNodeAssertion(deps, tenant, assertion, [nodeEndpointsFor(issuer).keys]);
    if (payload.jkt !== next.thumbprint) throw oauthErrors.invalidRequest('the assertion jkt claim must be the new key\'s thumbprint');
    const now = deps.clock();
    const key: NodeKey = { id: next.thumbprint, tenantId: tenant.id, nodeId: node.id, publicJwk: { ...next.jwk, kid: next.thumbprint }, createdAt: now, expiresAt: now + deps.config.nodeKeyLifetimeSeconds * 1000 };
    const previousExpiry = Math.min(current.expiresAt, now + NODE_KEY_OVERLAP_MS);
    await changeDirectory(deps, tenant.id, async (trx) => {
      if (await nodeStore.key(trx, tenant.id, key.id)) throw oauthErrors.invalidRequest('this key is already registered');
      await nodeStore.insertKey(trx, key);
      await nodeStore.shortenKey(trx, tenant.id, current.id, previousExpiry);
      const actor: AuditActor = { id: null, jti: typeof payload.jti === 'string' ? payload.jti : null, tenantId: tenant.id, source: source(request) };
      await deps.audit.recordInTransaction(trx, [
        { tenantId: tenant.id, type: 'node_key.rotated', actor, target: { type: 'node', id: node.id }, before: { kid: current.id, expiresAt: previousExpiry }, after: { kid: key.id, expiresAt: key.expiresAt } },
      ]);
    });
    return { key, previous: { ...current, expiresAt: previousExpiry } };
  });
}

/** The managed identities assigned to the calling node that can get tokens now (`POST {issuer}/nodes/identities`). */
export async function assignedIdentities(deps: Deps, tenant: Tenant, issuer: string, request: FastifyRequest): Promise<Array<{ id: string; displayName: string }>> {
  return refusing(deps, tenant, request, 'node.request_refused', async () => {
    const { node } = await verifyNodeAssertion(deps, tenant, field(request.body, 'assertion'), [nodeEndpointsFor(issuer).identities]);
    const identities: Array<{ id: string; displayName: string }> = [];
    for (const id of await nodeStore.assigned(deps.db, tenant.id, node.id)) {
      const principal = await principalStore.get(deps.db, tenant.id, id);
      if (principal?.status === 'active' && rulesFor(principal.kind).platformHeldKey) identities.push({ id, displayName: principal.displayName });
    }
    return identities;
  });
}
