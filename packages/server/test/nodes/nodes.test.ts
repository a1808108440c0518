import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type Admin, auditEvents, createPrincipal, expectError, expectStatus, adminOf } from '../admin/helpers.js';
import { expectInvalidClient, expectIssued, expectOAuthError, postToken } from '../oauth/helpers.js';
import { generateNodeKey, SignetNodeClient } from '../../src/node-agent/signet-client.js';
import { describeEachServerBackend } from '../contract/backends.js';
import { joinedNode, joinProof, joinToken, managedSetup, managedToken, nodeAssertion, rawJoin, type ManagedSetup } from './helpers.js';

describeEachServerBackend('nodes: join, assignment, the managed-identity token path', (server) => {
  let a: Admin;
  let setup: ManagedSetup;
  before(async () => {
    a = await adminOf(server());
    setup = await managedSetup(a);
  });

  const refusal = async (reason: RegExp, type = 'token.refused') => {
    const event = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === type && reason.test(String(e.data.reason)));
    assert.ok(event, `no ${type} event with reason ${reason}`);
    return event;
  };

  it('a join token is shown once, joins one node, and is refused the second time (invalid_grant)', async () => {
    const token = await joinToken(a, setup.tenant.name, { name: 'web-01' });
    assert.match(token, /^sgn_join_[A-Za-z0-9_-]{43}$/);
    const first = await generateNodeKey();
    const joined = await rawJoin(a, setup.tenant.name, { join_token: token }, first);
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    assert.equal(joined.body.name, 'web-01');
    assert.equal(joined.body.kid, first.kid);
    const again = await rawJoin(a, setup.tenant.name, { join_token: token }, await generateNodeKey());
    expectOAuthError(again, 400, 'invalid_grant');
    await refusal(/join token was already used/, 'node.join_refused');
    const node = expectStatus(await a.call<{ name: string; status: string; keys: Array<Record<string, unknown>> }>('GET', `/tenants/${setup.tenant.name}/nodes/${joined.body.node_id}`), 200);
    assert.equal(node.status, 'active');
    assert.deepEqual(node.keys.map((k) => k.kid), [first.kid]);
    assert.equal((node.keys[0]?.publicJwk as Record<string, unknown>).d, undefined);
  });

  it('an expired join token is refused (invalid_grant), an unknown one too', async () => {
    const token = await joinToken(a, setup.tenant.name, { ttlSeconds: 60 });
    a.s.advance(61_000);
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: token }, await generateNodeKey()), 400, 'invalid_grant');
    await refusal(/join token has expired/, 'node.join_refused');
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: `sgn_join_${'A'.repeat(43)}` }, await generateNodeKey()), 400, 'invalid_grant');
    expectOAuthError(await rawJoin(a, setup.tenant.name, {}, await generateNodeKey()), 400, 'invalid_request');
    const rsa = { kty: 'RSA', n: 'x', e: 'AQAB' };
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: await joinToken(a, setup.tenant.name), jwk: rsa }), 400, 'invalid_request');
  });

  it('joining needs proof of possession of the key: none, or one signed by another key, is invalid_request and leaves the token unused', async () => {
    const token = await joinToken(a, setup.tenant.name);
    const key = await generateNodeKey();
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: token, jwk: key.publicJwk }), 400, 'invalid_request');
    const forged = await joinProof(a, setup.tenant.name, await generateNodeKey());
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: token, jwk: key.publicJwk, proof: forged }), 400, 'invalid_request');
    await refusal(/join proof: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/, 'node.join_refused');
    const elsewhere = await joinProof(a, setup.tenant.name, key, { aud: `${a.s.url}/other/nodes/join` });
    expectOAuthError(await rawJoin(a, setup.tenant.name, { join_token: token, jwk: key.publicJwk, proof: elsewhere }), 400, 'invalid_request');
    assert.equal((await rawJoin(a, setup.tenant.name, { join_token: token }, key)).status, 201);
  });

  it('an assigned managed identity gets a token: sub and client_id are the identity, kind managed, roles from grants; audited with the node and the managed key', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    const token = expectIssued(await managedToken(a, setup, node, setup.managed.id));
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${setup.issuer}/.well-known/jwks.json`)), { issuer: setup.issuer, audience: setup.resource, currentDate: new Date(a.s.now()) });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, setup.managed.id);
    assert.equal(payload.client_id, setup.managed.id);
    assert.equal(payload.kind, 'managed');
    assert.deepEqual(payload.roles, ['orders.read']);
    const keys = expectStatus(await a.call<{ items: Array<{ kid: string; publicJwk: Record<string, unknown> }> }>('GET', `/tenants/${setup.tenant.name}/principals/${setup.managed.id}/managed-keys`, undefined, await a.s.adminToken()), 200);
    const issued = (await auditEvents(a, setup.tenant.id)).find((e) => e.type === 'token.issued' && e.jti === payload.jti);
    assert.ok(issued);
    assert.equal(issued.credentialType, 'managed');
    assert.equal(issued.credentialId, keys.items[0]?.kid);
    assert.equal(issued.clientId, setup.managed.id);
    assert.equal(issued.data.node, node.nodeId);
    assert.equal(issued.data.authMethod, 'node_assertion');
  });

  it('an identity not assigned to the node is refused (invalid_client) and audited', async () => {
    const node = await joinedNode(a, setup.tenant.name, []);
    expectInvalidClient(await managedToken(a, setup, node, setup.managed.id));
    await refusal(new RegExp(`managed identity ${setup.managed.id} is not assigned to node ${node.nodeId}`));
  });

  it('a replayed node assertion, an unknown key, a disabled node and a deleted node are refused (invalid_client)', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    const jti = randomUUID();
    expectIssued(await managedToken(a, setup, node, setup.managed.id, jti));
    expectInvalidClient(await managedToken(a, setup, node, setup.managed.id, jti));
    await refusal(/node assertion jti was already used/);
    expectInvalidClient(await managedToken(a, setup, { nodeId: node.nodeId, key: await generateNodeKey() }, setup.managed.id));
    await refusal(/not a registered node key/);
    expectStatus(await a.call('PATCH', `/tenants/${setup.tenant.name}/nodes/${node.nodeId}`, { status: 'disabled' }, await a.s.adminToken()), 200);
    expectInvalidClient(await managedToken(a, setup, node, setup.managed.id));
    await refusal(/node is disabled/);
    expectStatus(await a.call('PATCH', `/tenants/${setup.tenant.name}/nodes/${node.nodeId}`, { status: 'active' }, await a.s.adminToken()), 200);
    expectIssued(await managedToken(a, setup, node, setup.managed.id));
    expectStatus(await a.call('DELETE', `/tenants/${setup.tenant.name}/nodes/${node.nodeId}`, undefined, await a.s.adminToken()), 204);
    expectInvalidClient(await managedToken(a, setup, node, setup.managed.id));
  });

  it('a disabled managed identity is refused even on its node', async () => {
    const managed = await createPrincipal(a, setup.tenant.name, { kind: 'managed', displayName: 'soon disabled' }, await a.s.adminToken());
    const node = await joinedNode(a, setup.tenant.name, [managed.id]);
    expectStatus(await a.call('POST', `/tenants/${setup.tenant.name}/principals/${managed.id}/disable`, undefined, await a.s.adminToken()), 200);
    expectInvalidClient(await managedToken(a, setup, node, managed.id));
    await refusal(/principal is disabled/);
  });

  it('only managed identities can be assigned to nodes; assign and unassign are exact', async () => {
    const node = await joinedNode(a, setup.tenant.name);
    const service = await createPrincipal(a, setup.tenant.name, { kind: 'service', displayName: 'svc' }, await a.s.adminToken());
    expectError(await a.call('PUT', `/tenants/${setup.tenant.name}/nodes/${node.nodeId}/identities/${service.id}`, undefined, await a.s.adminToken()), 400, 'invalid_request');
    const path = `/tenants/${setup.tenant.name}/nodes/${node.nodeId}/identities/${setup.managed.id}`;
    assert.deepEqual(expectStatus(await a.call<{ identities: string[] }>('PUT', path, undefined, await a.s.adminToken()), 200).identities, [setup.managed.id]);
    expectError(await a.call('PUT', path, undefined, await a.s.adminToken()), 409, 'conflict');
    expectStatus(await a.call('DELETE', path, undefined, await a.s.adminToken()), 204);
    expectError(await a.call('DELETE', path, undefined, await a.s.adminToken()), 404, 'not_found');
  });

  it('a node registers its next key with its current one; the old key keeps working for a short overlap only', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    const next = await generateNodeKey();
    const wrong = await nodeAssertion(a, node.key, { iss: node.nodeId, sub: node.nodeId, aud: `${setup.issuer}/nodes/keys`, extra: { jkt: 'not-the-thumbprint' } });
    const mismatch = await fetch(`${setup.issuer}/nodes/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ assertion: wrong, jwk: next.publicJwk }) });
    assert.equal(mismatch.status, 400);
    assert.equal(((await mismatch.json()) as { error: string }).error, 'invalid_request');
    const assertion = await nodeAssertion(a, node.key, { iss: node.nodeId, sub: node.nodeId, aud: `${setup.issuer}/nodes/keys`, extra: { jkt: next.kid } });
    const rotated = await fetch(`${setup.issuer}/nodes/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ assertion, jwk: next.publicJwk }) });
    assert.equal(rotated.status, 200);
    const body = (await rotated.json()) as { kid: string; previous_key_expires_at: number };
    assert.equal(body.kid, next.kid);
    assert.ok(body.previous_key_expires_at <= Math.floor(a.s.now() / 1000) + 300);
    expectIssued(await managedToken(a, setup, { nodeId: node.nodeId, key: next }, setup.managed.id));
    expectIssued(await managedToken(a, setup, node, setup.managed.id));
    a.s.advance(301_000);
    expectInvalidClient(await managedToken(a, setup, node, setup.managed.id));
    await refusal(/node key has expired/);
    expectIssued(await managedToken(a, setup, { nodeId: node.nodeId, key: next }, setup.managed.id));
  });

  it('the node client lists its assigned identities', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    // The client signs with the real clock: line the server clock up again first.
    a.s.advance(-(a.s.now() - Date.now()));
    const identities = await new SignetNodeClient(setup.issuer).identities(node.nodeId, node.key);
    assert.deepEqual(identities, [{ clientId: setup.managed.id, displayName: 'orders-worker' }]);
  });

  it('the token endpoint refuses a node assertion whose sub differs from client_id', async () => {
    const node = await joinedNode(a, setup.tenant.name, [setup.managed.id]);
    const assertion = await nodeAssertion(a, node.key, { iss: node.nodeId, sub: setup.managed.id, aud: `${setup.issuer}/oauth2/token` });
    expectInvalidClient(await postToken(a.s.url, setup.tenant.name, { grant_type: 'client_credentials', client_assertion_type: 'urn:signet:params:oauth:client-assertion-type:node-jwt', client_assertion: assertion, client_id: randomUUID(), resource: setup.resource }));
  });
});
