import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, startAdmin, type Admin } from '../admin/helpers.js';
import { basicAuth, expectIssued, expectOAuthError, type TokenResponse } from './helpers.js';
import { authorizeUrl, browse, type BrowserResponse, clientRedirect, consent, createUser, pkce, plantSession, REDIRECT, redeem, signInClient, type SignInClient } from './people-helpers.js';

/** RFC 9126 pushed authorization requests: checked and stored before the browser goes anywhere. */
describe('pushed authorization requests (RFC 9126)', () => {
  let a: Admin;
  let tenant: string;
  let rp: SignInClient;
  let spa: SignInClient;
  let cookie: string;

  async function push(form: Record<string, string>, auth: SignInClient | null = rp): Promise<TokenResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth?.secret) headers.authorization = basicAuth(auth.id, auth.secret);
    const response = await fetch(`${a.s.url}/${tenant}/oauth2/par`, { method: 'POST', headers, body: new URLSearchParams(form) });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }
  const request = (challenge: string, extra: Record<string, string> = {}) => ({ response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'pushed-state', ...extra });

  /** The browser's part: authorize with only client_id and request_uri (and `extra`), consent, back at the client. */
  async function authorizeWith(client: SignInClient, requestUri: string, extra: Record<string, string> = {}) {
    let res = await browse(authorizeUrl(a.s.url, tenant, { client_id: client.id, request_uri: requestUri, ...extra }), { cookie });
    if (res.location?.includes('/oauth2/consent?')) res = await consent(a.s.url, res.location, cookie, 'allow');
    return res;
  }

  before(async () => {
    a = await startAdmin();
    tenant = (await createTenant(a)).name;
    rp = await signInClient(a, tenant);
    spa = await signInClient(a, tenant, { clientType: 'public' });
    cookie = await plantSession(a, tenant, (await createUser(a, tenant)).id);
  });
  after(() => a.close());

  it('a confidential client pushes its request and gets a one-minute request_uri; the browser carries only that', async () => {
    const { verifier, challenge } = pkce();
    const res = await push(request(challenge));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.body.request_uri, /^urn:ietf:params:oauth:request_uri:par_[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.expires_in, 60);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    // Parameters the browser adds are ignored: the pushed ones were checked, these were not.
    const query = clientRedirect(await authorizeWith(rp, res.body.request_uri, { redirect_uri: 'https://evil.example/cb', state: 'tampered' }), REDIRECT);
    assert.equal(query.get('state'), 'pushed-state');
    expectIssued(await redeem(a.s.url, tenant, rp, query.get('code') ?? '', verifier));
  });

  it('a public client pushes with its client_id alone', async () => {
    const { verifier, challenge } = pkce();
    const res = await push({ ...request(challenge), client_id: spa.id }, null);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const query = clientRedirect(await authorizeWith(spa, res.body.request_uri), REDIRECT);
    expectIssued(await redeem(a.s.url, tenant, spa, query.get('code') ?? '', verifier));
  });

  it('refuses, as JSON to the client: no client authentication, another client_id, an unregistered redirect URI, no PKCE, response_type=token, a pushed request_uri', async () => {
    const { challenge } = pkce();
    expectOAuthError(await push({ ...request(challenge), client_id: rp.id }, null), 401, 'invalid_client');
    expectOAuthError(await push({ ...request(challenge), client_id: spa.id }), 400, 'invalid_request');
    const unregistered = await push(request(challenge, { redirect_uri: 'https://evil.example/cb' }));
    expectOAuthError(unregistered, 400, 'invalid_request');
    assert.equal(unregistered.body.error_description, 'The redirect URI is not registered for this application.');
    const { code_challenge: _c, ...noPkce } = request(challenge);
    expectOAuthError(await push(noPkce), 400, 'invalid_request');
    expectOAuthError(await push(request(challenge, { response_type: 'token' })), 400, 'unsupported_response_type');
    expectOAuthError(await push(request(challenge, { request_uri: 'urn:ietf:params:oauth:request_uri:par_x' })), 400, 'invalid_request');
  });

  it('malformed pushes are invalid_request in JSON, never a 500: a repeated parameter, a JSON body, an Origin of null', async () => {
    const { challenge } = pkce();
    const repeated = new URLSearchParams(request(challenge));
    repeated.append('scope', 'profile');
    const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(rp.id, rp.secret ?? '') };
    const res = await fetch(`${a.s.url}/${tenant}/oauth2/par`, { method: 'POST', headers, body: repeated });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    const json = await fetch(`${a.s.url}/${tenant}/oauth2/par`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ ...request(challenge), scope: ['openid'] }) });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
    const opaque = await fetch(`${a.s.url}/${tenant}/oauth2/par`, { method: 'POST', headers: { ...headers, origin: 'null' }, body: new URLSearchParams(request(challenge)) });
    assert.equal(opaque.status, 400);
    assert.equal(((await opaque.json()) as { error: string }).error, 'invalid_request');
  });

  it('a request_uri works once, only for its client, only within its minute; anything else is a page, never a redirect', async () => {
    const ended = (res: BrowserResponse) => {
      assert.equal(res.status, 400);
      assert.equal(res.location, null);
      assert.match(res.body, /This sign-in request has ended/);
    };
    const { challenge } = pkce();
    const uri = (await push(request(challenge))).body.request_uri as string;
    ended(await authorizeWith(spa, uri));
    // The wrong client did not use it up.
    clientRedirect(await authorizeWith(rp, uri), REDIRECT);
    ended(await authorizeWith(rp, uri));

    const late = (await push(request(challenge))).body.request_uri as string;
    a.s.advance(61_000);
    try {
      ended(await authorizeWith(rp, late));
    } finally {
      a.s.advance(-61_000);
    }
    ended(await authorizeWith(rp, 'urn:ietf:params:oauth:request_uri:not-pushed'));
  });
});
