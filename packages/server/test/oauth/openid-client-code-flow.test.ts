import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { startAdmin, type Admin } from '../admin/helpers.js';
import { browse, consent, createUser, plantSession, REDIRECT, signInClient, type SignInClient } from './people-helpers.js';

/**
 * The acceptance test for people: openid-client 6, an off-the-shelf certified relying party,
 * runs the authorization code flow with PKCE against Signet — discovery, the authorization
 * response with `iss` (RFC 9207), ID token validation (signature, iss, aud, nonce), userinfo,
 * refresh and RP-initiated logout.
 */
describe('interoperability: openid-client runs the authorization code flow with PKCE', () => {
  let a: Admin;
  let issuer: string;
  let rp: SignInClient;
  let userId: string;
  let cookie: string;
  const options = { execute: [client.allowInsecureRequests] };

  /** The browser part: the RP's authorization URL → (sign-in session) → consent → back to the RP. */
  async function authorizeInBrowser(url: URL): Promise<URL> {
    let res = await browse(url.toString(), { cookie });
    if (res.location?.includes('/oauth2/consent?')) res = await consent(a.s.url, res.location, cookie, 'allow');
    assert.equal(res.status, 303, res.body.slice(0, 300));
    return new URL(res.location ?? '');
  }

  before(async () => {
    a = await startAdmin();
    issuer = `${a.s.url}/default`;
    rp = await signInClient(a, 'default', { postLogoutRedirectUris: ['https://app.example/signed-out'] });
    userId = (await createUser(a, 'default', { displayName: 'Ada Lovelace' })).id;
    await a.s.signet.deps.db.updateTable('principals').set({ email: 'ada@example.com', username: 'ada' }).where('id', '=', userId).execute();
    cookie = await plantSession(a, 'default', userId, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' });
  });
  after(() => a.close());

  it('confidential client: code + PKCE, validated ID token, userinfo, refresh, logout', async () => {
    const config = await client.discovery(new URL(issuer), rp.id, rp.secret ?? undefined, client.ClientSecretBasic(rp.secret ?? ''), options);
    const metadata = config.serverMetadata();
    assert.equal(metadata.authorization_endpoint, `${issuer}/oauth2/authorize`);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);

    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });
    const callback = await authorizeInBrowser(url);
    assert.equal(callback.searchParams.get('iss'), issuer);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, userId);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, rp.id);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.acr, 'urn:signet:acr:mfa');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(claims.name, 'Ada Lovelace');
    assert.equal(claims.email, 'ada@example.com');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId);
    assert.deepEqual(userinfo, { sub: userId, name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.com', email_verified: false });

    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims()?.sub, userId);
    // The spent refresh token is refused (and its family revoked) through the library too.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (error: unknown) => {
      assert.ok(error instanceof client.ResponseBodyError);
      assert.equal(error.error, 'invalid_grant');
      return true;
    });

    const logout = client.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token ?? '', post_logout_redirect_uri: 'https://app.example/signed-out', state: 'bye' });
    const res = await browse(logout.toString(), { cookie });
    assert.equal(res.status, 303);
    assert.equal(res.location, `https://app.example/signed-out?state=bye&iss=${encodeURIComponent(issuer)}`);
    // The session is over: authorizing again goes to the sign-in page.
    const again = await browse(url.toString(), { cookie });
    assert.match(again.location ?? '', /\/default\/login\?/);
  });

  it('pushed authorization request (RFC 9126): the library pushes, the browser carries only request_uri', async () => {
    cookie = await plantSession(a, 'default', userId);
    const config = await client.discovery(new URL(issuer), rp.id, rp.secret ?? undefined, client.ClientSecretBasic(rp.secret ?? ''), options);
    assert.equal(config.serverMetadata().pushed_authorization_request_endpoint, `${issuer}/oauth2/par`);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const callback = await authorizeInBrowser(url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    assert.equal(tokens.claims()?.sub, userId);
    // One use: the same request_uri again is a page saying the request has ended.
    const again = await browse(url.toString(), { cookie });
    assert.equal(again.status, 400);
    assert.match(again.body, /This sign-in request has ended/);
  });

  it('public client: no client authentication, PKCE alone', async () => {
    cookie = await plantSession(a, 'default', userId);
    const native = await signInClient(a, 'default', { clientType: 'public', redirectUris: ['http://127.0.0.1/callback'] });
    const config = await client.discovery(new URL(issuer), native.id, undefined, client.None(), options);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:49152/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'native-state',
    });
    const callback = await authorizeInBrowser(url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'native-state' });
    assert.equal(tokens.claims()?.sub, userId);
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, userId)).sub, userId);
  });

  it('userinfo refuses a token without openid (insufficient_scope) and garbage (invalid_token) with a Bearer challenge', async () => {
    const bad = await fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Bearer realm=".*", error="invalid_token"/);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_token');
    const machine = await fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(machine.status, 401, 'a machine token for another audience is not a userinfo token');
  });
});
