import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, createTenant, startAdmin, type Admin } from '../admin/helpers.js';
import { expectOAuthError } from './helpers.js';
import { dpopKey, postTokenWithDpop } from './dpop-helpers.js';
import { createUser, obtainCode, plantSession, REDIRECT, redeem, signInClient, tokenRequest, type SignInClient } from './people-helpers.js';

/** refresh_token: rotation on every use, family revocation on reuse (RFC 9700 §4.14.2), lifetimes per tenant. */
describe('refresh tokens', () => {
  let a: Admin;
  let tenant: string;
  let tenantId: string;
  let client: SignInClient;
  let cookie: string;
  let userId: string;

  const start = async (c: SignInClient = client, scope = 'openid profile offline_access') => {
    cookie = await plantSession(a, tenant, userId);
    const { code, verifier } = await obtainCode(a, tenant, c, cookie, { scope });
    const res = await redeem(a.s.url, tenant, c, code, verifier);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { access_token: string; refresh_token: string; id_token: string; scope: string };
  };
  const refresh = (token: string, c: SignInClient = client, extra: Record<string, string> = {}) => tokenRequest(a.s.url, tenant, c, { grant_type: 'refresh_token', refresh_token: token, ...extra });

  before(async () => {
    a = await startAdmin();
    const t = await createTenant(a, { settings: { refreshTokenIdleSeconds: 600, refreshTokenLifetimeSeconds: 3600 } });
    tenant = t.name;
    tenantId = t.id;
    client = await signInClient(a, tenant);
    userId = (await createUser(a, tenant)).id;
  });
  after(() => a.close());

  it('every use returns a new refresh token; the spent one is refused, and its reuse revokes the whole family (audited)', async () => {
    const first = await start();
    const second = await refresh(first.refresh_token);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    assert.equal(second.body.scope, 'openid profile offline_access');
    assert.ok(second.body.id_token, 'openid: a new ID token too');
    const third = await refresh(second.body.refresh_token);
    assert.equal(third.status, 200);

    // An attacker replays the first token: refused, and the legitimate newest token dies with it.
    expectOAuthError(await refresh(first.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await refresh(third.body.refresh_token), 400, 'invalid_grant');
    const reused = (await auditEvents(a, tenantId)).find((e) => e.type === 'refresh_token.reused');
    assert.ok(reused);
    assert.equal(reused.clientId, client.id);
    assert.equal(reused.data.familyRevoked, true);
  });

  it('RFC 7009: the client revokes its refresh token and the whole family ends; another client cannot (unauthorized_client); a public client revokes by client_id', async () => {
    const revoke = (c: SignInClient, form: Record<string, string>) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (c.secret !== null) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;
      return fetch(`${a.s.url}/${tenant}/oauth2/revoke`, { method: 'POST', headers, body: new URLSearchParams(c.secret === null ? { ...form, client_id: c.id } : form) });
    };
    const first = await start();
    const rotated = await refresh(first.refresh_token);
    assert.equal(rotated.status, 200);
    const other = await signInClient(a, tenant);
    const refused = await revoke(other, { token: rotated.body.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'unauthorized_client');
    assert.equal((await revoke(client, { token: rotated.body.refresh_token, token_type_hint: 'refresh_token' })).status, 200);
    expectOAuthError(await refresh(rotated.body.refresh_token), 400, 'invalid_grant');
    const revoked = (await auditEvents(a, tenantId)).filter((e) => e.type === 'token.revoked' && e.data.tokenType === 'refresh_token');
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0]?.subjectId, userId);
    // Revoking again, or a token nobody knows: 200 and nothing more (RFC 7009 §2.2).
    assert.equal((await revoke(client, { token: rotated.body.refresh_token })).status, 200);
    assert.equal((await revoke(client, { token: 'not-a-token' })).status, 200);

    const pub = await signInClient(a, tenant, { clientType: 'public' });
    const own = await start(pub);
    assert.equal((await revoke(pub, { token: own.refresh_token })).status, 200);
    expectOAuthError(await refresh(own.refresh_token, pub), 400, 'invalid_grant');
  });

  it('RFC 9449: a public client that proved a DPoP key at the code exchange must prove the same key at every refresh', async () => {
    const pub = await signInClient(a, tenant, { clientType: 'public' });
    const key = await dpopKey();
    cookie = await plantSession(a, tenant, userId);
    const { code, verifier } = await obtainCode(a, tenant, pub, cookie, { scope: 'openid offline_access' });
    const now = () => a.s.now();
    const issued = await postTokenWithDpop({ url: a.s.url, tenant, form: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: pub.id }, key, now });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.token_type, 'DPoP');
    const form = { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string, client_id: pub.id };
    expectOAuthError(await refresh(form.refresh_token, pub), 400, 'invalid_dpop_proof');
    expectOAuthError(await postTokenWithDpop({ url: a.s.url, tenant, form, key: await dpopKey(), now }), 400, 'invalid_dpop_proof');
    const rotated = await postTokenWithDpop({ url: a.s.url, tenant, form, key, now });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.token_type, 'DPoP');
  });

  it('refresh tokens are stored only as digests', async () => {
    const { refresh_token } = await start();
    const rows = await a.s.signet.deps.db.selectFrom('refresh_tokens').select('digest').execute();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.digest !== refresh_token));
    assert.ok(rows.some((r) => r.digest === a.s.signet.deps.hasher.digest(refresh_token)));
  });

  it('a refresh token is refused after the tenant\'s idle timeout', async () => {
    const { refresh_token } = await start();
    a.s.advance(601_000);
    expectOAuthError(await refresh(refresh_token), 400, 'invalid_grant');
  });

  it('a family ends at the tenant\'s lifetime however often it is used', async () => {
    let { refresh_token: token } = await start();
    for (let i = 0; i < 7; i++) {
      a.s.advance(500_000);
      const res = await refresh(token);
      assert.equal(res.status, 200, `refresh ${i}: ${JSON.stringify(res.body)}`);
      token = res.body.refresh_token;
    }
    // 3,700 s in, each use within the 600 s idle timeout: the family's 3,600 s are over anyway.
    a.s.advance(200_000);
    expectOAuthError(await refresh(token), 400, 'invalid_grant');
  });

  it('scope may narrow on refresh but never widen', async () => {
    const { refresh_token } = await start();
    const narrow = await refresh(refresh_token, client, { scope: 'openid offline_access' });
    assert.equal(narrow.status, 200);
    assert.equal(narrow.body.scope, 'openid offline_access');
    expectOAuthError(await refresh(narrow.body.refresh_token, client, { scope: 'openid email offline_access' }), 400, 'invalid_scope');
  });

  it('no offline_access, no refresh token', async () => {
    const body = await start(client, 'openid profile');
    assert.equal(body.refresh_token, undefined);
  });

  it('a refresh token works only for the client it was issued to', async () => {
    const { refresh_token } = await start();
    a.token = await a.s.adminToken();
    const other = await signInClient(a, tenant);
    expectOAuthError(await refresh(refresh_token, other), 400, 'invalid_grant');
  });

  it('public clients refresh without authentication, but cannot use client_credentials', async () => {
    a.token = await a.s.adminToken();
    const native = await signInClient(a, tenant, { clientType: 'public', redirectUris: ['http://127.0.0.1/cb'] });
    cookie = await plantSession(a, tenant, userId);
    const { code, verifier } = await obtainCode(a, tenant, native, cookie, { scope: 'openid offline_access', redirect_uri: 'http://127.0.0.1:4567/cb' });
    const tokens = await redeem(a.s.url, tenant, native, code, verifier, 'http://127.0.0.1:4567/cb');
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const refreshed = await refresh(tokens.body.refresh_token, native);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    expectOAuthError(await tokenRequest(a.s.url, tenant, native, { grant_type: 'client_credentials', scope: 'urn:signet:admin/.default' }), 401, 'invalid_client');
  });

  it('disabling the user stops refresh', async () => {
    a.token = await a.s.adminToken();
    const user = await createUser(a, tenant);
    const userCookie = await plantSession(a, tenant, user.id);
    const { code, verifier } = await obtainCode(a, tenant, client, userCookie, { scope: 'openid offline_access' });
    const tokens = await redeem(a.s.url, tenant, client, code, verifier);
    await a.call('POST', `/tenants/${tenant}/principals/${user.id}/disable`);
    expectOAuthError(await refresh(tokens.body.refresh_token), 400, 'invalid_grant');
  });
});
