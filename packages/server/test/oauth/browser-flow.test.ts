import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { auditEvents, expectStatus, startAdmin, type Admin } from '../admin/helpers.js';
import { launchBrowser, newPage, browserTestsSkipped } from '../helpers/browser.js';
import { createUser, type TestUser } from '../people/helpers.js';
import { expectOAuthError } from './helpers.js';
import { authorizeUrl, pkce, redeem, REDIRECT, signInClient, tokenRequest, type SignInClient } from './people-helpers.js';

const RESOURCE = 'api://photos';

/**
 * End to end in a real headless Chromium (Debian's chromium via playwright-core): a person signs
 * in on Signet's page, sees the consent page, declines an optional scope, and the client redeems
 * the code, refreshes, is caught reusing a refresh token, and loses access when the person revokes
 * the consent on their account page.
 */
describe('browser: consent, code exchange, refresh, reuse detection, revoking consent', { skip: browserTestsSkipped() }, () => {
  let a: Admin;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let client: SignInClient;
  let agent: SignInClient;
  let user: TestUser;
  let tenantId: string;
  let refreshToken = '';

  /** Runs authorize in the browser up to the client's callback (captured, never loaded); returns its query. */
  async function callbackOf(action: () => Promise<unknown>): Promise<URLSearchParams> {
    const callback = page.waitForRequest((r) => r.url().startsWith(REDIRECT));
    // A redirect's target is not routed, so the browser fails to load app.example: only the URL
    // matters. Wait for that failure and the error page it leads to, so that the next navigation
    // is not interrupted by it.
    const failed = page.waitForEvent('requestfailed', { predicate: (r) => r.url().startsWith(REDIRECT), timeout: 10_000 }).catch(() => undefined);
    await action().catch((error: unknown) => {
      if (!/ERR_NAME_NOT_RESOLVED|interrupted by another navigation/.test(String(error))) throw error;
    });
    const url = (await callback).url();
    await failed;
    // Chromium goes on to show its error page for app.example, which would interrupt whatever this
    // page loads next: carry on in a fresh tab of the same browser context (same cookies).
    await page.close();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return new URL(url).searchParams;
  }

  before(async () => {
    a = await startAdmin();
    tenantId = (await a.s.signet.services.tenants.resolve('default')).id;
    expectStatus(
      await a.call('POST', '/tenants/default/resources', {
        identifier: RESOURCE,
        displayName: 'Photos API',
        scopes: [
          { name: 'photos.read', description: 'See your photos' },
          { name: 'photos.write', description: 'Upload and delete your photos' },
        ],
      }),
      201,
    );
    client = await signInClient(a, 'default', { requiredScopes: ['photos.read'] }, { kind: 'service', displayName: 'Photo printer' });
    user = await createUser(a.s, 'default', 'ada');
    agent = await signInClient(a, 'default', {}, { kind: 'agent', displayName: 'Album agent', sponsors: [user.id] });
    browser = await launchBrowser();
    ({ context, page } = await newPage(browser));
    // The client's redirect URI is never really loaded: the test plays the client.
    await context.route((url) => url.href.startsWith(REDIRECT), (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'client callback' }));
  });
  after(async () => {
    await browser?.close();
    await a.close();
  });

  it('sign in, consent with an optional scope declined, code exchange', async () => {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(a.s.url, 'default', {
      response_type: 'code',
      client_id: client.id,
      redirect_uri: REDIRECT,
      scope: 'openid profile offline_access photos.read photos.write',
      resource: RESOURCE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'browser-state',
      nonce: 'browser-nonce',
    });
    await page.goto(url);
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await page.waitForURL(/\/default\/oauth2\/consent\?/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Allow Photo printer?');
    const text = await page.locator('main').textContent();
    assert.match(text ?? '', /Photos API \(api:\/\/photos\)/);
    assert.match(text ?? '', /Upload and delete your photos/);
    await page.getByLabel(/photos\.write/).uncheck();
    const query = await callbackOf(() => page.getByRole('button', { name: 'Allow' }).click());
    assert.equal(query.get('state'), 'browser-state');
    assert.equal(query.get('iss'), `${a.s.url}/default`);

    const tokens = await redeem(a.s.url, 'default', client, query.get('code') ?? '', verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.scope, 'openid profile offline_access photos.read');
    refreshToken = tokens.body.refresh_token;
    assert.ok(refreshToken);
  });

  it('refresh rotates; replaying the spent token revokes the family and is audited', async () => {
    const first = await tokenRequest(a.s.url, 'default', client, { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    expectOAuthError(await tokenRequest(a.s.url, 'default', client, { grant_type: 'refresh_token', refresh_token: refreshToken }), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest(a.s.url, 'default', client, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }), 400, 'invalid_grant');
    assert.ok((await auditEvents(a, tenantId)).some((e) => e.type === 'refresh_token.reused' && e.subjectId === user.id));
  });

  it('the same browser is not asked again; revoking the consent on the account page kills its refresh tokens', async () => {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(a.s.url, 'default', { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid offline_access photos.read', resource: RESOURCE, code_challenge: challenge, code_challenge_method: 'S256' });
    const query = await callbackOf(() => page.goto(url));
    const tokens = await redeem(a.s.url, 'default', client, query.get('code') ?? '', verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));

    await page.goto(`${a.s.url}/default/account`);
    const row = page.locator('tr', { hasText: 'api://photos' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForLoadState();
    assert.equal(await page.locator('tr', { hasText: 'api://photos' }).count(), 0);
    expectOAuthError(await tokenRequest(a.s.url, 'default', client, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }), 400, 'invalid_grant');
    assert.ok((await auditEvents(a, tenantId)).some((e) => e.type === 'consent.revoked' && e.actorId === user.id));
  });

  it('an AI agent\'s consent page says so and names its sponsor; Deny returns access_denied', async () => {
    const url = authorizeUrl(a.s.url, 'default', { response_type: 'code', client_id: agent.id, redirect_uri: REDIRECT, scope: 'openid photos.read', resource: RESOURCE, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'a' });
    await page.goto(url);
    await page.waitForURL(/\/oauth2\/consent\?/);
    const note = await page.getByRole('note').textContent();
    assert.match(note ?? '', /Album agent is an AI agent/);
    assert.match(note ?? '', /Accountable for it: Ada Example/);
    const query = await callbackOf(() => page.getByRole('button', { name: 'Deny' }).click());
    assert.equal(query.get('error'), 'access_denied');
    assert.equal(query.get('state'), 'a');
  });
});
