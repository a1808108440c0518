import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, startAdmin, type Admin } from '../admin/helpers.js';
import { expectOAuthError } from './helpers.js';
import { authorizeUrl, browse, clientRedirect, createUser, obtainCode, pkce, plantSession, redeem, REDIRECT, signInClient, tokenRequest, type SignInClient } from './people-helpers.js';

/** RFC 9700 requirements on the authorization endpoint and the code exchange, one test each. */
describe('authorization endpoint (RFC 9700)', () => {
  let a: Admin;
  let issuer: string;
  let client: SignInClient;
  let userId: string;
  let cookie: string;
  const base = (extra: Record<string, string | undefined> = {}) => {
    const { challenge } = pkce();
    return { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', ...extra };
  };
  const expectPage = (res: { status: number; location: string | null; headers: Headers; body: string }, status = 400) => {
    assert.equal(res.status, status, res.body.slice(0, 300));
    assert.equal(res.location, null, 'an error page never redirects');
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  };
  const expectRedirectError = (res: Parameters<typeof clientRedirect>[0], error: string) => {
    const q = clientRedirect(res, REDIRECT);
    assert.equal(q.get('error'), error, res.location ?? '');
    assert.equal(q.get('state'), 'xyz');
    assert.equal(q.get('iss'), issuer);
    assert.equal(q.get('code'), null);
  };

  before(async () => {
    a = await startAdmin();
    issuer = `${a.s.url}/default`;
    client = await signInClient(a, 'default', { postLogoutRedirectUris: ['https://app.example/bye'] });
    userId = (await createUser(a, 'default')).id;
    cookie = await plantSession(a, 'default', userId);
    // Consent once so these tests reach the code without the consent page.
    await obtainCode(a, 'default', client, cookie, { scope: 'openid offline_access' });
  });
  after(() => a.close());

  it('redirect URIs match exactly: any variation is an error page, never a redirect', async () => {
    for (const variant of [`${REDIRECT}/`, `${REDIRECT}?x=1`, 'https://APP.example/callback', 'http://app.example/callback', 'https://app.example/callbacks', 'https://app.example/callback#f', 'https://evil.example/callback']) {
      expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ redirect_uri: variant })), { cookie }));
    }
  });

  it('no open redirect: unknown client, missing redirect_uri, disabled client, repeated redirect_uri all give a page', async () => {
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: '0190d7c4-0000-7000-8000-000000000000' })), { cookie }));
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: 'not-an-id' })), { cookie }));
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ redirect_uri: undefined })), { cookie }));
    expectPage(await browse(`${authorizeUrl(a.s.url, 'default', base({ response_type: 'token' }))}&redirect_uri=${encodeURIComponent('https://evil.example/')}`, { cookie }));
    const other = await signInClient(a, 'default');
    await a.call('POST', `/tenants/default/principals/${other.id}/disable`);
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: other.id })), { cookie }));
    // A principal with no sign-in settings is not a sign-in client.
    const machine = (await a.call<{ id: string }>('POST', '/tenants/default/principals', { kind: 'service', displayName: 'machine' })).body;
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: machine.id })), { cookie }));
  });

  it('loopback redirect URIs may change port for public (native) clients only', async () => {
    const native = await signInClient(a, 'default', { clientType: 'public', redirectUris: ['http://127.0.0.1/cb', 'http://[::1]:8000/cb'] });
    const confidential = await signInClient(a, 'default', { redirectUris: ['http://127.0.0.1:8000/cb'] });
    const nativeCookie = cookie;
    for (const uri of ['http://127.0.0.1:51234/cb', 'http://[::1]:9/cb']) {
      const res = await browse(authorizeUrl(a.s.url, 'default', base({ client_id: native.id, redirect_uri: uri, prompt: 'none' })), { cookie: nativeCookie });
      // Accepted: the outcome goes to that very URI (consent is still needed: consent_required).
      assert.equal(clientRedirect(res, uri).get('error'), 'consent_required');
    }
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: native.id, redirect_uri: 'http://127.0.0.1:5000/other' })), { cookie }));
    expectPage(await browse(authorizeUrl(a.s.url, 'default', base({ client_id: confidential.id, redirect_uri: 'http://127.0.0.1:9000/cb' })), { cookie }));
  });

  it('PKCE is required with S256: missing challenge, plain, no method and a malformed challenge are refused at the redirect URI', async () => {
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ code_challenge: undefined })), { cookie }), 'invalid_request');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ code_challenge_method: 'plain' })), { cookie }), 'invalid_request');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ code_challenge_method: undefined })), { cookie }), 'invalid_request');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ code_challenge: 'short' })), { cookie }), 'invalid_request');
  });

  it('only response_type=code: token and hybrid types are unsupported_response_type', async () => {
    for (const type of ['token', 'id_token', 'code token', 'code id_token']) {
      expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ response_type: type })), { cookie }), 'unsupported_response_type');
    }
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ response_type: undefined })), { cookie }), 'invalid_request');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ request: 'eyJ.x.y' })), { cookie }), 'request_not_supported');
  });

  it('repeated parameters and unknown scopes are refused', async () => {
    expectRedirectError(await browse(`${authorizeUrl(a.s.url, 'default', base())}&scope=openid`, { cookie }), 'invalid_request');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ scope: 'openid orders.read' })), { cookie }), 'invalid_scope');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ resource: 'api://nowhere' })), { cookie }), 'invalid_target');
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ prompt: 'none login' })), { cookie }), 'invalid_request');
  });

  it('the success response carries the code, the client\'s state and iss (RFC 9207); redirects are 303', async () => {
    const { query } = await obtainCode(a, 'default', client, cookie, { state: 'abc 123/é' });
    assert.equal(query.get('state'), 'abc 123/é');
    assert.equal(query.get('iss'), issuer);
    assert.match(query.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/);
  });

  it('without a session the browser goes to the sign-in page; prompt=none answers login_required instead', async () => {
    const res = await browse(authorizeUrl(a.s.url, 'default', base()));
    assert.equal(res.status, 303);
    const login = new URL(res.location ?? '');
    assert.equal(login.pathname, '/default/login');
    assert.match(login.searchParams.get('return_to') ?? '', /^\/default\/oauth2\/authorize\/continue\?request=/);
    expectRedirectError(await browse(authorizeUrl(a.s.url, 'default', base({ prompt: 'none' }))), 'login_required');
  });

  it('prompt=login and an exceeded max_age send a signed-in user back to sign in', async () => {
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
      a.s.advance(2000);
      const res = await browse(authorizeUrl(a.s.url, 'default', base(extra)), { cookie });
      assert.equal(res.status, 303);
      const login = new URL(res.location ?? '');
      assert.equal(login.pathname, '/default/login');
      assert.equal(login.searchParams.get('prompt'), 'login');
    }
    // A fresh enough session passes max_age.
    const { query } = await obtainCode(a, 'default', client, await plantSession(a, 'default', userId), { max_age: '60' });
    assert.ok(query.get('code'));
  });

  it('acr_values=urn:signet:acr:mfa (or a tenant requiring MFA) sends a one-factor session back to sign in with a second factor', async () => {
    const res = await browse(authorizeUrl(a.s.url, 'default', base({ acr_values: 'urn:signet:acr:mfa' })), { cookie });
    assert.equal(res.status, 303);
    const login = new URL(res.location ?? '');
    assert.equal(login.pathname, '/default/login');
    assert.equal(login.searchParams.get('mfa'), 'required');
    const mfaCookie = await plantSession(a, 'default', userId, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' });
    const { code, verifier } = await obtainCode(a, 'default', client, mfaCookie, { acr_values: 'urn:signet:acr:mfa' });
    const { jwtPayload } = await import('../admin/helpers.js');
    assert.equal(jwtPayload((await redeem(a.s.url, 'default', client, code, verifier)).body.id_token).acr, 'urn:signet:acr:mfa');
  });

  it('codes are single-use; a second use is refused and revokes the refresh token the first use issued', async () => {
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, { scope: 'openid offline_access' });
    const first = await redeem(a.s.url, 'default', client, code, verifier);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(first.body.refresh_token);
    expectOAuthError(await redeem(a.s.url, 'default', client, code, verifier), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest(a.s.url, 'default', client, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }), 400, 'invalid_grant');
    const events = await auditEvents(a, (await a.s.signet.services.tenants.resolve('default')).id);
    const reused = events.find((e) => e.type === 'authorization_code.reused');
    assert.ok(reused, 'authorization_code.reused is audited');
    assert.equal(reused.outcome, 'failure');
    assert.equal(reused.data.familyRevoked, true);
  });

  it('codes live at most 60 seconds', async () => {
    const fresh = await obtainCode(a, 'default', client, cookie, {});
    a.s.advance(59_000);
    assert.equal((await redeem(a.s.url, 'default', client, fresh.code, fresh.verifier)).status, 200);
    const stale = await obtainCode(a, 'default', client, cookie, {});
    a.s.advance(61_000);
    expectOAuthError(await redeem(a.s.url, 'default', client, stale.code, stale.verifier), 400, 'invalid_grant');
  });

  it('PKCE cannot be skipped or downgraded at the token endpoint', async () => {
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, {});
    expectOAuthError(await redeem(a.s.url, 'default', client, code, undefined), 400, 'invalid_grant');
    expectOAuthError(await redeem(a.s.url, 'default', client, code, pkce().verifier), 400, 'invalid_grant');
    // The challenge itself as the verifier (what "plain" would accept) is refused too.
    const challenge = (await import('node:crypto')).createHash('sha256').update(verifier).digest('base64url');
    expectOAuthError(await redeem(a.s.url, 'default', client, code, challenge), 400, 'invalid_grant');
    assert.equal((await redeem(a.s.url, 'default', client, code, verifier)).status, 200);
  });

  it('the redirect_uri and the client must be the ones the code was issued for', async () => {
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, {});
    expectOAuthError(await redeem(a.s.url, 'default', client, code, verifier, 'https://app.example/other'), 400, 'invalid_grant');
    const other = await signInClient(a, 'default');
    expectOAuthError(await redeem(a.s.url, 'default', other, code, verifier), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest(a.s.url, 'default', client, { grant_type: 'authorization_code', code, code_verifier: verifier }), 400, 'invalid_request');
  });

  it('a confidential client must authenticate; only public clients may use client_id alone', async () => {
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, {});
    const res = await tokenRequest(a.s.url, 'default', { ...client, secret: null }, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT });
    expectOAuthError(res, 401, 'invalid_client');
  });

  it('the token is delegated: sub is the user, kind user, client_id the client, scope consented, no roles; the ID token carries nonce and auth_time', async () => {
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, { nonce: 'n-0S6_WzA2Mj' });
    const res = await redeem(a.s.url, 'default', client, code, verifier);
    assert.equal(res.status, 200);
    const { jwtPayload } = await import('../admin/helpers.js');
    const at = jwtPayload(res.body.access_token);
    assert.equal(at.sub, userId);
    assert.equal(at.kind, 'user');
    assert.equal(at.client_id, client.id);
    assert.equal(at.scope, 'openid');
    assert.equal(at.aud, `${issuer}/oauth2/userinfo`);
    assert.equal(at.roles, undefined);
    assert.equal(res.body.refresh_token, undefined, 'no refresh token without offline_access');
    const id = jwtPayload(res.body.id_token);
    assert.equal(id.nonce, 'n-0S6_WzA2Mj');
    assert.equal(id.aud, client.id);
    assert.equal(id.iss, issuer);
    assert.equal(typeof id.auth_time, 'number');
    assert.deepEqual(id.amr, ['pwd']);
    assert.equal(id.acr, 'urn:signet:acr:pwd');
  });
});
