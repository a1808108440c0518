import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { addSecret, createPrincipal, createTenant, expectStatus, startAdmin, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { basicAuth, expectIssued, expectOAuthError, LENIENT_THROTTLE, postToken, uniqueResourceId, type SecretClient } from '../oauth/helpers.js';
import { createUser, obtainCode, plantSession, redeem, signInClient, type SignInClient } from '../oauth/people-helpers.js';
import { createAgent, createBlueprint, mintToken, timeUntil } from './helpers.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const BOUND_MS = 1000;

/**
 * Issue 6's walk, end to end on one server: a user signs in to agent A and consents (authorization
 * code + PKCE, the real consent page); A exchanges her token for a narrower one for R1; A's
 * sub-agent B exchanges that for an even narrower one for R2; a resource verifies B's token and sees
 * the user, B and A. Then the user revokes her consent, or A's sponsor disables A, and B's token
 * is inactive within a second.
 */
describe('delegation chain: user → agent A → sub-agent B', () => {
  let a: Admin;
  let t: TenantView;
  let r1: string;
  let r2: string;
  let sponsor: PrincipalView;
  let rs: SecretClient;

  const exchange = (actor: SecretClient, subjectToken: string, form: Record<string, string>) =>
    postToken(a.s.url, t.name, { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, ...form }, { authorization: basicAuth(actor.id, actor.secret) });
  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${a.s.url}/${t.name}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: basicAuth(rs.id, rs.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    t = await createTenant(a);
    [r1, r2] = [uniqueResourceId(), uniqueResourceId()];
    for (const r of [r1, r2]) {
      const scopes = ['read', 'write'].map((name) => ({ name, description: `${name} on ${r}` }));
      expectStatus(await a.call('POST', `/tenants/${t.name}/resources`, { identifier: r, displayName: r, scopes }), 201);
    }
    sponsor = await createPrincipal(a, t.name, { kind: 'user', displayName: 'Grace' });
    const server = await createPrincipal(a, t.name, { kind: 'service', displayName: 'resource server' });
    rs = { id: server.id, secret: await addSecret(a, t.name, server.id) };
  });
  after(() => a.close());

  /** A fresh chain: agents A (planner) and B (room finder), a user who signs in to A and consents for R1 and R2. */
  async function chain(): Promise<{ user: string; agentA: SignInClient; agentB: SecretClient; userToken: string; tokenA: string; tokenB: string }> {
    const planner = await createBlueprint(a, t.name, { maxDelegationDepth: 2, permissions: [{ resource: r1, scopes: ['read', 'write'] }, { resource: r2, scopes: ['read'] }] });
    const finder = await createBlueprint(a, t.name, { maxDelegationDepth: 2, permissions: [{ resource: r2, scopes: ['read'] }] });
    const agentA = await signInClient(a, t.name, {}, { kind: 'agent', displayName: 'Planner', blueprint: planner.name, sponsors: [sponsor.id] });
    assert.ok(agentA.secret);
    const b = await createAgent(a, t.name, finder.name, [sponsor.id]);
    const agentB = { id: b.id, secret: await addSecret(a, t.name, b.id) };

    const user = (await createUser(a, t.name, { displayName: 'Ada' })).id;
    const cookie = await plantSession(a, t.name, user);
    // She consents on the consent page for each API the planner works with.
    const rooms = await obtainCode(a, t.name, agentA, cookie, { resource: r2, scope: 'read' });
    assert.equal((await redeem(a.s.url, t.name, agentA, rooms.code, rooms.verifier)).status, 200);
    const calendar = await obtainCode(a, t.name, agentA, cookie, { resource: r1, scope: 'openid read write' });
    const issued = await redeem(a.s.url, t.name, agentA, calendar.code, calendar.verifier);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const userToken = issued.body.access_token as string;

    const tokenA = expectIssued(await exchange({ id: agentA.id, secret: agentA.secret }, userToken, { resource: r1, scope: 'read' }));
    const tokenB = expectIssued(await exchange(agentB, tokenA, { resource: r2, scope: 'read' }));
    return { user, agentA, agentB, userToken, tokenA, tokenB };
  }

  it('a resource verifies B\'s token and sees the user, B and A; every hop only narrows', async () => {
    const { user, agentA, agentB, userToken, tokenA, tokenB } = await chain();
    const jwks = createRemoteJWKSet(new URL(`${a.s.url}/${t.name}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokenB, jwks, { issuer: `${a.s.url}/${t.name}`, audience: r2, typ: 'at+jwt' });
    assert.equal(payload.sub, user);
    assert.equal(payload.kind, 'user');
    assert.equal(payload.scope, 'read');
    assert.equal(payload.roles, undefined);
    assert.deepEqual(payload.act, { sub: agentB.id, kind: 'agent', client_id: agentB.id, act: { sub: agentA.id, kind: 'agent', client_id: agentA.id } });
    assert.deepEqual((await introspect(tokenB)).act, payload.act);

    // Widening at any hop is refused: B's blueprint allows only read on R2; the user consented to no write on R2.
    expectOAuthError(await exchange(agentB, tokenA, { resource: r2, scope: 'write' }), 400, 'invalid_scope');
    expectOAuthError(await exchange({ id: agentA.id, secret: agentA.secret as string }, userToken, { resource: r2, scope: 'write' }), 400, 'invalid_scope');
  });

  it(`the user revokes her consent: B's token further down the chain is inactive within ${BOUND_MS} ms`, async () => {
    const { user, agentA, tokenB, tokenA } = await chain();
    assert.equal((await introspect(tokenB)).active, true);
    const tenant = await a.s.signet.services.tenants.activeByName(t.name);
    assert.ok(tenant);
    const consents = await a.s.signet.services.consents.listForUser(tenant, user);
    const rooms = consents.find((c) => c.clientId === agentA.id && c.resource === r2);
    assert.ok(rooms, 'the consent for R2 she gave on the consent page');
    const started = performance.now();
    await a.s.signet.services.consents.revokeForUser(tenant, user, rooms.id);
    const elapsed = await timeUntil(async () => (await introspect(tokenB)).active === false);
    const total = performance.now() - started;
    assert.ok(total < BOUND_MS, `inactive after ${Math.round(total)} ms (probe ${Math.round(elapsed)} ms)`);
    // Her consent for R1 stands: A's own narrower token is still good, but it can no longer reach R2.
    assert.equal((await introspect(tokenA)).active, true);
  });

  it(`A's sponsor disables A: B's token is inactive within ${BOUND_MS} ms and B can exchange no more`, async () => {
    const { tokenA, tokenB, agentA, agentB } = await chain();
    assert.equal((await introspect(tokenB)).active, true);
    const sponsorToken = await mintToken(a, t, sponsor.id);
    const started = performance.now();
    expectStatus(await a.call('POST', `/tenants/${t.name}/principals/${agentA.id}/disable`, undefined, sponsorToken), 200);
    await timeUntil(async () => (await introspect(tokenB)).active === false);
    const total = performance.now() - started;
    assert.ok(total < BOUND_MS, `inactive after ${Math.round(total)} ms`);
    expectOAuthError(await exchange(agentB, tokenA, { resource: r2, scope: 'read' }), 400, 'invalid_grant');
  });
});
