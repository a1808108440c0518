import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { newId, randomToken } from '../../src/crypto/ids.js';
import { sessionCookie } from '../../src/people/session.js';
import { sessionStore } from '../../src/people/session-store.js';
import { addSecret, createPrincipal, expectStatus, type Admin, type PrincipalView } from '../admin/helpers.js';
import { postToken, type TokenResponse } from './helpers.js';
import { createBlueprint } from '../agents/helpers.js';

export const REDIRECT = 'https://app.example/callback';

export interface SignInClient {
  id: string;
  secret: string | null;
  principal: PrincipalView;
}

/** A service (or agent) users sign in to, with its sign-in settings. */
export async function signInClient(
  a: Admin,
  tenant: string,
  settings: { clientType?: 'confidential' | 'public'; redirectUris?: string[]; postLogoutRedirectUris?: string[]; requiredScopes?: string[] } = {},
  principal: Record<string, unknown> = { kind: 'service', displayName: 'Photo app' },
): Promise<SignInClient> {
  const created = await createPrincipal(a, tenant, principal.kind === 'agent' && principal.blueprint === undefined ? { ...principal, blueprint: (await delegatingBlueprint(a, tenant)).name } : principal);
  const clientType = settings.clientType ?? 'confidential';
  expectStatus(
    await a.call('PUT', `/tenants/${tenant}/principals/${created.id}/oauth-client`, {
      clientType,
      redirectUris: settings.redirectUris ?? [REDIRECT],
      ...(settings.postLogoutRedirectUris ? { postLogoutRedirectUris: settings.postLogoutRedirectUris } : {}),
      ...(settings.requiredScopes ? { requiredScopes: settings.requiredScopes } : {}),
    }),
    200,
  );
  const secret = clientType === 'confidential' ? await addSecret(a, tenant, created.id) : null;
  return { id: created.id, secret, principal: created };
}

/**
 * A blueprint whose agents may act for users with every scope of every resource of the tenant (the
 * sign-in tests are about consent, not blueprint caps), without requiring DPoP.
 */
async function delegatingBlueprint(a: Admin, tenant: string): Promise<{ name: string }> {
  const resources = expectStatus(await a.call<{ items: { identifier: string; builtin?: boolean; scopes: { name: string }[] }[] }>('GET', `/tenants/${tenant}/resources?limit=500`), 200);
  const permissions = resources.items.filter((r) => r.scopes.length > 0).map((r) => ({ resource: r.identifier, scopes: r.scopes.map((s) => s.name) }));
  return createBlueprint(a, tenant, { allowDelegation: true, permissions });
}

export async function createUser(a: Admin, tenant: string, body: Record<string, unknown> = {}): Promise<PrincipalView> {
  return createPrincipal(a, tenant, { kind: 'user', displayName: 'Ada Lovelace', ...body });
}

/**
 * A signed-in browser session planted straight in the store (the sign-in pages have their own
 * tests): returns the Cookie header value.
 */
export async function plantSession(a: Admin, tenantName: string, userId: string, opts: { authTimeMs?: number; amr?: string[]; acr?: string } = {}): Promise<string> {
  const deps = a.s.signet.deps;
  const tenant = await a.s.signet.services.tenants.resolve(tenantName);
  const now = deps.clock();
  const token = randomToken();
  const authTime = opts.authTimeMs ?? now;
  await sessionStore.insert(
    deps.db,
    {
      id: newId(),
      tenantId: tenant.id,
      userId,
      state: 'active',
      amr: opts.amr ?? ['pwd'],
      acr: opts.acr ?? 'urn:signet:acr:pwd',
      authTime,
      returnTo: null,
      requireMfa: false,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: authTime + 3600_000,
      sourceIp: null,
      userAgent: null,
    },
    deps.hasher.digest(token),
  );
  return `${sessionCookie(deps, tenant)}=${token}`;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface BrowserResponse {
  status: number;
  headers: Headers;
  location: string | null;
  body: string;
}

/** One browser request without following redirects; `cookie` is sent as-is. */
export async function browse(url: string, init: { method?: string; cookie?: string; form?: Record<string, string | string[]> } = {}): Promise<BrowserResponse> {
  const headers: Record<string, string> = {};
  if (init.cookie) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(init.form)) for (const v of Array.isArray(value) ? value : [value]) form.append(name, v);
    body = form.toString();
  }
  const response = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  return { status: response.status, headers: response.headers, location: response.headers.get('location'), body: await response.text() };
}

/** Authorization request parameters with sane defaults (code flow, PKCE S256, openid). */
export function authorizeUrl(base: string, tenant: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return `${base}/${tenant}/oauth2/authorize?${query.toString()}`;
}

/** The query of a redirect to the client, asserting it goes to `redirectUri` with 303. */
export function clientRedirect(res: BrowserResponse, redirectUri: string): URLSearchParams {
  assert.equal(res.status, 303, `expected a 303 to the client, got ${res.status} ${res.location ?? res.body.slice(0, 300)}`);
  assert.ok(res.location?.startsWith(`${redirectUri}?`), `redirect goes to ${res.location}`);
  return new URL(res.location ?? '').searchParams;
}

/** Extracts a hidden input's value from a rendered page. */
export function hidden(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  assert.ok(match?.[1] !== undefined, `no hidden ${name} in page`);
  return match[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Follows the authorize → consent page, answering with `decision` and the ticked optional scopes; returns the final redirect. */
export async function consent(base: string, consentLocation: string, cookie: string, decision: 'allow' | 'deny', scopes?: string[]): Promise<BrowserResponse & { page: string }> {
  const page = await browse(new URL(consentLocation, base).toString(), { cookie });
  assert.equal(page.status, 200, page.body.slice(0, 500));
  const setCookie = page.headers.get('set-cookie');
  const csrfCookie = setCookie ? setCookie.split(';')[0] : undefined;
  const allCookies = csrfCookie ? `${cookie}; ${csrfCookie}` : cookie;
  const ticked = scopes ?? [...page.body.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1] as string);
  const form: Record<string, string | string[]> = { csrf: hidden(page.body, 'csrf'), request: hidden(page.body, 'request'), decision, scope: ticked };
  const tenantPath = new URL(consentLocation, base).pathname;
  const res = await browse(new URL(tenantPath, base).toString(), { cookie: allCookies, form });
  return { ...res, page: page.body };
}

/** Redeems a code at the token endpoint (client_secret_basic for confidential clients, client_id for public ones). */
export async function redeem(url: string, tenant: string, client: SignInClient, code: string, verifier: string | undefined, redirectUri = REDIRECT): Promise<TokenResponse> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
  if (verifier !== undefined) form.code_verifier = verifier;
  return tokenRequest(url, tenant, client, form);
}

export async function tokenRequest(url: string, tenant: string, client: SignInClient, form: Record<string, string>): Promise<TokenResponse> {
  if (client.secret === null) return postToken(url, tenant, { ...form, client_id: client.id });
  const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64');
  return postToken(url, tenant, form, { authorization: `Basic ${basic}` });
}

/** Runs authorize (+ consent, allowing everything unless `scopes` narrows it) and returns the code. */
export async function obtainCode(
  a: Admin,
  tenant: string,
  client: SignInClient,
  cookie: string,
  params: Record<string, string | undefined>,
  scopes?: string[],
): Promise<{ code: string; verifier: string; query: URLSearchParams }> {
  const { verifier, challenge } = pkce();
  const redirectUri = params.redirect_uri ?? REDIRECT;
  let res = await browse(
    authorizeUrl(a.s.url, tenant, { response_type: 'code', client_id: client.id, redirect_uri: redirectUri, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', ...params }),
    { cookie },
  );
  if (res.status === 303 && res.location?.includes('/oauth2/consent?')) res = await consent(a.s.url, res.location, cookie, 'allow', scopes);
  const query = clientRedirect(res, redirectUri);
  const code = query.get('code');
  assert.ok(code, `no code in ${res.location}`);
  return { code, verifier, query };
}
