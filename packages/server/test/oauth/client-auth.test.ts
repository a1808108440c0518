import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createPrincipal, expectStatus, startAdmin, type Admin, type CreatedCredential, type CredentialView, type Page } from '../admin/helpers.js';
import { basicAuth, createResource, decodeParts, expectInvalidClient, expectIssued, expectOAuthError, LENIENT_THROTTLE, postToken, secretClient, uniqueResourceId, type SecretClient } from './helpers.js';

describe('token endpoint: client authentication with secrets', () => {
  let a: Admin;
  let orders: string;
  let client: SecretClient;
  const form = () => ({ grant_type: 'client_credentials', scope: `${orders}/.default` });
  const withBasic = (c: { id: string; secret: string }, extra: Record<string, string> = {}) =>
    postToken(a.s.url, 'default', { ...form(), ...extra }, { authorization: basicAuth(c.id, c.secret) });
  const withPost = (c: { id: string; secret: string }) => postToken(a.s.url, 'default', { ...form(), client_id: c.id, client_secret: c.secret });
  const granted = () => secretClient(a, 'default', orders, ['orders.read']);

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    client = await granted();
  });
  after(() => a.close());

  it('client_secret_basic authenticates the client', async () => {
    const { payload } = decodeParts(expectIssued(await withBasic(client)));
    assert.equal(payload.client_id, client.id);
  });

  it('client_secret_post authenticates the client', async () => {
    const { payload } = decodeParts(expectIssued(await withPost(client)));
    assert.equal(payload.client_id, client.id);
  });

  it('Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1): fully percent-encoded id and secret work', async () => {
    const encodeAll = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const header = `Basic ${Buffer.from(`${encodeAll(client.id)}:${encodeAll(client.secret)}`).toString('base64')}`;
    expectIssued(await postToken(a.s.url, 'default', form(), { authorization: header }));
  });

  it('Basic credentials whose form-encoding is broken are 401 invalid_client', async () => {
    const header = `Basic ${Buffer.from(`${client.id}:%zz${client.secret}`).toString('base64')}`;
    expectInvalidClient(await postToken(a.s.url, 'default', form(), { authorization: header }));
    expectInvalidClient(await postToken(a.s.url, 'default', form(), { authorization: 'Basic !!!not-base64' }));
    expectInvalidClient(await postToken(a.s.url, 'default', form(), { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }));
  });

  it('using Basic and client_secret_post at once is 400 invalid_request (RFC 6749 §2.3)', async () => {
    expectOAuthError(await withBasic(client, { client_id: client.id, client_secret: client.secret }), 400, 'invalid_request');
  });

  it('a client_id in the body that differs from the Basic one is 400 invalid_request', async () => {
    expectOAuthError(await withBasic(client, { client_id: randomUUID() }), 400, 'invalid_request');
  });

  it('a client_id in the body equal to the Basic one is accepted', async () => {
    expectIssued(await withBasic(client, { client_id: client.id }));
  });

  it('a wrong secret is 401 invalid_client with WWW-Authenticate, for both methods', async () => {
    expectInvalidClient(await withBasic({ id: client.id, secret: `${client.secret}x` }));
    expectInvalidClient(await withPost({ id: client.id, secret: 'sgn_wrong' }));
  });

  it('an unknown client id is 401 invalid_client', async () => {
    expectInvalidClient(await withBasic({ id: randomUUID(), secret: client.secret }));
  });

  it('a client id that is not a principal id is 401 invalid_client', async () => {
    expectInvalidClient(await withBasic({ id: 'not-a-uuid', secret: client.secret }));
    expectInvalidClient(await withBasic({ id: "x' OR '1'='1", secret: client.secret }));
  });

  it('client_secret_post without client_id is 401 invalid_client', async () => {
    expectInvalidClient(await postToken(a.s.url, 'default', { ...form(), client_secret: client.secret }));
  });

  it('no client authentication at all is 401 invalid_client', async () => {
    expectInvalidClient(await postToken(a.s.url, 'default', form()));
    expectInvalidClient(await postToken(a.s.url, 'default', { ...form(), client_id: client.id }));
  });

  it('a Bearer Authorization header is not client authentication (401 invalid_client)', async () => {
    expectInvalidClient(await postToken(a.s.url, 'default', form(), { authorization: `Bearer ${a.token}` }));
  });

  it('an expired secret is 401 invalid_client', async () => {
    const principal = await createPrincipal(a, 'default', { kind: 'service', displayName: 'short-lived secret' });
    const created = expectStatus(
      await a.call<CreatedCredential>('POST', `/tenants/default/principals/${principal.id}/credentials`, { type: 'secret', expiresAt: new Date(a.s.now() + 30_000).toISOString() }),
      201,
    );
    expectStatus(await a.call('POST', '/tenants/default/grants', { principal: principal.id, resource: orders, role: 'orders.read' }), 201);
    const c = { id: principal.id, secret: created.secret as string };
    expectIssued(await withBasic(c));
    a.s.advance(31_000);
    expectInvalidClient(await withBasic(c));
  });

  it('a deleted secret is 401 invalid_client', async () => {
    const c = await granted();
    expectIssued(await withBasic(c));
    const list = expectStatus(await a.call<Page<CredentialView>>('GET', `/tenants/default/principals/${c.id}/credentials`), 200);
    for (const credential of list.items) expectStatus(await a.call('DELETE', `/tenants/default/principals/${c.id}/credentials/${credential.id}`), 204);
    expectInvalidClient(await withBasic(c));
  });

  it('a disabled principal is refused at once, and authenticates again once enabled', async () => {
    const c = await granted();
    expectIssued(await withBasic(c));
    expectStatus(await a.call('POST', `/tenants/default/principals/${c.id}/disable`), 200);
    expectInvalidClient(await withBasic(c));
    expectInvalidClient(await withPost(c));
    expectStatus(await a.call('POST', `/tenants/default/principals/${c.id}/enable`), 200);
    expectIssued(await withBasic(c));
  });

  it('a deleted principal is 401 invalid_client', async () => {
    const c = await granted();
    expectIssued(await withBasic(c));
    expectStatus(await a.call('DELETE', `/tenants/default/principals/${c.id}`), 204);
    expectInvalidClient(await withBasic(c));
  });

  it('a principal of kind user is not a client (401 invalid_client)', async () => {
    const user = await createPrincipal(a, 'default', { kind: 'user', displayName: 'a person' });
    expectInvalidClient(await withBasic({ id: user.id, secret: client.secret }));
  });

  it('another principal\'s secret does not authenticate this client', async () => {
    const c = await granted();
    expectInvalidClient(await withBasic({ id: c.id, secret: client.secret }));
  });

  it('using a secret records lastUsedAt on the credential', async () => {
    const c = await granted();
    const path = `/tenants/default/principals/${c.id}/credentials`;
    const before = expectStatus(await a.call<Page<CredentialView>>('GET', path), 200);
    assert.equal(before.items[0]?.lastUsedAt, null);
    expectIssued(await withBasic(c));
    let lastUsedAt: string | null | undefined = null;
    // The use is recorded off the response path.
    for (let i = 0; i < 50 && !lastUsedAt; i += 1) {
      lastUsedAt = expectStatus(await a.call<Page<CredentialView>>('GET', path), 200).items[0]?.lastUsedAt;
      if (!lastUsedAt) await sleep(20);
    }
    assert.equal(typeof lastUsedAt, 'string');
    assert.ok(Math.abs(Date.parse(lastUsedAt as string) - a.s.now()) < 60_000);
  });
});

describe('token endpoint: failed client authentication is throttled per source address', () => {
  let a: Admin;
  let orders: string;
  let client: SecretClient;
  const LIMIT = 3;
  const attempt = (secret: string) =>
    postToken(a.s.url, 'default', { grant_type: 'client_credentials', scope: `${orders}/.default` }, { authorization: basicAuth(client.id, secret) });

  before(async () => {
    a = await startAdmin({ SIGNET_CLIENT_AUTH_FAILURE_LIMIT: String(LIMIT) });
    orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    client = await secretClient(a, 'default', orders, ['orders.read']);
  });
  after(() => a.close());

  it('after the limit of failures, even a correct secret gets 429 temporarily_unavailable with Retry-After until the window passes', async () => {
    for (let i = 0; i < LIMIT; i += 1) expectInvalidClient(await attempt('sgn_wrong'));
    const refused = await attempt(client.secret);
    expectOAuthError(refused, 429, 'temporarily_unavailable');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${refused.headers.get('retry-after')}`);
    a.s.advance(60_000);
    expectIssued(await attempt(client.secret));
  });
});
