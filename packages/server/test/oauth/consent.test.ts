import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, createTenant, expectError, expectStatus, jwtPayload, startAdmin, type Admin, type Page } from '../admin/helpers.js';
import { expectOAuthError } from './helpers.js';
import { authorizeUrl, browse, clientRedirect, consent, createUser, pkce, plantSession, redeem, REDIRECT, signInClient, tokenRequest, type SignInClient } from './people-helpers.js';

const RESOURCE = 'api://photos';

interface ConsentView {
  id: string;
  user: string | null;
  client: string;
  resource: string;
  scopes: string[];
  expiresAt: string;
}

/** Delegated access only with consent: the page, declining optional scopes, expiry, revocation. */
describe('consent', () => {
  let a: Admin;
  let tenant: string;
  let tenantId: string;
  let client: SignInClient;
  let agent: SignInClient;

  const request = (c: SignInClient, extra: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(a.s.url, tenant, {
      response_type: 'code',
      client_id: c.id,
      redirect_uri: REDIRECT,
      scope: 'openid profile offline_access photos.read photos.write',
      resource: RESOURCE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
      ...extra,
    });
    return { url, verifier };
  };
  const newUser = async () => {
    const user = await createUser(a, tenant, { displayName: 'Grace Hopper' });
    return { id: user.id, cookie: await plantSession(a, tenant, user.id) };
  };

  before(async () => {
    a = await startAdmin();
    const t = await createTenant(a);
    tenant = t.name;
    tenantId = t.id;
    expectStatus(
      await a.call('POST', `/tenants/${tenant}/resources`, {
        identifier: RESOURCE,
        displayName: 'Photos API',
        scopes: [
          { name: 'photos.read', description: 'See your photos' },
          { name: 'photos.write', description: 'Upload and delete your photos' },
        ],
        roles: [{ name: 'photos.admin', description: 'Administer' }],
      }),
      201,
    );
    client = await signInClient(a, tenant, { requiredScopes: ['photos.read'] });
    const sponsor = await createUser(a, tenant, { displayName: 'Sam Sponsor' });
    agent = await signInClient(a, tenant, {}, { kind: 'agent', displayName: 'Trip planner', sponsors: [sponsor.id] });
  });
  after(() => a.close());

  it('the page names the client, the resource and each scope with its description, behind clickjacking protection', async () => {
    const user = await newUser();
    const res = await browse(request(client).url, { cookie: user.cookie });
    assert.equal(res.status, 303);
    assert.match(res.location ?? '', new RegExp(`^/${tenant}/oauth2/consent\\?request=`));
    const page = await browse(new URL(res.location ?? '', a.s.url).toString(), { cookie: user.cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /Photo app/);
    assert.match(page.body, /an application/);
    assert.match(page.body, /Photos API \(api:\/\/photos\)/);
    assert.match(page.body, /<code>photos.write<\/code>: Upload and delete your photos/);
    assert.match(page.body, /<code>photos.read<\/code>: See your photos <span class="hint">\(required\)<\/span>/);
    assert.match(page.body, /<code>offline_access<\/code>: Stay signed in/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
  });

  it('an AI agent is named as one, with its sponsor', async () => {
    const user = await newUser();
    const res = await browse(request(agent).url, { cookie: user.cookie });
    const page = await browse(new URL(res.location ?? '', a.s.url).toString(), { cookie: user.cookie });
    assert.match(page.body, /Trip planner is an AI agent<\/strong>, not a person/);
    assert.match(page.body, /Accountable for it: <strong>Sam Sponsor<\/strong>/);
  });

  it('declining optional scopes: the token carries only what was allowed, as delegated scope, never roles', async () => {
    const user = await newUser();
    const { url, verifier } = request(client);
    const res = await browse(url, { cookie: user.cookie });
    const answer = await consent(a.s.url, res.location ?? '', user.cookie, 'allow', ['offline_access']);
    const code = clientRedirect(answer, REDIRECT).get('code') ?? '';
    const tokens = await redeem(a.s.url, tenant, client, code, verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.scope, 'openid offline_access photos.read');
    const claims = jwtPayload(tokens.body.access_token);
    assert.equal(claims.aud, RESOURCE);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.kind, 'user');
    assert.equal(claims.client_id, client.id);
    assert.equal(claims.scope, 'openid offline_access photos.read');
    assert.equal(claims.roles, undefined);
    const stored = expectStatus(await a.call<Page<ConsentView>>('GET', `/tenants/${tenant}/consents?user=${user.id}`), 200).items;
    assert.deepEqual(stored.map((c) => [c.resource, [...c.scopes].sort()]).sort(), [
      [RESOURCE, ['photos.read']],
      ['urn:signet:identity', ['offline_access', 'openid']],
    ]);
  });

  it('deny sends access_denied to the client and records nothing', async () => {
    const user = await newUser();
    const res = await browse(request(client).url, { cookie: user.cookie });
    const answer = await consent(a.s.url, res.location ?? '', user.cookie, 'deny');
    const query = clientRedirect(answer, REDIRECT);
    assert.equal(query.get('error'), 'access_denied');
    assert.equal(query.get('state'), 's');
    assert.equal(expectStatus(await a.call<Page<ConsentView>>('GET', `/tenants/${tenant}/consents?user=${user.id}`), 200).items.length, 0);
    const refused = (await auditEvents(a, tenantId)).find((e) => e.type === 'authorization.refused' && e.subjectId === user.id);
    assert.equal(refused?.data.error, 'access_denied');
  });

  it('a consent form without this browser\'s CSRF token is refused', async () => {
    const user = await newUser();
    const res = await browse(request(client).url, { cookie: user.cookie });
    const page = await browse(new URL(res.location ?? '', a.s.url).toString(), { cookie: user.cookie });
    const requestId = /name="request" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const forged = await browse(`${a.s.url}/${tenant}/oauth2/consent`, { cookie: user.cookie, form: { request: requestId, csrf: 'forged', decision: 'allow' } });
    assert.equal(forged.status, 403);
    assert.equal(forged.location, null);
  });

  it('once consented, the next request skips the page; prompt=consent asks again; prompt=none needs consent', async () => {
    const user = await newUser();
    const res = await browse(request(client, { prompt: 'none' }).url, { cookie: user.cookie });
    assert.equal(clientRedirect(res, REDIRECT).get('error'), 'consent_required');
    const first = await browse(request(client).url, { cookie: user.cookie });
    await consent(a.s.url, first.location ?? '', user.cookie, 'allow');
    const again = await browse(request(client).url, { cookie: user.cookie });
    assert.ok(clientRedirect(again, REDIRECT).get('code'));
    const forced = await browse(request(client, { prompt: 'consent' }).url, { cookie: user.cookie });
    assert.match(forced.location ?? '', /\/oauth2\/consent\?/);
  });

  it('consents expire after the tenant\'s consentLifetimeDays', async () => {
    const t = await createTenant(a, { settings: { consentLifetimeDays: 1 } });
    const c = await signInClient(a, t.name);
    const user = await createUser(a, t.name);
    let cookie = await plantSession(a, t.name, user.id);
    const url = () => authorizeUrl(a.s.url, t.name, { response_type: 'code', client_id: c.id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' });
    const first = await browse(url().replace('&prompt=none', ''), { cookie });
    await consent(a.s.url, first.location ?? '', cookie, 'allow');
    assert.ok(clientRedirect(await browse(url(), { cookie }), REDIRECT).get('code'));
    a.s.advance(86_400_000 + 1000);
    cookie = await plantSession(a, t.name, user.id);
    assert.equal(clientRedirect(await browse(url(), { cookie }), REDIRECT).get('error'), 'consent_required');
    a.token = await a.s.adminToken();
  });

  it('revoking a consent (admin API) kills the refresh tokens it backed; users revoke their own through the service', async () => {
    const user = await newUser();
    const { url, verifier } = request(client);
    const res = await browse(url, { cookie: user.cookie });
    const code = clientRedirect(await consent(a.s.url, res.location ?? '', user.cookie, 'allow'), REDIRECT).get('code') ?? '';
    const tokens = await redeem(a.s.url, tenant, client, code, verifier);
    assert.equal(tokens.status, 200);
    const list = expectStatus(await a.call<Page<ConsentView>>('GET', `/tenants/${tenant}/consents?user=${user.id}&client=${client.id}`), 200).items;
    const photos = list.find((c) => c.resource === RESOURCE);
    assert.ok(photos);
    expectStatus(await a.call('DELETE', `/tenants/${tenant}/consents/${photos.id}`), 204);
    expectOAuthError(await tokenRequest(a.s.url, tenant, client, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }), 400, 'invalid_grant');
    expectError(await a.call('DELETE', `/tenants/${tenant}/consents/${photos.id}`), 404, 'not_found');
    const revoked = (await auditEvents(a, tenantId)).find((e) => e.type === 'consent.revoked' && e.targetId === photos.id);
    assert.ok(revoked);

    // The account page's path: the user lists and revokes their own consent; someone else's is not found.
    const services = a.s.signet.services;
    const tenantRecord = await services.tenants.resolve(tenant);
    const own = await services.consents.listForUser(tenantRecord, user.id);
    const identity = own.find((c) => c.resource === 'urn:signet:identity');
    assert.ok(identity);
    const stranger = await newUser();
    await assert.rejects(services.consents.revokeForUser(tenantRecord, stranger.id, identity.id), /was not found/);
    const { challenge, verifier: v2 } = pkce();
    const again = await browse(authorizeUrl(a.s.url, tenant, { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }), { cookie: user.cookie });
    const idTokens = await redeem(a.s.url, tenant, client, clientRedirect(again, REDIRECT).get('code') ?? '', v2);
    const userinfo = () => fetch(`${a.s.url}/${tenant}/oauth2/userinfo`, { headers: { authorization: `Bearer ${idTokens.body.access_token}` } });
    assert.equal((await userinfo()).status, 200);
    await services.consents.revokeForUser(tenantRecord, user.id, identity.id);
    assert.equal((await services.consents.listForUser(tenantRecord, user.id)).length, 0);
    // userinfo stops at once for the revoked client.
    assert.equal((await userinfo()).status, 401);
  });

  it('admin consent for every user skips the page for all of them; the admin API validates it', async () => {
    expectError(await a.call('POST', `/tenants/${tenant}/consents`, { client: agent.id, resource: RESOURCE, scopes: ['photos.delete'] }), 400, 'invalid_request');
    expectError(await a.call('POST', `/tenants/${tenant}/consents`, { client: agent.id, resource: 'api://nope', scopes: ['x'] }), 404, 'not_found');
    const created = expectStatus(await a.call<ConsentView>('POST', `/tenants/${tenant}/consents`, { client: agent.id, resource: RESOURCE, scopes: ['photos.read'] }), 201);
    assert.equal(created.user, null);
    expectStatus(await a.call('POST', `/tenants/${tenant}/consents`, { client: agent.id, resource: 'urn:signet:identity', scopes: ['openid'] }), 201);
    const all = expectStatus(await a.call<Page<ConsentView>>('GET', `/tenants/${tenant}/consents?allUsers=true`), 200).items;
    assert.equal(all.filter((c) => c.client === agent.id).length, 2);
    for (let i = 0; i < 2; i++) {
      const user = await newUser();
      const res = await browse(request(agent, { scope: 'openid photos.read' }).url, { cookie: user.cookie });
      assert.ok(clientRedirect(res, REDIRECT).get('code'), 'no consent page');
    }
  });
});
