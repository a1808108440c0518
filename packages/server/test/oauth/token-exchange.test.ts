import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { addSecret, auditEvents, createPrincipal, createTenant, expectStatus, type Admin, type Page, type TenantView } from '../admin/helpers.js';
import { startAdmin } from '../admin/helpers.js';
import type { AuditRecord } from '../../src/audit/model.js';
import { createAgent, createBlueprint, mintToken, timeUntil } from '../agents/helpers.js';
import { joinedNode, nodeAssertion } from '../nodes/helpers.js';
import { NODE_ASSERTION_TYPE } from '../../src/node-agent/signet-client.js';
import { dpopKey, postTokenWithDpop } from './dpop-helpers.js';
import { addKey, basicAuth, decodeParts, expectIssued, expectOAuthError, keyPair, LENIENT_THROTTLE, postToken, signAssertion, uniqueResourceId, type SecretClient } from './helpers.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const SCOPES = ['orders.read', 'orders.write', 'orders.admin'];

describe('token endpoint: token exchange (RFC 8693)', () => {
  let a: Admin;
  let t: TenantView;
  let r0: string;
  let r1: string;
  let r2: string;
  let user: string;
  let sponsor: string;
  /** Agent A: may act for users on R1 (read, write) and R2 (read), depth up to 2. */
  let agentA: SecretClient;
  /** Agent B, A's sub-agent: may act on R2 (read, write), depth up to 2. */
  let agentB: SecretClient;
  /** Agent C: like B but its blueprint caps the chain at one actor. */
  let agentC: SecretClient;

  const exchange = (actor: SecretClient, subjectToken: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    postToken(a.s.url, t.name, { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, ...extra }, { authorization: basicAuth(actor.id, actor.secret), ...headers });
  /** A user's access token as issue 4's sign-in will issue it: sub = user, kind user, client_id = the client, scope, aud. */
  const userToken = (clientId: string, scope = 'orders.read orders.write orders.admin', claims: Record<string, unknown> = {}) =>
    mintToken(a, t, user, { aud: r0, client_id: clientId, scope, ...claims });
  const agent = async (blueprint: Record<string, unknown>, sponsors = [sponsor], extra: Record<string, unknown> = {}): Promise<SecretClient> => {
    const bp = await createBlueprint(a, t.name, blueprint);
    const principal = await createAgent(a, t.name, bp.name, sponsors, extra);
    await consentEverywhere(principal.id);
    return { id: principal.id, secret: await addSecret(a, t.name, principal.id) };
  };
  /** An admin consented for every user to let `client` use every scope on R0, R1 and R2 (hops narrow from there). */
  const consentEverywhere = async (client: string) => {
    for (const r of [r0, r1, r2]) expectStatus(await a.call('POST', `/tenants/${t.name}/consents`, { client, resource: r, scopes: SCOPES }), 201);
  };
  const resource = async (identifier: string) =>
    expectStatus(await a.call('POST', `/tenants/${t.name}/resources`, { identifier, displayName: identifier, scopes: SCOPES.map((name) => ({ name, description: name })) }), 201);

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    t = await createTenant(a);
    [r0, r1, r2] = [uniqueResourceId(), uniqueResourceId(), uniqueResourceId()];
    for (const r of [r0, r1, r2]) await resource(r);
    user = (await createPrincipal(a, t.name, { kind: 'user', displayName: 'Ada' })).id;
    sponsor = (await createPrincipal(a, t.name, { kind: 'user', displayName: 'Sponsor' })).id;
    agentA = await agent({ permissions: [{ resource: r1, scopes: ['orders.read', 'orders.write'] }, { resource: r2, scopes: ['orders.read'] }], maxDelegationDepth: 2 });
    agentB = await agent({ permissions: [{ resource: r2, scopes: ['orders.read', 'orders.write'] }], maxDelegationDepth: 2 });
    agentC = await agent({ permissions: [{ resource: r2, scopes: ['orders.read'] }], maxDelegationDepth: 1 });
  });
  after(() => a.close());

  it('the chain: user → A (narrower, for R1) → B (narrower still, for R2); a resource verifies B\'s token and sees user, B and A', async () => {
    const subject = await userToken(agentA.id);
    const hop1 = await exchange(agentA, subject, { resource: r1, scope: 'orders.read orders.write' });
    const tokenA = expectIssued(hop1);
    assert.equal(hop1.body.issued_token_type, ACCESS_TOKEN);
    assert.equal(hop1.body.token_type, 'Bearer');
    assert.equal(hop1.body.scope, 'orders.read orders.write');

    const hop2 = await exchange(agentB, tokenA, { audience: r2, scope: 'orders.read' });
    const tokenB = expectIssued(hop2);
    assert.equal(hop2.body.scope, 'orders.read');

    const jwks = createRemoteJWKSet(new URL(`${a.s.url}/${t.name}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokenB, jwks, { issuer: `${a.s.url}/${t.name}`, audience: r2, typ: 'at+jwt', currentDate: new Date(a.s.now()) });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, user);
    assert.equal(payload.kind, 'user');
    assert.equal(payload.client_id, agentB.id);
    assert.equal(payload.tid, t.id);
    assert.equal(payload.scope, 'orders.read');
    assert.equal(payload.roles, undefined, 'delegated tokens never carry application roles');
    assert.deepEqual(payload.act, {
      sub: agentB.id,
      kind: 'agent',
      client_id: agentB.id,
      act: { sub: agentA.id, kind: 'agent', client_id: agentA.id },
    });
    assert.ok((payload.exp as number) <= (decodeParts(tokenA).payload.exp as number), 'a hop never outlives the token it came from');

    // The audit trail names the whole chain: a query by any principal in it finds the event.
    const events = await auditEvents(a, t.id);
    const exchanged = events.find((e) => e.jti === payload.jti) as AuditRecord;
    assert.equal(exchanged.type, 'token.exchanged');
    assert.equal(exchanged.actorId, agentB.id);
    assert.equal(exchanged.subjectId, user);
    assert.deepEqual(exchanged.data.delegation, [agentB.id, agentA.id]);
    assert.equal(exchanged.data.depth, 2);
    assert.equal(exchanged.data.subjectJti, decodeParts(tokenA).payload.jti);
    for (const principal of [user, agentA, agentB].map((p) => (typeof p === 'string' ? p : p.id))) {
      const page = expectStatus(await a.call<Page<{ id: string; jti: string | null }>>('GET', `/tenants/${t.name}/audit?principal=${principal}&limit=50`), 200);
      assert.ok(page.items.some((e) => e.jti === payload.jti), `the audit query by ${principal} finds the exchange`);
    }
  });

  it('A\'s sponsor disables A: B\'s token further down the chain introspects inactive within a second, and B can exchange no more', async () => {
    const a2 = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }], maxDelegationDepth: 2 });
    const b2 = await agent({ permissions: [{ resource: r2, scopes: ['orders.read'] }], maxDelegationDepth: 2 });
    const tokenA = expectIssued(await exchange(a2, await userToken(a2.id, 'orders.read'), { resource: r1 }));
    const tokenB = expectIssued(await exchange(b2, tokenA, { resource: r2 }));
    const rs = await createPrincipal(a, t.name, { kind: 'service', displayName: 'rooms API' });
    const rsAuth = basicAuth(rs.id, await addSecret(a, t.name, rs.id));
    const introspect = async () => {
      const res = await fetch(`${a.s.url}/${t.name}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: rsAuth }, body: new URLSearchParams({ token: tokenB }) });
      return (await res.json()) as { active: boolean; act?: unknown };
    };
    const before = await introspect();
    assert.equal(before.active, true);
    assert.deepEqual(before.act, { sub: b2.id, kind: 'agent', client_id: b2.id, act: { sub: a2.id, kind: 'agent', client_id: a2.id } });

    const sponsorToken = await mintToken(a, t, sponsor);
    expectStatus(await a.call('POST', `/tenants/${t.name}/principals/${a2.id}/disable`, undefined, sponsorToken), 200);
    const elapsed = await timeUntil(async () => !(await introspect()).active, 1000);
    assert.ok(elapsed <= 1000, `inactive after ${elapsed} ms`);
    expectOAuthError(await exchange(b2, tokenA, { resource: r2 }), 400, 'invalid_grant');
  });

  it('scope escalation beyond the subject token at the first hop: invalid_scope', async () => {
    const subject = await userToken(agentA.id, 'orders.read');
    expectOAuthError(await exchange(agentA, subject, { resource: r1, scope: 'orders.read orders.write' }), 400, 'invalid_scope');
  });

  it('scope escalation at the second hop (B asks for what A\'s token does not carry): invalid_scope', async () => {
    const tokenA = expectIssued(await exchange(agentA, await userToken(agentA.id), { resource: r1, scope: 'orders.read' }));
    expectOAuthError(await exchange(agentB, tokenA, { resource: r2, scope: 'orders.write' }), 400, 'invalid_scope');
    // Its own narrower ask still works: each hop can only narrow.
    expectIssued(await exchange(agentB, tokenA, { resource: r2, scope: 'orders.read' }));
  });

  it('blueprint cap exceeded (the user consented to orders.admin, A\'s blueprint does not allow it): invalid_scope', async () => {
    expectOAuthError(await exchange(agentA, await userToken(agentA.id), { resource: r1, scope: 'orders.admin' }), 400, 'invalid_scope');
    // Without a scope, the grant is everything allowed: the blueprint's share only.
    const res = await exchange(agentA, await userToken(agentA.id), { resource: r1 });
    assert.equal(expectIssued(res) && res.body.scope, 'orders.read orders.write');
  });

  it('depth over the blueprint\'s cap (C may only be the first actor): invalid_request', async () => {
    const tokenA = expectIssued(await exchange(agentA, await userToken(agentA.id), { resource: r1, scope: 'orders.read' }));
    const res = await exchange(agentC, tokenA, { resource: r2, scope: 'orders.read' });
    expectOAuthError(res, 400, 'invalid_request');
    assert.match(res.body.error_description, /delegation depth 2 exceeds this actor's cap of 1/);
    const refused = (await auditEvents(a, t.id)).find((e) => e.type === 'token.refused' && e.actorId === agentC.id) as AuditRecord;
    assert.equal(refused.data.error, 'invalid_request');
    assert.equal(refused.subjectId, user, 'a refused exchange names the user');
    assert.deepEqual(refused.data.delegation, [agentC.id, agentA.id], 'and the chain it would have extended');
    // At depth 1 the same agent is fine.
    expectIssued(await exchange(agentC, await userToken(agentC.id), { resource: r2, scope: 'orders.read' }));
  });

  it('a blueprint that does not allow acting for users: unauthorized_client', async () => {
    const solo = await agent({ allowDelegation: false, allowAppRoles: true });
    expectOAuthError(await exchange(solo, await userToken(solo.id), { resource: r1, scope: 'orders.read' }), 400, 'unauthorized_client');
  });

  it('an agent without an active sponsor (its only sponsor disabled, so it was suspended): invalid_client', async () => {
    const lone = (await createPrincipal(a, t.name, { kind: 'user', displayName: 'Lone sponsor' })).id;
    const d = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }] }, [lone]);
    expectIssued(await exchange(d, await userToken(d.id), { resource: r1, scope: 'orders.read' }));
    expectStatus(await a.call('POST', `/tenants/${t.name}/principals/${lone}/disable`), 200);
    expectOAuthError(await exchange(d, await userToken(d.id), { resource: r1, scope: 'orders.read' }), 401, 'invalid_client');
  });

  it('an expired agent: invalid_client', async () => {
    const e = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }] }, [sponsor], { expiresAt: new Date(a.s.now() + 60_000).toISOString() });
    expectIssued(await exchange(e, await userToken(e.id), { resource: r1, scope: 'orders.read' }));
    a.s.advance(61_000);
    expectOAuthError(await exchange(e, await userToken(e.id), { resource: r1, scope: 'orders.read' }), 401, 'invalid_client');
  });

  it('may_act in the subject token is honoured: another actor gets invalid_grant, the named one a token', async () => {
    const subject = await userToken(agentA.id, 'orders.read', { may_act: { sub: agentC.id } });
    expectOAuthError(await exchange(agentA, subject, { resource: r1, scope: 'orders.read' }), 400, 'invalid_grant');
    expectIssued(await exchange(agentC, subject, { resource: r2, scope: 'orders.read' }));
  });

  it('a disabled user or a disabled upstream actor stops the chain: invalid_grant', async () => {
    const other = (await createPrincipal(a, t.name, { kind: 'user', displayName: 'Grace' })).id;
    const subject = await mintToken(a, t, other, { aud: r0, client_id: agentA.id, scope: 'orders.read' });
    const tokenA = expectIssued(await exchange(agentA, subject, { resource: r1, scope: 'orders.read' }));
    expectStatus(await a.call('POST', `/tenants/${t.name}/principals/${other}/disable`), 200);
    expectOAuthError(await exchange(agentB, tokenA, { resource: r2, scope: 'orders.read' }), 400, 'invalid_grant');

    const upstream = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }], maxDelegationDepth: 2 });
    const fromUpstream = expectIssued(await exchange(upstream, await userToken(upstream.id, 'orders.read'), { resource: r1, scope: 'orders.read' }));
    expectStatus(await a.call('POST', `/tenants/${t.name}/principals/${upstream.id}/disable`), 200);
    expectOAuthError(await exchange(agentB, fromUpstream, { resource: r2, scope: 'orders.read' }), 400, 'invalid_grant');
  });

  it('a revoked subject token (RFC 7009, by the client it was issued to): invalid_grant', async () => {
    const subject = await userToken(agentA.id, 'orders.read');
    expectIssued(await exchange(agentA, subject, { resource: r1 }));
    const revoked = await fetch(`${a.s.url}/${t.name}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(agentA.id, agentA.secret) },
      body: new URLSearchParams({ token: subject, token_type_hint: 'access_token' }),
    });
    assert.equal(revoked.status, 200);
    expectOAuthError(await exchange(agentA, subject, { resource: r1 }), 400, 'invalid_grant');
  });

  it('an invalid subject token is invalid_request (RFC 8693 §2.2.2): tampered, expired, wrong type, not a user\'s, another tenant\'s', async () => {
    const good = await userToken(agentA.id);
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decodeParts(good).payload, scope: 'orders.admin' })).toString('base64url')}.${s}`;
    assert.ok(p);
    const expired = await userToken(agentA.id, 'orders.read', { exp: Math.floor(a.s.now() / 1000) - 60 });
    const serviceToken = await mintToken(a, t, agentA.id, { aud: r0, kind: 'service', scope: 'orders.read' });
    const other = await createTenant(a);
    const foreign = await mintToken(a, other, user, { aud: r0, client_id: agentA.id, scope: 'orders.read' });
    for (const subject of [tampered, expired, serviceToken, 'not-a-jwt', foreign]) {
      expectOAuthError(await exchange(agentA, subject, { resource: r1, scope: 'orders.read' }), 400, 'invalid_request');
    }
    expectOAuthError(await exchange(agentA, good, { resource: r1, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 400, 'invalid_request');
    expectOAuthError(await exchange(agentA, good, { resource: r1, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 400, 'invalid_request');
  });

  it('targets: unknown resource → invalid_target; resource and audience naming different resources → invalid_target', async () => {
    const subject = await userToken(agentA.id);
    expectOAuthError(await exchange(agentA, subject, { resource: 'api://nowhere', scope: 'orders.read' }), 400, 'invalid_target');
    expectOAuthError(await exchange(agentA, subject, { resource: r1, audience: r2, scope: 'orders.read' }), 400, 'invalid_target');
  });

  it('a service may exchange (an on-behalf-of middle tier); a managed identity may not: unauthorized_client', async () => {
    const service = await createPrincipal(a, t.name, { kind: 'service', displayName: 'middle tier' });
    const svc: SecretClient = { id: service.id, secret: await addSecret(a, t.name, service.id) };
    await consentEverywhere(svc.id);
    const res = await exchange(svc, await userToken(svc.id, 'orders.read'), { resource: r1 });
    const { payload } = decodeParts(expectIssued(res));
    assert.deepEqual(payload.act, { sub: svc.id, kind: 'service', client_id: svc.id });

    // A managed identity authenticates the only way it can: through a node it is assigned to.
    const managed = await createPrincipal(a, t.name, { kind: 'managed', displayName: 'vm identity' });
    const node = await joinedNode(a, t.name, [managed.id]);
    const assertion = await nodeAssertion(a, node.key, { iss: node.nodeId, sub: managed.id, aud: `${a.s.url}/${t.name}/oauth2/token` });
    const form = { grant_type: TOKEN_EXCHANGE, subject_token: await userToken(managed.id, 'orders.read'), subject_token_type: ACCESS_TOKEN, resource: r1, client_assertion_type: NODE_ASSERTION_TYPE, client_assertion: assertion };
    expectOAuthError(await postToken(a.s.url, t.name, form), 400, 'unauthorized_client');
  });

  it('the actor can authenticate with an actor_token (a JWT signed with its key) instead of client authentication', async () => {
    const bp = await createBlueprint(a, t.name, { permissions: [{ resource: r1, scopes: ['orders.read'] }] });
    const keyed = await createAgent(a, t.name, bp.name, [sponsor]);
    await consentEverywhere(keyed.id);
    const key = await keyPair('EdDSA');
    await addKey(a, t.name, keyed.id, key.publicJwk);
    const actorToken = () => signAssertion(key, { now: a.s.now(), clientId: keyed.id, aud: `${a.s.url}/${t.name}/oauth2/token` });
    const base = { grant_type: TOKEN_EXCHANGE, subject_token: await userToken(keyed.id, 'orders.read'), subject_token_type: JWT, resource: r1 };
    const res = await postToken(a.s.url, t.name, { ...base, actor_token: await actorToken(), actor_token_type: JWT });
    assert.equal(decodeParts(expectIssued(res)).payload.client_id, keyed.id);
    expectOAuthError(await postToken(a.s.url, t.name, { ...base, actor_token: await actorToken(), actor_token_type: ACCESS_TOKEN }), 400, 'invalid_request');
    // With client authentication as well, the actor token must name the same principal.
    expectOAuthError(await exchange(agentA, base.subject_token, { resource: r1, actor_token: await actorToken(), actor_token_type: JWT }), 400, 'invalid_request');
  });

  it('the token lifetime never exceeds the blueprint\'s cap nor the subject token\'s expiry', async () => {
    const short = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }], accessTokenLifetimeSeconds: 60 });
    const res = await exchange(short, await userToken(short.id, 'orders.read'), { resource: r1 });
    expectIssued(res);
    assert.equal(res.body.expires_in, 60);
    const soon = await userToken(agentA.id, 'orders.read', { exp: Math.floor(a.s.now() / 1000) + 40 });
    const capped = await exchange(agentA, soon, { resource: r1 });
    expectIssued(capped);
    assert.ok(capped.body.expires_in <= 40 && capped.body.expires_in >= 38, `expires_in ${capped.body.expires_in}`);
  });

  describe('with DPoP', () => {
    let bound: SecretClient;
    const key = dpopKey('ES256');
    before(async () => {
      bound = await agent({ permissions: [{ resource: r1, scopes: ['orders.read'] }], requireDpop: true, maxDelegationDepth: 2 });
    });
    const dpopExchange = async (actor: SecretClient, subjectToken: string, extra: Record<string, string>, k = key) =>
      postTokenWithDpop({
        url: a.s.url,
        tenant: t.name,
        form: { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, ...extra },
        headers: { authorization: basicAuth(actor.id, actor.secret) },
        key: await k,
        now: a.s.now,
      });

    it('an agent whose blueprint requires DPoP: no proof → invalid_request; with a proof → token_type DPoP bound to the proof key', async () => {
      const refused = await exchange(bound, await userToken(bound.id, 'orders.read'), { resource: r1 });
      expectOAuthError(refused, 400, 'invalid_request');
      assert.match(refused.body.error_description, /DPoP proof is required/);
      const res = await dpopExchange(bound, await userToken(bound.id, 'orders.read'), { resource: r1 });
      const token = expectIssued(res);
      assert.equal(res.body.token_type, 'DPoP');
      assert.deepEqual(decodeParts(token).payload.cnf, { jkt: (await key).jkt });
    });

    it('a DPoP-bound subject token: missing proof → invalid_request; the holder must prove the same key (invalid_dpop_proof); downstream binds to its own key', async () => {
      const boundToken = expectIssued(await dpopExchange(bound, await userToken(bound.id, 'orders.read'), { resource: r1 }));
      const missing = await exchange(agentB, boundToken, { resource: r2, scope: 'orders.read' });
      expectOAuthError(missing, 400, 'invalid_request');
      assert.match(missing.body.error_description, /subject token is DPoP-bound/);
      const bKey = await dpopKey('EdDSA');
      const downstream = await dpopExchange(agentB, boundToken, { resource: r2, scope: 'orders.read' }, Promise.resolve(bKey));
      assert.equal(downstream.body.token_type, 'DPoP');
      assert.deepEqual(decodeParts(expectIssued(downstream)).payload.cnf, { jkt: bKey.jkt });

      const ownToken = await mintToken(a, t, user, { aud: r0, client_id: bound.id, scope: 'orders.read', cnf: { jkt: (await key).jkt } });
      expectOAuthError(await dpopExchange(bound, ownToken, { resource: r1 }, dpopKey('ES256')), 400, 'invalid_dpop_proof');
      expectIssued(await dpopExchange(bound, ownToken, { resource: r1 }));
    });
  });
});
