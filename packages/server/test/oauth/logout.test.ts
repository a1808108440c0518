import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdmin, type Admin } from '../admin/helpers.js';
import { authorizeUrl, browse, createUser, hidden, obtainCode, pkce, plantSession, redeem, REDIRECT, signInClient, type SignInClient } from './people-helpers.js';

/** OpenID Connect RP-Initiated Logout: validated post-logout redirect, confirmation without a hint. */
describe('RP-initiated logout (end_session_endpoint)', () => {
  let a: Admin;
  let client: SignInClient;
  let userId: string;
  const BYE = 'https://app.example/bye';
  const logoutUrl = (params: Record<string, string>) => `${a.s.url}/default/oauth2/logout?${new URLSearchParams(params).toString()}`;
  const signedIn = async (cookie: string) => {
    const res = await browse(authorizeUrl(a.s.url, 'default', { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' }), { cookie });
    return !(res.location ?? '').includes('error=login_required');
  };

  before(async () => {
    a = await startAdmin();
    client = await signInClient(a, 'default', { postLogoutRedirectUris: [BYE] });
    userId = (await createUser(a, 'default')).id;
  });
  after(() => a.close());

  it('a post_logout_redirect_uri not registered for the client is an error page, and the session stays', async () => {
    const cookie = await plantSession(a, 'default', userId);
    const { code, verifier } = await obtainCode(a, 'default', client, cookie, {});
    const idToken = (await redeem(a.s.url, 'default', client, code, verifier)).body.id_token as string;
    for (const uri of ['https://evil.example/', `${BYE}/`, `${BYE}?x=1`]) {
      const res = await browse(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: uri }), { cookie });
      assert.equal(res.status, 400);
      assert.equal(res.location, null);
    }
    // Without a client to check it against, no post_logout_redirect_uri is accepted.
    assert.equal((await browse(logoutUrl({ post_logout_redirect_uri: BYE }), { cookie })).status, 400);
    assert.ok(await signedIn(cookie));
  });

  it('an id_token_hint this tenant did not sign is refused', async () => {
    const cookie = await plantSession(a, 'default', userId);
    const forged = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'nope' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: `${a.s.url}/default`, sub: userId, aud: client.id })).toString('base64url')}.c2ln`;
    const res = await browse(logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: BYE }), { cookie });
    assert.equal(res.status, 400);
    assert.ok(await signedIn(cookie));
  });

  it('without a hint the user confirms with a CSRF-protected form; then the session ends and the browser returns to the client', async () => {
    const cookie = await plantSession(a, 'default', userId);
    const page = await browse(logoutUrl({ client_id: client.id, post_logout_redirect_uri: BYE, state: 'z' }), { cookie });
    assert.equal(page.status, 200);
    assert.ok(await signedIn(cookie), 'a GET alone does not sign out');
    const csrfCookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const forged = await browse(`${a.s.url}/default/oauth2/logout`, { cookie, form: { client_id: client.id, post_logout_redirect_uri: BYE, confirm: 'yes', csrf: 'x' } });
    assert.equal(forged.status, 403);
    const res = await browse(`${a.s.url}/default/oauth2/logout`, {
      cookie: `${cookie}; ${csrfCookie}`,
      form: { csrf: hidden(page.body, 'csrf'), client_id: client.id, post_logout_redirect_uri: BYE, state: 'z', confirm: 'yes' },
    });
    assert.equal(res.status, 303);
    assert.equal(res.location, `${BYE}?state=z&iss=${encodeURIComponent(`${a.s.url}/default`)}`);
    assert.equal(await signedIn(cookie), false);
  });
});
