import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { oauthClientStore } from '../../src/clients/store.js';
import type { OAuthClient } from '../../src/clients/model.js';
import type { Consent } from '../../src/consents/model.js';
import { consentStore } from '../../src/consents/store.js';
import { newId } from '../../src/crypto/ids.js';
import type { Db } from '../../src/db/connect.js';
import { codeStore, type AuthorizationCode } from '../../src/oauth/tokens/code-store.js';
import { familyStore, type TokenFamily } from '../../src/oauth/tokens/family-store.js';
import { refreshTokenStore } from '../../src/oauth/tokens/refresh-store.js';
import { requestStore, type PendingAuthorization } from '../../src/oauth/tokens/request-store.js';
import { principalStore } from '../../src/principals/store.js';
import { describeEachBackend } from './backends.js';
import { T0, newTenant, principal, walk } from './fixtures.js';

/** One tenant's sign-in records; tenants A and B have the same shape (and the same digests, where a digest is a key). */
interface World {
  tenantId: string;
  user: string;
  client: string;
  consent: Consent;
  adminConsent: Consent;
  family: TokenFamily;
  code: AuthorizationCode;
  request: PendingAuthorization;
}

const NOW = T0 + 60_000;

async function createWorld(db: Db, tag: string): Promise<World> {
  const tenantId = await newTenant(db);
  const user = principal(tenantId, { kind: 'user', displayName: 'Ada' });
  const client = principal(tenantId, { kind: 'service', displayName: 'Photo app' });
  for (const p of [user, client]) await principalStore.insert(db, p);
  const settings: OAuthClient = { tenantId, principalId: client.id, clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], postLogoutRedirectUris: ['https://a.example/'], requiredScopes: ['openid'], selfRegistered: true, createdAt: T0, updatedAt: T0 };
  await oauthClientStore.put(db, settings);
  const consent: Consent = { id: newId(), tenantId, userId: user.id, clientId: client.id, resource: 'api://photos', scopes: ['photos.read'], grantedBy: user.id, createdAt: T0, updatedAt: T0, expiresAt: NOW + 86_400_000 };
  const adminConsent: Consent = { ...consent, id: newId(), userId: null, resource: 'urn:signet:identity', scopes: ['openid'], grantedBy: 'admin' };
  for (const c of [consent, adminConsent]) await consentStore.insert(db, c);
  const family: TokenFamily = { id: newId(), tenantId, clientId: client.id, userId: user.id, consentIds: [consent.id], resource: 'api://photos', scope: ['openid', 'photos.read'], authTime: Math.floor(T0 / 1000), amr: ['pwd'], acr: 'urn:signet:acr:pwd', createdAt: T0, expiresAt: NOW + 3600_000, revokedAt: null, revokedReason: null, dpopJkt: null };
  await familyStore.insert(db, family);
  await refreshTokenStore.insert(db, { digest: `refresh-${tag}`, tenantId, familyId: family.id, createdAt: T0, idleExpiresAt: NOW + 600_000, usedAt: null });
  const code: AuthorizationCode = {
    digest: `code-${tag}`,
    tenantId,
    clientId: client.id,
    userId: user.id,
    grant: { redirectUri: 'http://127.0.0.1/cb', codeChallenge: 'c'.repeat(43), nonce: 'n', scope: ['openid'], resource: null, consentIds: [adminConsent.id], sessionId: 's', authTime: 1, amr: ['pwd'], acr: 'x' },
    createdAt: T0,
    expiresAt: NOW + 60_000,
    usedAt: null,
    familyId: null,
    accessTokenJti: null,
  };
  await codeStore.insert(db, code);
  const request: PendingAuthorization = { id: `request-${tag}-${newId()}`, tenantId, clientId: client.id, redirectUri: 'http://127.0.0.1/cb', state: 's', nonce: null, codeChallenge: 'c'.repeat(43), scope: ['openid'], resource: null, prompt: ['login'], maxAge: 30, authAfter: 5, requireMfa: true, createdAt: T0, expiresAt: NOW + 600_000 };
  await requestStore.insert(db, request);
  return { tenantId, user: user.id, client: client.id, consent, adminConsent, family, code, request };
}

describeEachBackend('people OAuth stores: round trips and tenant isolation', (conn) => {
  let a: World;
  let b: World;
  let db: Db;
  before(async () => {
    db = conn().db;
    // Tenant B's rows carry the same digests where a digest is the lookup key.
    a = await createWorld(db, 'a');
    b = await createWorld(db, 'b');
  });

  it('oauthClientStore: get/put/delete round-trip and stay in their tenant', async () => {
    assert.deepEqual((await oauthClientStore.get(db, a.tenantId, a.client))?.redirectUris, ['http://127.0.0.1/cb']);
    assert.equal((await oauthClientStore.get(db, a.tenantId, a.client))?.selfRegistered, true);
    assert.equal(await oauthClientStore.get(db, a.tenantId, b.client), undefined);
    await oauthClientStore.put(db, { tenantId: a.tenantId, principalId: a.client, clientType: 'confidential', redirectUris: ['https://a.example/cb'], postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: false, createdAt: T0, updatedAt: NOW });
    const updated = await oauthClientStore.get(db, a.tenantId, a.client);
    assert.deepEqual(updated, { tenantId: a.tenantId, principalId: a.client, clientType: 'confidential', redirectUris: ['https://a.example/cb'], postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: false, createdAt: T0, updatedAt: NOW });
    assert.equal(await oauthClientStore.delete(db, a.tenantId, b.client), false);
    assert.equal((await oauthClientStore.get(db, b.tenantId, b.client))?.clientType, 'public');
  });

  it('consentStore: get/find/live/list/update/delete round-trip and stay in their tenant', async () => {
    assert.deepEqual(await consentStore.get(db, a.tenantId, a.consent.id), a.consent);
    assert.equal(await consentStore.get(db, a.tenantId, b.consent.id), undefined);
    assert.deepEqual(await consentStore.find(db, a.tenantId, a.user, a.client, 'api://photos'), a.consent);
    assert.deepEqual(await consentStore.find(db, a.tenantId, null, a.client, 'urn:signet:identity'), a.adminConsent);
    assert.equal(await consentStore.find(db, a.tenantId, b.user, b.client, 'api://photos'), undefined);
    assert.deepEqual((await consentStore.live(db, a.tenantId, a.user, a.client, NOW)).map((c) => c.id).sort(), [a.consent.id, a.adminConsent.id].sort());
    assert.deepEqual(await consentStore.live(db, a.tenantId, b.user, b.client, NOW), []);
    assert.deepEqual(await consentStore.live(db, a.tenantId, a.user, a.client, NOW + 2 * 86_400_000), [], 'expired consents are not live');
    const ids = await walk(1, (page) => consentStore.list(db, a.tenantId, {}, page));
    assert.deepEqual(ids.sort(), [a.consent.id, a.adminConsent.id].sort());
    assert.deepEqual((await consentStore.list(db, a.tenantId, { allUsers: true }, { limit: 10 })).items.map((c) => c.id), [a.adminConsent.id]);
    assert.deepEqual((await consentStore.list(db, a.tenantId, { userId: b.user }, { limit: 10 })).items, []);
    await consentStore.update(db, { ...b.consent, tenantId: a.tenantId, scopes: ['hijacked'] });
    assert.deepEqual((await consentStore.get(db, b.tenantId, b.consent.id))?.scopes, ['photos.read']);
    await consentStore.delete(db, a.tenantId, b.consent.id);
    assert.ok(await consentStore.get(db, b.tenantId, b.consent.id));
    await consentStore.update(db, { ...a.consent, scopes: ['photos.read', 'photos.write'], updatedAt: NOW });
    assert.deepEqual((await consentStore.get(db, a.tenantId, a.consent.id))?.scopes, ['photos.read', 'photos.write']);
  });

  it('familyStore: get/liveFor/revoke round-trip and stay in their tenant', async () => {
    assert.deepEqual(await familyStore.get(db, a.tenantId, a.family.id), a.family);
    assert.equal(await familyStore.get(db, a.tenantId, b.family.id), undefined);
    assert.deepEqual((await familyStore.liveFor(db, a.tenantId, a.client, a.user)).map((f) => f.id), [a.family.id]);
    assert.deepEqual(await familyStore.liveFor(db, a.tenantId, b.client, null), []);
    assert.equal(await familyStore.revoke(db, a.tenantId, b.family.id, NOW, 'test'), false);
    assert.equal((await familyStore.get(db, b.tenantId, b.family.id))?.revokedAt, null);
    assert.equal(await familyStore.revoke(db, a.tenantId, a.family.id, NOW, 'test'), true);
    assert.equal(await familyStore.revoke(db, a.tenantId, a.family.id, NOW, 'test'), false, 'revoked once');
    assert.deepEqual(await familyStore.liveFor(db, a.tenantId, a.client, null), []);
  });

  it('familyStore.revokeForPrincipal: every live family of the user or client, in its tenant only', async () => {
    assert.equal(await familyStore.revokeForPrincipal(db, a.tenantId, b.user, NOW, 'test'), 0);
    assert.equal(await familyStore.revokeForPrincipal(db, a.tenantId, b.client, NOW, 'test'), 0);
    assert.equal((await familyStore.get(db, b.tenantId, b.family.id))?.revokedAt, null);
    // The shared fixture family was revoked by the test before: a live one of A's user and client.
    const live = { ...a.family, id: newId(), revokedAt: null, revokedReason: null };
    await familyStore.insert(db, live);
    assert.equal(await familyStore.revokeForPrincipal(db, a.tenantId, a.user, NOW, 'principal disabled'), 1);
    assert.equal((await familyStore.get(db, a.tenantId, live.id))?.revokedReason, 'principal disabled');
    assert.equal(await familyStore.revokeForPrincipal(db, a.tenantId, a.client, NOW, 'again'), 0, 'already revoked');
  });

  it('refreshTokenStore: get/spend round-trip, single spend, and stay in their tenant', async () => {
    assert.equal((await refreshTokenStore.get(db, a.tenantId, 'refresh-b')), undefined);
    assert.equal((await refreshTokenStore.get(db, a.tenantId, 'refresh-a'))?.familyId, a.family.id);
    assert.equal(await refreshTokenStore.spend(db, a.tenantId, 'refresh-b', NOW), false);
    assert.equal((await refreshTokenStore.get(db, b.tenantId, 'refresh-b'))?.usedAt, null);
    assert.equal(await refreshTokenStore.spend(db, a.tenantId, 'refresh-a', NOW), true);
    assert.equal(await refreshTokenStore.spend(db, a.tenantId, 'refresh-a', NOW), false, 'a spent token cannot be spent again');
    assert.equal((await refreshTokenStore.get(db, a.tenantId, 'refresh-a'))?.usedAt, NOW);
  });

  it('codeStore: get/spend/recordAccessToken round-trip, single use, and stay in their tenant', async () => {
    assert.deepEqual(await codeStore.get(db, a.tenantId, 'code-a'), a.code);
    assert.equal(await codeStore.get(db, a.tenantId, 'code-b'), undefined);
    assert.equal(await codeStore.spend(db, a.tenantId, 'code-b', NOW, 'f'), false);
    await codeStore.recordAccessToken(db, a.tenantId, 'code-b', 'jti');
    assert.deepEqual(await codeStore.get(db, b.tenantId, 'code-b'), b.code);
    assert.equal(await codeStore.spend(db, a.tenantId, 'code-a', NOW, 'fam'), true);
    assert.equal(await codeStore.spend(db, a.tenantId, 'code-a', NOW, 'fam2'), false, 'codes are single-use');
    await codeStore.recordAccessToken(db, a.tenantId, 'code-a', 'jti-1');
    const spent = await codeStore.get(db, a.tenantId, 'code-a');
    assert.deepEqual([spent?.usedAt, spent?.familyId, spent?.accessTokenJti], [NOW, 'fam', 'jti-1']);
  });

  it('requestStore: get/setAuthAfter/delete round-trip, expiry, and stay in their tenant', async () => {
    assert.deepEqual(await requestStore.get(db, a.tenantId, a.request.id, NOW), a.request);
    assert.equal(await requestStore.get(db, a.tenantId, b.request.id, NOW), undefined);
    assert.equal(await requestStore.get(db, a.tenantId, a.request.id, a.request.expiresAt), undefined, 'expired requests are gone');
    await requestStore.setAuthAfter(db, a.tenantId, b.request.id, { ...b.request, tenantId: a.tenantId }, 99);
    assert.equal((await requestStore.get(db, b.tenantId, b.request.id, NOW))?.authAfter, 5);
    await requestStore.setAuthAfter(db, a.tenantId, a.request.id, a.request, 99);
    assert.equal((await requestStore.get(db, a.tenantId, a.request.id, NOW))?.authAfter, 99);
    assert.equal(await requestStore.delete(db, a.tenantId, b.request.id), false);
    assert.equal(await requestStore.delete(db, a.tenantId, a.request.id), true);
    assert.equal(await requestStore.delete(db, a.tenantId, a.request.id), false, 'a request ends once');
  });

  it('expiry sweeps remove only what has expired', async () => {
    assert.equal(await requestStore.deleteExpired(db, NOW), 0);
    assert.equal(await codeStore.deleteExpired(db, NOW), 0);
    assert.equal(await refreshTokenStore.deleteExpired(db, NOW + 700_000), 2);
    assert.equal(await codeStore.deleteExpired(db, NOW + 70_000), 2);
    assert.ok(await requestStore.get(db, b.tenantId, b.request.id, NOW));
  });
});
