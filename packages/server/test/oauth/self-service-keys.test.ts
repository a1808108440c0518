import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addSecret, auditEvents, createPrincipal, createTenant, expectError, expectStatus, grant, startAdmin, type Admin, type CredentialView, type Page, type TenantView } from '../admin/helpers.js';
import { addKey, basicAuth, createResource, expectInvalidClient, expectIssued, expectOAuthError, JWT_BEARER, keyPair, LENIENT_THROTTLE, postToken, signAssertion, uniqueResourceId, type KeyPair, type TokenResponse } from './helpers.js';

describe('self-service key rotation: POST/DELETE {issuer}/oauth2/keys, authenticated by the current key', () => {
  let a: Admin;
  let tenant: TenantView;
  let orders: string;
  let issuer: string;

  const assertion = (key: KeyPair, clientId: string) => signAssertion(key, { now: a.s.now(), clientId, aud: issuer });

  async function call(method: 'POST' | 'DELETE', path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
    const response = await fetch(`${issuer}/oauth2/keys${path}`, {
      method,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }
  const withKey = async (key: KeyPair, clientId: string, extra: Record<string, string> = {}) => ({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(key, clientId), ...extra });
  const token = async (key: KeyPair, clientId: string) =>
    postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${orders}/.default`, ...(await withKey(key, clientId)) });

  async function keyClient(key: KeyPair): Promise<{ id: string; credentialId: string }> {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'rotating client' });
    await grant(a, tenant.name, p.id, orders, 'orders.read');
    const credential = await addKey(a, tenant.name, p.id, key.publicJwk);
    return { id: p.id, credentialId: credential.id };
  }

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    tenant = await createTenant(a);
    issuer = `${a.s.url}/${tenant.name}`;
    orders = uniqueResourceId();
    await createResource(a, tenant.name, orders, ['orders.read']);
  });
  after(() => a.close());

  it('adds the next key with the current one, then retires the old with the new: no gap, no admin', async () => {
    const [current, next] = await Promise.all([keyPair('ES256'), keyPair('EdDSA')]);
    const client = await keyClient(current);

    const added = await call('POST', '', await withKey(current, client.id, { jwk: JSON.stringify(next.publicJwk) }));
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.type, 'key');
    assert.equal(typeof added.body.thumbprint, 'string');
    expectIssued(await token(current, client.id));
    expectIssued(await token(next, client.id));

    const retired = await call('DELETE', `/${client.credentialId}`, await withKey(next, client.id));
    assert.equal(retired.status, 204, JSON.stringify(retired.body));
    expectInvalidClient(await token(current, client.id));
    expectIssued(await token(next, client.id));

    const events = await auditEvents(a, tenant.id);
    const addedEvent = events.find((e) => e.type === 'credential.added' && e.targetId === added.body.id);
    assert.equal(addedEvent?.actorId, client.id);
    const removedEvent = events.find((e) => e.type === 'credential.removed' && e.targetId === client.credentialId);
    assert.equal(removedEvent?.actorId, client.id);
  });

  it('refuses to retire the key the request was authenticated with', async () => {
    const key = await keyPair('ES256');
    const client = await keyClient(key);
    const res = await call('DELETE', `/${client.credentialId}`, await withKey(key, client.id));
    expectOAuthError(res, 409, 'invalid_request');
  });

  it('only private_key_jwt may manage keys: a client secret is refused with invalid_client', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'secret client' });
    const secret = await addSecret(a, tenant.name, p.id);
    const next = await keyPair('ES256');
    expectInvalidClient(await call('POST', '', { jwk: JSON.stringify(next.publicJwk) }, { authorization: basicAuth(p.id, secret) }));
    expectInvalidClient(await call('POST', '', { jwk: JSON.stringify(next.publicJwk) }));
  });

  it('refuses a missing, malformed or private JWK, a past expiry, a duplicate, and more than 5 keys', async () => {
    const key = await keyPair('ES256');
    const client = await keyClient(key);
    expectOAuthError(await call('POST', '', await withKey(key, client.id)), 400, 'invalid_request');
    expectOAuthError(await call('POST', '', await withKey(key, client.id, { jwk: '{not json' })), 400, 'invalid_request');
    const { privateKey } = await keyPair('ES256');
    const { exportJWK } = await import('jose');
    expectOAuthError(await call('POST', '', await withKey(key, client.id, { jwk: JSON.stringify(await exportJWK(privateKey)) })), 400, 'invalid_request');
    expectOAuthError(await call('POST', '', await withKey(key, client.id, { jwk: JSON.stringify((await keyPair('ES256')).publicJwk), expires_at: '2001-01-01T00:00:00Z' })), 400, 'invalid_request');
    expectOAuthError(await call('POST', '', await withKey(key, client.id, { jwk: JSON.stringify(key.publicJwk) })), 409, 'invalid_request');
    for (let i = 0; i < 4; i++) assert.equal((await call('POST', '', await withKey(key, client.id, { jwk: JSON.stringify((await keyPair('ES256')).publicJwk) }))).status, 201);
    expectOAuthError(await call('POST', '', await withKey(key, client.id, { jwk: JSON.stringify((await keyPair('ES256')).publicJwk) })), 400, 'invalid_request');
  });
});

describe('credential expiry and last use', () => {
  let a: Admin;
  let tenant: TenantView;
  let orders: string;

  before(async () => {
    a = await startAdmin(LENIENT_THROTTLE);
    tenant = await createTenant(a);
    orders = uniqueResourceId();
    await createResource(a, tenant.name, orders, ['orders.read']);
  });
  after(() => a.close());

  const day = 86_400_000;
  const secretToken = (id: string, secret: string) => postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${orders}/.default` }, { authorization: basicAuth(id, secret) });

  it('GET /tenants/{tenant}/credentials?expiringWithinDays=N lists what expires within N days, expired ones included', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'expiring' });
    const path = `/tenants/${tenant.name}/principals/${p.id}/credentials`;
    const soon = expectStatus(await a.call<CredentialView>('POST', path, { type: 'secret', expiresAt: new Date(a.s.now() + 2 * day).toISOString() }), 201);
    const later = expectStatus(await a.call<CredentialView>('POST', path, { type: 'secret', expiresAt: new Date(a.s.now() + 40 * day).toISOString() }), 201);
    const key = await keyPair('ES256');
    const noExpiry = await addKey(a, tenant.name, p.id, key.publicJwk);

    const list = async (days: number, token?: string) =>
      expectStatus(await a.call<Page<CredentialView>>('GET', `/tenants/${tenant.name}/credentials?expiringWithinDays=${days}`, undefined, token), 200).items.map((c) => c.id);
    assert.deepEqual(await list(7), [soon.id]);
    assert.deepEqual(await list(60), [soon.id, later.id]);
    assert.ok(!(await list(3650)).includes(noExpiry.id));
    a.s.advance(3 * day);
    try {
      assert.deepEqual(await list(0, await a.s.adminToken()), [soon.id], 'an expired credential is listed');
    } finally {
      a.s.advance(-3 * day);
    }
    expectError(await a.call('GET', `/tenants/${tenant.name}/credentials`), 400, 'invalid_request');
    expectError(await a.call('GET', `/tenants/${tenant.name}/credentials?expiringWithinDays=-1`), 400, 'invalid_request');
  });

  it('an expired secret stops working at once', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'short-lived' });
    await grant(a, tenant.name, p.id, orders, 'orders.read');
    const created = expectStatus(await a.call<CredentialView & { secret: string }>('POST', `/tenants/${tenant.name}/principals/${p.id}/credentials`, { type: 'secret', expiresAt: new Date(a.s.now() + 60_000).toISOString() }), 201);
    expectIssued(await secretToken(p.id, created.secret));
    a.s.advance(61_000);
    try {
      expectInvalidClient(await secretToken(p.id, created.secret));
    } finally {
      a.s.advance(-61_000);
    }
  });

  it('records last use at most once a minute per credential', async () => {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'touched' });
    await grant(a, tenant.name, p.id, orders, 'orders.read');
    const secret = await addSecret(a, tenant.name, p.id);
    const lastUsed = async () => {
      for (let i = 0; i < 50; i++) {
        const items = expectStatus(await a.call<{ items: CredentialView[] }>('GET', `/tenants/${tenant.name}/principals/${p.id}/credentials`), 200).items;
        if (items[0]?.lastUsedAt) return items[0].lastUsedAt;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return null;
    };
    expectIssued(await secretToken(p.id, secret));
    const first = await lastUsed();
    assert.ok(first);
    expectIssued(await secretToken(p.id, secret));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await lastUsed(), first, 'a second use within the minute writes nothing');
    a.s.advance(61_000);
    try {
      expectIssued(await secretToken(p.id, secret));
      let after = first;
      for (let i = 0; i < 50 && after === first; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = (await lastUsed()) as string;
      }
      assert.ok(Date.parse(after) >= Date.parse(first) + 60_000);
    } finally {
      a.s.advance(-61_000);
    }
  });
});
