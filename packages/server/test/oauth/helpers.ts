import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { addSecret, createPrincipal, expectStatus, grant, uniqueName, type Admin, type CreatedCredential, type ResourceView } from '../admin/helpers.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Server env for files that fail client authentication on purpose many times from one address. */
export const LENIENT_THROTTLE = { SIGNET_CLIENT_AUTH_FAILURE_LIMIT: '1000000' };

export interface TokenResponse {
  status: number;
  headers: Headers;
  // Tests read JSON bodies loosely.
  body: any;
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POSTs to `{url}/{tenant}/oauth2/token`; `form` may be a raw body string (e.g. repeated parameters). */
export async function postToken(
  url: string,
  tenant: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<TokenResponse> {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const response = await fetch(`${url}/${tenant}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: leave the text for the assertion message
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Asserts an exact status and RFC 6749 §5.2 error code, and that the error response is not cached. */
export function expectOAuthError(res: TokenResponse, status: number, error: string): void {
  assert.equal(res.status, status, `expected ${status} ${error}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.error, error, JSON.stringify(res.body));
  assert.equal(typeof res.body?.error_description, 'string');
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

/** Asserts 401 invalid_client with a WWW-Authenticate challenge (RFC 6749 §5.2). */
export function expectInvalidClient(res: TokenResponse): void {
  expectOAuthError(res, 401, 'invalid_client');
  assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="/);
}

export function expectIssued(res: TokenResponse): string {
  assert.equal(res.status, 200, `expected a token, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.access_token, 'string');
  return res.body.access_token as string;
}

/** A resource identifier no other test of this process uses. */
export function uniqueResourceId(): string {
  return `api://${uniqueName('orders')}`;
}

export async function createResource(a: Admin, tenant: string, identifier: string, roles: string[]): Promise<ResourceView> {
  return expectStatus(
    await a.call<ResourceView>('POST', `/tenants/${tenant}/resources`, {
      identifier,
      displayName: 'Orders API',
      roles: roles.map((name) => ({ name, description: `the ${name} role` })),
    }),
    201,
  );
}

export interface SecretClient {
  id: string;
  secret: string;
}

/** A service principal with a secret, granted `roles` on `resource` (an identifier). */
export async function secretClient(a: Admin, tenant: string, resource?: string, roles: string[] = []): Promise<SecretClient> {
  const principal = await createPrincipal(a, tenant, { kind: 'service', displayName: 'oauth test client' });
  const secret = await addSecret(a, tenant, principal.id);
  for (const role of roles) await grant(a, tenant, principal.id, resource as string, role);
  return { id: principal.id, secret };
}

export interface KeyPair {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function keyPair(alg: 'ES256' | 'EdDSA' | 'RS256'): Promise<KeyPair> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { alg, privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
}

/** Registers a public key on a principal; returns the created credential. */
export async function addKey(a: Admin, tenant: string, principalId: string, jwk: JWK, extra: Record<string, unknown> = {}): Promise<CreatedCredential> {
  return expectStatus(await a.call<CreatedCredential>('POST', `/tenants/${tenant}/principals/${principalId}/credentials`, { type: 'key', jwk, ...extra }), 201);
}

export interface AssertionOptions {
  /** Server time in ms (the test server's movable clock). */
  now: number;
  clientId: string;
  aud: string | string[];
  kid?: string;
  alg?: string;
  /** Claims to set or, with `undefined`, to leave out. */
  claims?: Record<string, unknown>;
}

/** A client assertion (RFC 7523 §3) with sane defaults: iss = sub = client, 60 s lifetime, random jti. */
export async function signAssertion(key: KeyPair, o: AssertionOptions): Promise<string> {
  const iat = Math.floor(o.now / 1000);
  const claims: Record<string, unknown> = { iss: o.clientId, sub: o.clientId, aud: o.aud, iat, exp: iat + 60, jti: randomUUID(), ...o.claims };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? key.alg, ...(o.kid ? { kid: o.kid } : {}) }).sign(key.privateKey);
}

/** Decodes a compact JWS without verifying it (tests only). */
export function decodeParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  const decode = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}
