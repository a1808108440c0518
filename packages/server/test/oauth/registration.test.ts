import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, expectAudit, expectStatus, startAdmin, type Admin, type TenantView } from '../admin/helpers.js';
import { expectIssued, expectOAuthError, postToken, type TokenResponse } from './helpers.js';
import { authorizeUrl, browse, clientRedirect, consent, createUser, pkce, plantSession, signInClient } from './people-helpers.js';

/** RFC 7591 dynamic client registration: how an MCP client finds its own way in, when a tenant allows it. */
describe('dynamic client registration (RFC 7591)', () => {
  const LOOPBACK = 'http://127.0.0.1:33418/callback';
  let a: Admin;
  let tenant: TenantView;
  let cookie: string;

  async function register(body: unknown, headers: Record<string, string> = {}): Promise<TokenResponse> {
    const response = await fetch(`${a.s.url}/${tenant.name}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }
  const metadata = async () => (await (await fetch(`${a.s.url}/${tenant.name}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  const mcpClient = { client_name: 'Notes MCP client', redirect_uris: [LOOPBACK], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid' };

  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
    cookie = await plantSession(a, tenant.name, (await createUser(a, tenant.name)).id);
  });
  after(() => a.close());

  it('is off unless the tenant turns it on: 403 access_denied, and no registration_endpoint in the metadata', async () => {
    expectOAuthError(await register(mcpClient), 403, 'access_denied');
    assert.equal((await metadata()).registration_endpoint, undefined);
    expectStatus(await a.call('PATCH', `/tenants/${tenant.name}`, { settings: { dynamicClientRegistration: true } }), 200);
    assert.equal((await metadata()).registration_endpoint, `${a.s.url}/${tenant.name}/oauth2/register`);
  });

  it('registers a public client, audited with the client as its own actor; people are told it registered itself; it signs in with PKCE', async () => {
    const res = await register(mcpClient, { origin: 'https://notes.example' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const { client_id: clientId, client_id_issued_at: issuedAt, ...rest } = res.body as Record<string, unknown>;
    assert.equal(typeof clientId, 'string');
    assert.equal(issuedAt, Math.floor(a.s.now() / 1000));
    assert.deepEqual(rest, { client_name: 'Notes MCP client', redirect_uris: [LOOPBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' });
    const id = clientId as string;

    const settings = expectStatus(await a.call<{ clientType: string; selfRegistered: boolean }>('GET', `/tenants/${tenant.name}/principals/${id}/oauth-client`), 200);
    assert.equal(settings.clientType, 'public');
    assert.equal(settings.selfRegistered, true);
    assert.equal((await expectAudit(a, tenant.id, 'principal.created', id)).actorId, id);
    await expectAudit(a, tenant.id, 'oauth_client.updated', id);

    const { verifier, challenge } = pkce();
    const start = await browse(authorizeUrl(a.s.url, tenant.name, { response_type: 'code', client_id: id, redirect_uri: LOOPBACK, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }), { cookie });
    assert.match(start.location ?? '', /\/oauth2\/consent\?/);
    const answered = await consent(a.s.url, start.location ?? '', cookie, 'allow');
    assert.match(answered.page, /This application registered itself\.<\/strong>/);
    assert.match(answered.page, /It will receive your answer at <strong>127\.0\.0\.1:33418<\/strong>/);
    const code = clientRedirect(answered, LOOPBACK).get('code') ?? '';
    expectIssued(await postToken(a.s.url, tenant.name, { grant_type: 'authorization_code', code, redirect_uri: LOOPBACK, code_verifier: verifier, client_id: id }));
  });

  it('an application an admin set up gets no such warning', async () => {
    const rp = await signInClient(a, tenant.name);
    const start = await browse(authorizeUrl(a.s.url, tenant.name, { response_type: 'code', client_id: rp.id, redirect_uri: 'https://app.example/callback', scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' }), { cookie });
    const page = await browse(new URL(start.location ?? '', a.s.url).toString(), { cookie });
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /registered itself/);
  });

  it('a client asking for a secret is registered as public anyway (RFC 7591 §3.2.1) and told so, with no secret', async () => {
    const res = await register({ ...mcpClient, token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.token_endpoint_auth_method, 'none');
    assert.equal(res.body.client_secret, undefined);
  });

  it('refuses bad metadata with the RFC 7591 errors', async () => {
    const cases: [unknown, string][] = [
      [{ ...mcpClient, redirect_uris: [] }, 'invalid_redirect_uri'],
      [{ ...mcpClient, redirect_uris: ['http://notes.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...mcpClient, redirect_uris: ['https://notes.example/cb#frag'] }, 'invalid_redirect_uri'],
      [{ client_name: 'no uris' }, 'invalid_redirect_uri'],
      [{ ...mcpClient, token_endpoint_auth_method: 7 }, 'invalid_client_metadata'],
      [{ ...mcpClient, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
      [{ ...mcpClient, response_types: ['token'] }, 'invalid_client_metadata'],
      [{ ...mcpClient, client_name: 'x'.repeat(101) }, 'invalid_client_metadata'],
      [[mcpClient], 'invalid_client_metadata'],
    ];
    for (const [body, error] of cases) expectOAuthError(await register(body), 400, error);
    expectOAuthError(await register('{not json'), 400, 'invalid_request');
  });

  it('allows ten registrations an hour from one address, then 429', async () => {
    // Two registrations so far in this file.
    for (let i = 0; i < 8; i++) assert.equal((await register({ ...mcpClient, client_name: `client ${i}` })).status, 201);
    const refused = await register(mcpClient);
    expectOAuthError(refused, 429, 'temporarily_unavailable');
    assert.match(refused.body.error_description, /too many client registrations from this address/);
  });
});
