import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { createTenant, expectStatus, startAdmin, type Admin } from '../admin/helpers.js';
import { decodeParts } from './helpers.js';
import { browse, clientRedirect, consent, createUser, plantSession } from './people-helpers.js';

const REDIRECT = 'http://127.0.0.1:33418/callback';

/** What an MCP client application keeps between the steps of its sign-in. */
class MemoryProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Notes assistant', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * Interoperability: the MCP TypeScript SDK's own OAuth client (`auth()` from
 * @modelcontextprotocol/sdk) against Signet, as an MCP client connecting to an MCP server that
 * names Signet in its protected resource metadata (RFC 9728): discovery, dynamic client
 * registration (RFC 7591), the authorization code flow with PKCE and `resource` (RFC 8707), and the
 * token exchange. Nothing in the SDK is configured for Signet.
 */
describe('interoperability: the MCP TypeScript SDK signs in through Signet', () => {
  let a: Admin;
  let tenant: string;
  let issuer: string;
  let mcp: Server;
  let mcpUrl: string;
  let userId: string;

  before(async () => {
    a = await startAdmin();
    tenant = (await createTenant(a, { settings: { dynamicClientRegistration: true } })).name;
    issuer = `${a.s.url}/${tenant}`;
    // The MCP server: only its RFC 9728 metadata matters here.
    mcp = createServer((req, res) => {
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: mcpUrl, authorization_servers: [issuer], scopes_supported: ['notes.read'], bearer_methods_supported: ['header'] }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => mcp.listen(0, '127.0.0.1', resolve));
    mcpUrl = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
    expectStatus(await a.call('POST', `/tenants/${tenant}/resources`, { identifier: mcpUrl, displayName: 'Notes MCP server', scopes: [{ name: 'notes.read', description: 'Read your notes' }] }), 201);
    userId = (await createUser(a, tenant)).id;
  });
  after(async () => {
    mcp?.close();
    await a?.close();
  });

  it('discovers Signet, registers itself, sends the person to consent, and gets a token for the MCP server', async () => {
    const provider = new MemoryProvider();
    assert.equal(await auth(provider, { serverUrl: mcpUrl }), 'REDIRECT');
    const clientId = provider.client?.client_id ?? '';
    assert.match(clientId, /^[0-9a-f-]{36}$/);
    const url = provider.authorizationUrl ?? new URL('about:blank');
    assert.equal(`${url.origin}${url.pathname}`, `${issuer}/oauth2/authorize`);
    assert.equal(url.searchParams.get('resource'), mcpUrl);

    // The person's part, in the browser.
    const cookie = await plantSession(a, tenant, userId);
    const start = await browse(url.toString(), { cookie });
    const answered = await consent(a.s.url, start.location ?? '', cookie, 'allow');
    assert.match(answered.page, /This application registered itself/);
    const code = clientRedirect(answered, REDIRECT).get('code') ?? '';

    assert.equal(await auth(provider, { serverUrl: mcpUrl, authorizationCode: code }), 'AUTHORIZED');
    const { payload } = decodeParts(provider.saved?.access_token ?? '');
    assert.equal(payload.aud, mcpUrl);
    assert.equal(payload.sub, userId);
    assert.equal(payload.client_id, clientId);
    assert.equal(payload.scope, 'notes.read');
  });
});
