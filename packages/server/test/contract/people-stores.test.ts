import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Db } from '../../src/db/connect.js';
import { isUniqueViolation } from '../../src/db/connect.js';
import { forgetExpiredSignIns } from '../../src/people/cleanup.js';
import { type Factor, factorStore } from '../../src/people/factor-store.js';
import { invitationStore } from '../../src/people/invitation-store.js';
import { type SessionRecord, sessionStore } from '../../src/people/session-store.js';
import { userStore } from '../../src/people/user-store.js';
import { principalStore } from '../../src/principals/store.js';
import { newId } from '../../src/crypto/ids.js';
import { describeEachBackend } from './backends.js';
import { newTenant, principal, T0 } from './fixtures.js';

interface World {
  tenantId: string;
  userId: string;
  factorId: string;
}

const factor = (tenantId: string, userId: string, over: Partial<Factor> = {}): Factor => ({
  id: newId(), tenantId, userId, type: 'totp', name: 'app', confirmed: true, sealedSecret: 'v1.x', lastStep: null,
  credentialId: null, publicKey: null, counter: null, transports: [], deviceType: null, createdAt: T0, lastUsedAt: null, ...over,
});

const session = (tenantId: string, userId: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  id: newId(), tenantId, userId, state: 'active', amr: ['pwd'], acr: 'urn:signet:acr:pwd', authTime: T0, returnTo: null, requireMfa: false,
  createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 3600_000, sourceIp: '10.0.0.1', userAgent: null, ...over,
});

/** The same user name, passkey id, digests and tokens in two tenants: every lookup must stay in its own. */
async function world(db: Db, tag: string): Promise<World> {
  const tenantId = await newTenant(db);
  const user = principal(tenantId, { kind: 'user', displayName: 'Ada', username: 'ada', email: 'ada@example.test' });
  await principalStore.insert(db, user);
  await userStore.setPassword(db, tenantId, user.id, `hash-${tag}`, false, T0);
  const f = factor(tenantId, user.id);
  await factorStore.insert(db, f);
  await factorStore.insert(db, factor(tenantId, user.id, { type: 'passkey', sealedSecret: null, credentialId: 'cred-1', publicKey: `pk-${tag}`, counter: 0, transports: ['internal'] }));
  await factorStore.replaceRecoveryCodes(db, tenantId, user.id, ['rc-1', 'rc-2'], T0);
  await invitationStore.insert(db, { digest: `inv-${tag}`, tenantId, userId: user.id, createdAt: T0, expiresAt: T0 + 3600_000 });
  await sessionStore.insert(db, session(tenantId, user.id), `sess-${tag}`);
  await factorStore.insertChallenge(db, { id: `ch-${tag}`, tenantId, userId: user.id, purpose: 'register', challenge: `c-${tag}`, expiresAt: T0 + 60_000 });
  return { tenantId, userId: user.id, factorId: f.id };
}

describeEachBackend('people stores: sign-in names, passwords, factors, sessions', (conn) => {
  let a: World;
  let b: World;
  before(async () => {
    a = await world(conn().db, 'a');
    b = await world(conn().db, 'b');
  });

  it('finds users by username or email, case-insensitively, only in their tenant', async () => {
    const db = conn().db;
    assert.equal((await userStore.byLoginName(db, a.tenantId, 'ADA'))?.id, a.userId);
    assert.equal((await userStore.byLoginName(db, b.tenantId, 'ada@example.test'))?.id, b.userId);
    assert.equal(await userStore.byLoginName(db, a.tenantId, ''), undefined);
    assert.equal((await userStore.byId(db, a.tenantId, b.userId)), undefined);
  });

  it('keeps usernames unique per tenant, not across tenants', async () => {
    const db = conn().db;
    await assert.rejects(principalStore.insert(db, principal(a.tenantId, { kind: 'user', username: 'ada', email: null })), (e) => isUniqueViolation(e));
  });

  it('stores passwords per tenant and re-hashes only over the hash it read', async () => {
    const db = conn().db;
    assert.equal((await userStore.password(db, a.tenantId, a.userId))?.hash, 'hash-a');
    assert.equal(await userStore.password(db, a.tenantId, b.userId), undefined);
    await userStore.rehash(db, a.tenantId, a.userId, 'stale', 'new');
    assert.equal((await userStore.password(db, a.tenantId, a.userId))?.hash, 'hash-a');
    await userStore.rehash(db, a.tenantId, a.userId, 'hash-a', 'hash-a2');
    assert.equal((await userStore.password(db, a.tenantId, a.userId))?.hash, 'hash-a2');
    assert.equal((await userStore.password(db, b.tenantId, b.userId))?.hash, 'hash-b');
    await userStore.setPassword(db, b.tenantId, b.userId, 'hash-b2', true, T0 + 1);
    assert.deepEqual(await userStore.password(db, b.tenantId, b.userId), { hash: 'hash-b2', mustChange: true, updatedAt: T0 + 1 });
  });

  it('advances a TOTP step only forward (a replayed step is refused)', async () => {
    const db = conn().db;
    assert.equal(await factorStore.advanceStep(db, a.tenantId, a.factorId, 100, T0), true);
    assert.equal(await factorStore.advanceStep(db, a.tenantId, a.factorId, 100, T0), false);
    assert.equal(await factorStore.advanceStep(db, a.tenantId, a.factorId, 99, T0), false);
    assert.equal(await factorStore.advanceStep(db, b.tenantId, a.factorId, 101, T0), false, 'not through another tenant');
    assert.equal(await factorStore.advanceStep(db, a.tenantId, a.factorId, 101, T0), true);
  });

  it('finds passkeys by credential id in their own tenant', async () => {
    const db = conn().db;
    assert.equal((await factorStore.byCredentialId(db, a.tenantId, 'cred-1'))?.publicKey, 'pk-a');
    assert.equal((await factorStore.byCredentialId(db, b.tenantId, 'cred-1'))?.publicKey, 'pk-b');
    assert.deepEqual((await factorStore.byCredentialId(db, a.tenantId, 'cred-1'))?.transports, ['internal']);
    assert.equal((await factorStore.listForUser(db, a.tenantId, b.userId)).length, 0);
    assert.equal(await factorStore.delete(db, b.tenantId, a.userId, a.factorId), false);
  });

  it('spends recovery codes and invitations once, in their tenant only', async () => {
    const db = conn().db;
    assert.equal(await factorStore.useRecoveryCode(db, b.tenantId, a.userId, 'rc-1', T0), false);
    assert.equal(await factorStore.useRecoveryCode(db, a.tenantId, a.userId, 'rc-1', T0), true);
    assert.equal(await factorStore.useRecoveryCode(db, a.tenantId, a.userId, 'rc-1', T0), false);
    assert.equal(await factorStore.unusedRecoveryCodes(db, a.tenantId, a.userId), 1);
    assert.equal(await factorStore.unusedRecoveryCodes(db, b.tenantId, b.userId), 2);
    assert.equal(await invitationStore.find(db, b.tenantId, 'inv-a', T0), undefined);
    assert.equal(await invitationStore.find(db, a.tenantId, 'inv-a', T0), a.userId);
    assert.equal(await invitationStore.use(db, b.tenantId, 'inv-a', T0), false);
    assert.equal(await invitationStore.use(db, a.tenantId, 'inv-a', T0 + 3600_000), false, 'expired');
    assert.equal(await invitationStore.use(db, a.tenantId, 'inv-a', T0), true);
    assert.equal(await invitationStore.use(db, a.tenantId, 'inv-a', T0), false);
  });

  it('finds sessions by digest in their tenant, ends them per user, and takes challenges once', async () => {
    const db = conn().db;
    assert.equal(await sessionStore.byDigest(db, b.tenantId, 'sess-a'), undefined);
    const s = await sessionStore.byDigest(db, a.tenantId, 'sess-a');
    assert.deepEqual([s?.userId, s?.amr, s?.state, s?.requireMfa], [a.userId, ['pwd'], 'active', false]);
    assert.equal(await sessionStore.deleteForUser(db, b.tenantId, a.userId), 0);
    assert.equal(await factorStore.takeChallenge(db, b.tenantId, 'ch-a', 'register', T0), undefined);
    assert.deepEqual(await factorStore.takeChallenge(db, a.tenantId, 'ch-a', 'register', T0), { userId: a.userId, challenge: 'c-a' });
    assert.equal(await factorStore.takeChallenge(db, a.tenantId, 'ch-a', 'register', T0), undefined);
    assert.equal(await factorStore.takeChallenge(db, b.tenantId, 'ch-b', 'authenticate', T0), undefined, 'a challenge for another purpose is spent, not used');
    assert.equal(await sessionStore.deleteForUser(db, a.tenantId, a.userId), 1);
    await forgetExpiredSignIns(db, T0 + 3600_000);
    assert.equal(await sessionStore.byDigest(db, b.tenantId, 'sess-b'), undefined, 'expired sessions are removed by maintenance');
  });
});
