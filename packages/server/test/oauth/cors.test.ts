import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { addSecret, createPrincipal, createTenant, grant, startAdmin, type Admin } from '../admin/helpers.js';
import { browserTestsSkipped, launchBrowser, newPage } from '../helpers/browser.js';
import { basicAuth, createResource, expectIssued, expectOAuthError, postToken, uniqueResourceId } from './helpers.js';
import { createUser, obtainCode, plantSession, REDIRECT, signInClient, type SignInClient } from './people-helpers.js';

/** Browser clients (SPAs, browser-based MCP clients) calling Signet from their own origin. */
describe('cross-origin requests (CORS)', () => {
  const SPA = new URL(REDIRECT).origin;
  const EVIL = 'https://evil.example';
  let a: Admin;
  let tenant: string;
  let spa: SignInClient;
  let userId: string;

  const redeemFrom = (origin: string | undefined, code: string, verifier: string) =>
    postToken(a.s.url, tenant, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.id }, origin ? { origin } : {});
  const code = async () => obtainCode(a, tenant, spa, await plantSession(a, tenant, userId), { scope: 'openid profile' });

  before(async () => {
    a = await startAdmin();
    tenant = (await createTenant(a)).name;
    spa = await signInClient(a, tenant, { clientType: 'public' });
    userId = (await createUser(a, tenant)).id;
  });
  after(() => a.close());

  it('discovery and the JWKS are readable from any origin', async () => {
    for (const path of [`/${tenant}/.well-known/openid-configuration`, `/${tenant}/.well-known/oauth-authorization-server`, `/.well-known/oauth-authorization-server/${tenant}`, `/${tenant}/.well-known/jwks.json`]) {
      const res = await fetch(`${a.s.url}${path}`, { headers: { origin: EVIL } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
    }
  });

  it('a preflight to the token endpoint allows POST with the DPoP and Authorization headers', async () => {
    const res = await fetch(`${a.s.url}/${tenant}/oauth2/token`, {
      method: 'OPTIONS',
      headers: { origin: SPA, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, dpop' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), SPA);
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type, dpop');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    const userinfo = await fetch(`${a.s.url}/${tenant}/oauth2/userinfo`, { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': 'GET' } });
    assert.equal(userinfo.headers.get('access-control-allow-methods'), 'GET, POST');
  });

  it('a public client redeems its code from the origin of its redirect URI, and the page can read the tokens and then userinfo', async () => {
    const { code: c, verifier } = await code();
    const res = await redeemFrom(SPA, c, verifier);
    expectIssued(res);
    assert.equal(res.headers.get('access-control-allow-origin'), SPA);
    assert.equal(res.headers.get('access-control-expose-headers'), 'dpop-nonce, www-authenticate');
    assert.match(res.headers.get('vary') ?? '', /origin/i);

    const userinfo = (origin: string) => fetch(`${a.s.url}/${tenant}/oauth2/userinfo`, { headers: { authorization: `Bearer ${res.body.access_token}`, origin } });
    const allowed = await userinfo(SPA);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), SPA);
    assert.equal(((await allowed.json()) as { sub: string }).sub, userId);
    // Another origin's page cannot read it (userinfo changes nothing, so it is not refused).
    const other = await userinfo(EVIL);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('an error for an admitted origin is readable too (the page sees the OAuth error)', async () => {
    const res = await redeemFrom(SPA, 'not-a-code', 'v'.repeat(43));
    expectOAuthError(res, 400, 'invalid_grant');
    assert.equal(res.headers.get('access-control-allow-origin'), SPA);
  });

  it('a page on another origin is refused with invalid_request before the code is spent; the right origin then redeems it', async () => {
    const { code: c, verifier } = await code();
    const refused = await redeemFrom(EVIL, c, verifier);
    expectOAuthError(refused, 400, 'invalid_request');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    expectIssued(await redeemFrom(SPA, c, verifier));
  });

  it('requests without Origin (servers, native apps) and same-origin requests are unaffected', async () => {
    const { code: c, verifier } = await code();
    const res = await redeemFrom(undefined, c, verifier);
    expectIssued(res);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const { code: c2, verifier: v2 } = await code();
    expectIssued(await redeemFrom(new URL(a.s.url).origin, c2, v2));
  });

  it('a service with no redirect URIs is refused from any page, and issues as before without Origin', async () => {
    const resource = uniqueResourceId();
    await createResource(a, tenant, resource, ['orders.read']);
    const service = await createPrincipal(a, tenant, { kind: 'service', displayName: 'backend job' });
    await grant(a, tenant, service.id, resource, 'orders.read');
    const secret = await addSecret(a, tenant, service.id);
    const form = { grant_type: 'client_credentials', scope: `${resource}/.default` };
    expectOAuthError(await postToken(a.s.url, tenant, form, { authorization: basicAuth(service.id, secret), origin: SPA }), 400, 'invalid_request');
    expectIssued(await postToken(a.s.url, tenant, form, { authorization: basicAuth(service.id, secret) }));
  });

  it('revocation from another origin is refused; from the client\'s origin it succeeds and is readable', async () => {
    const revoke = (origin: string) =>
      fetch(`${a.s.url}/${tenant}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams({ token: 'unknown-token', client_id: spa.id }) });
    const refused = await revoke(EVIL);
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request');
    const ok = await revoke(SPA);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), SPA);
  });
});

/** A blank page served on its own loopback port: a single-page app's origin, cross-origin to Signet's. */
async function servePage(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>spa</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('browser: a single-page app on its own origin gets tokens and userinfo (real Chromium CORS)', { skip: browserTestsSkipped() }, () => {
  let a: Admin;
  let browser: Browser;
  let spa: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  let tenant: string;
  let client: SignInClient;
  let userId: string;

  before(async () => {
    [a, browser, spa, other] = await Promise.all([startAdmin(), launchBrowser(), servePage(), servePage()]);
    tenant = (await createTenant(a)).name;
    client = await signInClient(a, tenant, { clientType: 'public', redirectUris: [`${spa.origin}/cb`] });
    userId = (await createUser(a, tenant)).id;
  });
  after(async () => {
    await browser?.close();
    spa?.server.close();
    other?.server.close();
    await a?.close();
  });

  /** Redeems a fresh code with fetch() from a page on `origin`, then calls userinfo (a preflighted GET); returns what the page saw. */
  async function fromPage(origin: string): Promise<{ token?: string; tokenError?: string; sub?: string }> {
    const { code, verifier } = await obtainCode(a, tenant, client, await plantSession(a, tenant, userId), { scope: 'openid profile', redirect_uri: `${spa.origin}/cb` });
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ base, form }) => {
          const seen: { token?: string; tokenError?: string; sub?: string } = {};
          try {
            const res = await fetch(`${base}/oauth2/token`, { method: 'POST', body: new URLSearchParams(form) });
            seen.token = ((await res.json()) as { access_token: string }).access_token;
          } catch (error) {
            seen.tokenError = String(error);
            return seen;
          }
          const info = await fetch(`${base}/oauth2/userinfo`, { headers: { authorization: `Bearer ${seen.token}` } });
          seen.sub = ((await info.json()) as { sub: string }).sub;
          return seen;
        },
        { base: `${a.s.url}/${tenant}`, form: { grant_type: 'authorization_code', code, redirect_uri: `${spa.origin}/cb`, code_verifier: verifier, client_id: client.id } },
      );
    } finally {
      await context.close();
    }
  }

  it('from the origin of its redirect URI: the page reads the token, then userinfo', async () => {
    const seen = await fromPage(spa.origin);
    assert.equal(typeof seen.token, 'string');
    assert.equal(seen.sub, userId);
  });

  it('from any other origin the browser cannot read the answer (and Signet refused the request)', async () => {
    const seen = await fromPage(other.origin);
    assert.equal(seen.token, undefined);
    assert.match(seen.tokenError ?? '', /TypeError: Failed to fetch/);
  });
});
