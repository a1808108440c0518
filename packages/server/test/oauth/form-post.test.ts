import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { createTenant, startAdmin, type Admin } from '../admin/helpers.js';
import { browserTestsSkipped, launchBrowser, newPage } from '../helpers/browser.js';
import { expectIssued } from './helpers.js';
import { authorizeUrl, browse, type BrowserResponse, clientRedirect, consent, createUser, hidden, pkce, plantSession, REDIRECT, redeem, signInClient, type SignInClient } from './people-helpers.js';

/** The fields of a form_post page: the form's target and its hidden inputs. */
function formPost(res: BrowserResponse): { action: string; fields: Record<string, string> } {
  assert.equal(res.status, 200, res.location ?? res.body.slice(0, 300));
  assert.equal(res.location, null);
  const action = /<form method="post" action="([^"]+)" id="response">/.exec(res.body)?.[1];
  assert.ok(action, 'no form');
  const fields: Record<string, string> = {};
  for (const [, name] of res.body.matchAll(/<input type="hidden" name="([^"]+)"/g)) fields[name as string] = hidden(res.body, name as string);
  return { action, fields };
}

/** response_mode=form_post (OAuth 2.0 Form Post Response Mode): the response as a POSTed form, never in a URL. */
describe('form_post response mode', () => {
  let a: Admin;
  let tenant: string;
  let issuer: string;
  let rp: SignInClient;
  let cookie: string;
  let userId: string;

  /** Authorize (consenting when asked) and return the last response. */
  async function authorize(params: Record<string, string>): Promise<BrowserResponse> {
    let res = await browse(authorizeUrl(a.s.url, tenant, { response_type: 'code', client_id: rp.id, redirect_uri: REDIRECT, scope: 'openid', state: 'st-fp', ...params }), { cookie });
    if (res.location?.includes('/oauth2/consent?')) res = await consent(a.s.url, res.location, cookie, 'allow');
    return res;
  }

  before(async () => {
    a = await startAdmin();
    const t = await createTenant(a);
    tenant = t.name;
    issuer = `${a.s.url}/${tenant}`;
    rp = await signInClient(a, tenant);
    userId = (await createUser(a, tenant)).id;
    cookie = await plantSession(a, tenant, userId);
  });
  after(() => a.close());

  it('the code, state and iss arrive in a form posted to the redirect URI; the page may post only there', async () => {
    const { verifier, challenge } = pkce();
    const res = await authorize({ response_mode: 'form_post', code_challenge: challenge, code_challenge_method: 'S256' });
    const { action, fields } = formPost(res);
    assert.equal(action, REDIRECT);
    assert.deepEqual(Object.keys(fields).sort(), ['code', 'iss', 'state']);
    assert.equal(fields.state, 'st-fp');
    assert.equal(fields.iss, issuer);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /form-action https:\/\/app\.example(;|$)/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    expectIssued(await redeem(a.s.url, tenant, rp, fields.code ?? '', verifier));
  });

  it('errors use the response mode asked for too', async () => {
    const { challenge } = pkce();
    const { fields } = formPost(await authorize({ response_mode: 'form_post', code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid no.such.scope' }));
    assert.equal(fields.error, 'invalid_scope');
    assert.equal(fields.state, 'st-fp');
    assert.equal(fields.iss, issuer);
  });

  it('an unknown response mode is invalid_request, sent in the query', async () => {
    const { challenge } = pkce();
    const query = clientRedirect(await authorize({ response_mode: 'fragment', code_challenge: challenge, code_challenge_method: 'S256' }), REDIRECT);
    assert.equal(query.get('error'), 'invalid_request');
    assert.equal(query.get('error_description'), 'response_mode must be query or form_post');
  });

  it('openid-client validates a form_post response (the POST its callback receives)', async () => {
    const config = await client.discovery(new URL(issuer), rp.id, rp.secret ?? undefined, client.ClientSecretBasic(rp.secret ?? ''), { execute: [client.allowInsecureRequests] });
    assert.deepEqual(config.serverMetadata().response_modes_supported, ['query', 'form_post']);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', response_mode: 'form_post', state: 'st-lib', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const { action, fields } = formPost(await browse(url.toString(), { cookie }));
    const callback = new Request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'st-lib', idTokenExpected: true });
    assert.equal(tokens.claims()?.sub, userId);
  });

  describe('in real Chromium', { skip: browserTestsSkipped() }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(() => browser?.close());

    it('the page posts the form to the redirect URI by itself (its CSP allows that target and its script)', async () => {
      // Consent once over HTTP, so the browser goes straight to the response.
      await authorize({ response_mode: 'form_post', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      const { context, page } = await newPage(browser);
      try {
        const [name, value] = cookie.split(';')[0]?.split('=') ?? [];
        await context.addCookies([{ name: name ?? '', value: value ?? '', url: a.s.url }]);
        const posted = new Promise<{ method: string; body: URLSearchParams }>((resolve) =>
          page.route(`${REDIRECT}**`, async (route) => {
            resolve({ method: route.request().method(), body: new URLSearchParams(route.request().postData() ?? '') });
            await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>client</title>' });
          }),
        );
        await page.goto(authorizeUrl(a.s.url, tenant, { response_type: 'code', client_id: rp.id, redirect_uri: REDIRECT, scope: 'openid', state: 'st-browser', response_mode: 'form_post', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
        const { method, body } = await posted;
        assert.equal(method, 'POST');
        assert.equal(body.get('state'), 'st-browser');
        assert.equal(body.get('iss'), issuer);
        assert.match(body.get('code') ?? '', /^[A-Za-z0-9_-]{20,}$/);
      } finally {
        await context.close();
      }
    });
  });
});
