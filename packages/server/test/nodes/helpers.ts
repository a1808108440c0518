import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { type Admin, createPrincipal, createTenant, expectStatus, grant } from '../admin/helpers.js';
import { createResource, postToken, uniqueResourceId, type TokenResponse } from '../oauth/helpers.js';
import { generateNodeKey, NODE_ASSERTION_TYPE, type NodeKey } from '../../src/node-agent/signet-client.js';

export interface ManagedSetup {
  tenant: { id: string; name: string };
  issuer: string;
  resource: string;
  managed: { id: string };
}

/** A tenant with a resource (role orders.read) and a managed identity granted that role. */
export async function managedSetup(a: Admin): Promise<ManagedSetup> {
  const tenant = await createTenant(a);
  const resource = uniqueResourceId();
  await createResource(a, tenant.name, resource, ['orders.read']);
  const managed = await createPrincipal(a, tenant.name, { kind: 'managed', displayName: 'orders-worker' });
  await grant(a, tenant.name, managed.id, resource, 'orders.read');
  return { tenant, issuer: `${a.s.url}/${tenant.name}`, resource, managed };
}

export async function joinToken(a: Admin, tenant: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = expectStatus(await a.call<{ token: string }>('POST', `/tenants/${tenant}/nodes/join-tokens`, body, await a.s.adminToken()), 201);
  return created.token;
}

/** A join proof: signed by the key being registered, for the join endpoint, timed by the server's clock. */
export function joinProof(a: Admin, tenant: string, key: NodeKey, over: { aud?: string } = {}): Promise<string> {
  const now = Math.floor(a.s.now() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setAudience(over.aud ?? `${a.s.url}/${tenant}/nodes/join`).setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).sign(key.privateKey);
}

/** POST {issuer}/nodes/join; with `key`, its public JWK and a proof signed by it are added. */
export async function rawJoin(a: Admin, tenant: string, body: Record<string, unknown>, key?: NodeKey): Promise<TokenResponse> {
  if (key) body = { jwk: key.publicJwk, proof: await joinProof(a, tenant, key), ...body };
  const response = await fetch(`${a.s.url}/${tenant}/nodes/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Joins a node (fresh key) and assigns `identities` to it. */
export async function joinedNode(a: Admin, tenant: string, identities: string[] = []): Promise<{ nodeId: string; key: NodeKey }> {
  const key = await generateNodeKey();
  const res = await rawJoin(a, tenant, { join_token: await joinToken(a, tenant) }, key);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  for (const id of identities) expectStatus(await a.call('PUT', `/tenants/${tenant}/nodes/${res.body.node_id}/identities/${id}`, undefined, await a.s.adminToken()), 200);
  return { nodeId: res.body.node_id, key };
}

/** A node assertion timed by the server's (movable) clock. */
export function nodeAssertion(a: Admin, key: NodeKey, claims: { iss: string; sub: string; aud: string; jti?: string; extra?: Record<string, unknown> }): Promise<string> {
  const now = Math.floor(a.s.now() / 1000);
  return new SignJWT(claims.extra ?? {})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(claims.jti ?? randomUUID())
    .sign(key.privateKey);
}

/** The token request `signet node` makes for a managed identity. */
export async function managedToken(a: Admin, setup: ManagedSetup, node: { nodeId: string; key: NodeKey }, identity: string, jti?: string): Promise<TokenResponse> {
  const assertion = await nodeAssertion(a, node.key, { iss: node.nodeId, sub: identity, aud: `${setup.issuer}/oauth2/token`, ...(jti ? { jti } : {}) });
  return postToken(a.s.url, setup.tenant.name, { grant_type: 'client_credentials', client_assertion_type: NODE_ASSERTION_TYPE, client_assertion: assertion, resource: setup.resource });
}
