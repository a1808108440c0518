import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { auditStore } from '../../src/audit/store.js';
import { oauthClientStore } from '../../src/clients/store.js';
import type { Consent } from '../../src/consents/model.js';
import { consentStore } from '../../src/consents/store.js';
import { newId } from '../../src/crypto/ids.js';
import { auditWriter } from './fixtures.js';
import { credentialStore } from '../../src/credentials/store.js';
import type { Db } from '../../src/db/connect.js';
import { grantStore } from '../../src/grants/store.js';
import { principalStore } from '../../src/principals/store.js';
import { resourceStore } from '../../src/resources/store.js';
import { signingKeyStore } from '../../src/signing-keys/store.js';
import { describeEachBackend } from './backends.js';
import { T0, credential, grant, newTenant, principal, resource, signingKey, walk } from './fixtures.js';

/** One tenant's records; tenants A and B get the same shape, and the same resource identifier. */
interface World {
  tenantId: string;
  user: string;
  agent: string;
  service: string;
  deleted: string;
  secret: string;
  key: string;
  resource: string;
  grant: string;
  liveKey: string;
  expiredKey: string;
}

const IDENTIFIER = 'api://orders';
const ROLE = 'orders.read';
const NOW = T0 + 60_000;

async function createWorld(db: Db): Promise<World> {
  const tenantId = await newTenant(db);
  const user = principal(tenantId, { kind: 'user', displayName: 'Ada' });
  const agent = principal(tenantId, { kind: 'agent', displayName: 'Triage', sponsors: [user.id] });
  const service = principal(tenantId, { kind: 'service', displayName: 'Orders worker' });
  const deleted = principal(tenantId, { kind: 'service', status: 'deleted', deletedAt: T0 });
  for (const p of [user, agent, service, deleted]) await principalStore.insert(db, p);
  const secret = credential(tenantId, service.id);
  const key = credential(tenantId, agent.id, { type: 'key', secretDigest: null, publicJwk: { kty: 'EC' }, thumbprint: 'tp' });
  for (const c of [secret, key]) await credentialStore.insert(db, c);
  const r = resource(tenantId, { identifier: IDENTIFIER });
  await resourceStore.insert(db, r);
  const g = grant(tenantId, service.id, r.id, ROLE);
  await grantStore.insert(db, g);
  const liveKey = signingKey(tenantId);
  const expiredKey = signingKey(tenantId, { status: 'retired', retiredAt: T0, expiresAt: T0 + 1 });
  for (const k of [liveKey, expiredKey]) await signingKeyStore.insert(db, k);
  await db.insertInto('used_jtis').values({ tenant_id: tenantId, client_id: service.id, jti: 'jti-1', expires_at: NOW }).execute();
  await auditWriter(db).recordInTransaction(db, [
    { tenantId, type: 'principal.created', actor: { id: user.id, jti: 'jti-1', tenantId }, target: { type: 'principal', id: service.id }, after: { id: service.id } },
  ]);
  return {
    tenantId,
    user: user.id,
    agent: agent.id,
    service: service.id,
    deleted: deleted.id,
    secret: secret.id,
    key: key.id,
    resource: r.id,
    grant: g.id,
    liveKey: liveKey.id,
    expiredKey: expiredKey.id,
  };
}

/** Every row that belongs to `tenantId`, in every table. */
async function snapshot(db: Db, tenantId: string) {
  return {
    tenants: await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).execute(),
    principals: await db.selectFrom('principals').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    principal_sponsors: await db
      .selectFrom('principal_sponsors')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('principal_id')
      .orderBy('sponsor_id')
      .execute(),
    credentials: await db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    resources: await db.selectFrom('resources').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    grants: await db.selectFrom('grants').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    signing_keys: await db.selectFrom('signing_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    used_jtis: await db.selectFrom('used_jtis').selectAll().where('tenant_id', '=', tenantId).orderBy('client_id').orderBy('jti').execute(),
    audit_events: await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    consents: await db.selectFrom('consents').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    oauth_clients: await db.selectFrom('oauth_clients').selectAll().where('tenant_id', '=', tenantId).orderBy('principal_id').execute(),
  };
}

interface Ctx {
  db: Db;
  a: World;
  b: World;
  /** Fails when `value` mentions any of B's ids. */
  noneOfB(value: unknown): void;
}
type Check = (ctx: Ctx) => Promise<void>;
/** One check per store method: adding a method without an isolation check fails the typecheck. */
type Checks<S> = { [K in keyof S]: Check };

const principalChecks: Checks<typeof principalStore> = {
  async insert({ db, a }) {
    const twin = principal(a.tenantId, { kind: 'agent', displayName: 'Triage', sponsors: [a.user] });
    await principalStore.insert(db, twin);
    assert.deepEqual(await principalStore.get(db, a.tenantId, twin.id), twin);
  },
  async get({ db, a, b }) {
    for (const id of [b.user, b.agent, b.service, b.deleted]) assert.equal(await principalStore.get(db, a.tenantId, id), undefined);
  },
  async list({ db, a, noneOfB }) {
    for (const filter of [{}, { kind: 'service' as const }, { kind: 'agent' as const }, { status: 'deleted' as const }]) {
      const ids = await walk(1, (page) => principalStore.list(db, a.tenantId, filter, page));
      assert.ok(ids.length > 0);
      noneOfB(ids);
      noneOfB((await principalStore.list(db, a.tenantId, filter, { limit: 50 })).items);
    }
  },
  async update({ db, a, b }) {
    const bService = await principalStore.get(db, b.tenantId, b.service);
    assert.ok(bService);
    await principalStore.update(db, { ...bService, tenantId: a.tenantId, displayName: 'hijacked', status: 'disabled', updatedAt: NOW });
  },
  async replaceSponsors({ db, a, b }) {
    await principalStore.replaceSponsors(db, a.tenantId, b.agent, [], NOW);
  },
  async sponsoredBy({ db, a, b, noneOfB }) {
    assert.deepEqual(await principalStore.sponsoredBy(db, a.tenantId, b.user), []);
    const own = await principalStore.sponsoredBy(db, a.tenantId, a.user);
    assert.ok(own.includes(a.agent));
    noneOfB(own);
  },
};

const credentialChecks: Checks<typeof credentialStore> = {
  async insert({ db, a }) {
    await credentialStore.insert(db, credential(a.tenantId, a.service));
  },
  async get({ db, a, b }) {
    assert.equal(await credentialStore.get(db, a.tenantId, b.service, b.secret), undefined);
    assert.equal(await credentialStore.get(db, a.tenantId, a.service, b.secret), undefined);
    assert.equal(await credentialStore.get(db, a.tenantId, b.agent, b.key), undefined);
  },
  async listForPrincipal({ db, a, b, noneOfB }) {
    assert.deepEqual(await credentialStore.listForPrincipal(db, a.tenantId, b.service), []);
    assert.deepEqual(await credentialStore.listForPrincipal(db, a.tenantId, b.agent, 'key'), []);
    const own = await credentialStore.listForPrincipal(db, a.tenantId, a.service);
    assert.ok(own.length > 0);
    noneOfB(own);
  },
  async delete({ db, a, b }) {
    assert.equal(await credentialStore.delete(db, a.tenantId, b.service, b.secret), false);
    assert.equal(await credentialStore.delete(db, a.tenantId, a.service, b.secret), false);
    assert.ok(await credentialStore.get(db, b.tenantId, b.service, b.secret));
  },
  async touch({ db, a, b }) {
    await credentialStore.touch(db, a.tenantId, b.secret, NOW);
  },
};

const resourceChecks: Checks<typeof resourceStore> = {
  async insert({ db, a }) {
    await resourceStore.insert(db, resource(a.tenantId));
  },
  async get({ db, a, b }) {
    assert.equal(await resourceStore.get(db, a.tenantId, b.resource), undefined);
  },
  async byIdentifier({ db, a, b }) {
    // Both tenants hold IDENTIFIER; asking both shows the answer does not depend on row order.
    assert.equal((await resourceStore.byIdentifier(db, a.tenantId, IDENTIFIER))?.id, a.resource);
    assert.equal((await resourceStore.byIdentifier(db, b.tenantId, IDENTIFIER))?.id, b.resource);
  },
  async list({ db, a, noneOfB }) {
    const ids = await walk(1, (page) => resourceStore.list(db, a.tenantId, page));
    assert.ok(ids.includes(a.resource));
    noneOfB(ids);
    noneOfB((await resourceStore.list(db, a.tenantId, { limit: 50 })).items);
  },
  async update({ db, a, b }) {
    const bResource = await resourceStore.get(db, b.tenantId, b.resource);
    assert.ok(bResource);
    await resourceStore.update(db, { ...bResource, tenantId: a.tenantId, displayName: 'hijacked', roles: [], updatedAt: NOW });
  },
  async delete({ db, a, b }) {
    await resourceStore.delete(db, a.tenantId, b.resource);
  },
};

const grantChecks: Checks<typeof grantStore> = {
  async insert({ db, a }) {
    await grantStore.insert(db, grant(a.tenantId, a.agent, a.resource, ROLE));
  },
  async get({ db, a, b }) {
    assert.equal(await grantStore.get(db, a.tenantId, b.grant), undefined);
  },
  async list({ db, a, b, noneOfB }) {
    const ids = await walk(1, (page) => grantStore.list(db, a.tenantId, {}, page));
    assert.ok(ids.includes(a.grant));
    noneOfB(ids);
    noneOfB((await grantStore.list(db, a.tenantId, {}, { limit: 50 })).items);
    assert.deepEqual(await grantStore.list(db, a.tenantId, { principalId: b.service }, { limit: 50 }), { items: [], nextCursor: null });
    assert.deepEqual(await grantStore.list(db, a.tenantId, { resourceId: b.resource }, { limit: 50 }), { items: [], nextCursor: null });
  },
  async roles({ db, a, b }) {
    assert.deepEqual(await grantStore.roles(db, a.tenantId, b.service, b.resource), []);
    assert.deepEqual(await grantStore.roles(db, a.tenantId, a.service, a.resource), [ROLE]);
  },
  async countForRole({ db, a, b }) {
    assert.equal(await grantStore.countForRole(db, a.tenantId, b.resource, ROLE), 0);
  },
  async delete({ db, a, b }) {
    await grantStore.delete(db, a.tenantId, b.grant);
  },
  async deleteForResource({ db, a, b }) {
    assert.deepEqual(await grantStore.deleteForResource(db, a.tenantId, b.resource), []);
  },
};

const signingKeyChecks: Checks<typeof signingKeyStore> = {
  async insert({ db, a }) {
    await signingKeyStore.insert(db, signingKey(a.tenantId, { status: 'next', activatedAt: null }));
  },
  async listLive({ db, a, noneOfB }) {
    const live = await signingKeyStore.listLive(db, a.tenantId, NOW);
    assert.ok(live.some((k) => k.id === a.liveKey));
    noneOfB(live);
    noneOfB(await signingKeyStore.listLive(db, a.tenantId, 0));
  },
  async setStatus({ db, a, b }) {
    await signingKeyStore.setStatus(db, a.tenantId, b.liveKey, { status: 'retired', activatedAt: T0, retiredAt: NOW, expiresAt: NOW });
  },
  async deleteExpired({ db, a }) {
    assert.equal(await signingKeyStore.deleteExpired(db, a.tenantId, NOW), 1, "only A's expired key");
  },
};

const auditChecks: Checks<typeof auditStore> = {
  async list({ db, a, noneOfB }) {
    const events = await auditStore.list(db, a.tenantId, 100);
    assert.ok(events.length > 0);
    noneOfB(events);
  },
};

/** A consent of `w`'s user for `w`'s service on the shared resource identifier. */
function consentOf(w: World, over: Partial<Consent> = {}): Consent {
  return { id: newId(), tenantId: w.tenantId, userId: w.user, clientId: w.service, resource: IDENTIFIER, scopes: ['orders.read'], grantedBy: w.user, createdAt: T0, updatedAt: T0, expiresAt: NOW + 86_400_000, ...over };
}

/** Sign-in records seeded in both tenants before the checks run (the snapshot covers their tables). */
const seeded: { aConsent?: Consent; bConsent?: Consent } = {};
const bConsent = (): Consent => {
  if (!seeded.bConsent) throw new Error('not seeded');
  return seeded.bConsent;
};

async function seedSignIn(db: Db, a: World, b: World): Promise<void> {
  for (const w of [a, b]) {
    await oauthClientStore.put(db, { tenantId: w.tenantId, principalId: w.service, clientType: 'confidential', redirectUris: ['https://app.example/cb'], postLogoutRedirectUris: [], requiredScopes: [], createdAt: T0, updatedAt: T0 });
    const consent = consentOf(w);
    await consentStore.insert(db, consent);
    await consentStore.insert(db, consentOf(w, { userId: null }));
    if (w === a) seeded.aConsent = consent;
    else seeded.bConsent = consent;
  }
}

const consentChecks: Checks<typeof consentStore> = {
  async insert({ db, a }) {
    const own = consentOf(a, { resource: 'api://another' });
    await consentStore.insert(db, own);
    assert.deepEqual(await consentStore.get(db, a.tenantId, own.id), own);
  },
  async update({ db, a }) {
    await consentStore.update(db, { ...bConsent(), tenantId: a.tenantId, scopes: ['hijacked'], updatedAt: NOW });
  },
  async get({ db, a }) {
    assert.equal(await consentStore.get(db, a.tenantId, bConsent().id), undefined);
    assert.ok(await consentStore.get(db, a.tenantId, seeded.aConsent?.id ?? ''));
  },
  async find({ db, a, b }) {
    assert.equal(await consentStore.find(db, a.tenantId, b.user, b.service, IDENTIFIER), undefined);
    assert.equal(await consentStore.find(db, a.tenantId, null, b.service, IDENTIFIER), undefined);
  },
  async live({ db, a, b, noneOfB }) {
    assert.deepEqual(await consentStore.live(db, a.tenantId, b.user, b.service, NOW), []);
    const own = await consentStore.live(db, a.tenantId, a.user, a.service, NOW);
    assert.ok(own.length >= 2);
    noneOfB(own);
  },
  async list({ db, a, noneOfB }) {
    for (const filter of [{}, { allUsers: true }, { userId: a.user }, { clientId: a.service }]) {
      const ids = await walk(1, (page) => consentStore.list(db, a.tenantId, filter, page));
      assert.ok(ids.length > 0);
      noneOfB(ids);
    }
  },
  async delete({ db, a }) {
    await consentStore.delete(db, a.tenantId, bConsent().id);
  },
};

const oauthClientChecks: Checks<typeof oauthClientStore> = {
  async put({ db, a, b }) {
    await oauthClientStore.put(db, { tenantId: a.tenantId, principalId: b.service, clientType: 'public', redirectUris: ['https://evil.example/'], postLogoutRedirectUris: [], requiredScopes: [], createdAt: T0, updatedAt: NOW }).catch(() => undefined);
    await oauthClientStore.put(db, { tenantId: a.tenantId, principalId: a.service, clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], postLogoutRedirectUris: [], requiredScopes: [], createdAt: T0, updatedAt: NOW });
  },
  async get({ db, a, b }) {
    assert.equal(await oauthClientStore.get(db, a.tenantId, b.service), undefined);
    assert.ok(await oauthClientStore.get(db, a.tenantId, a.service));
  },
  async delete({ db, a, b }) {
    assert.equal(await oauthClientStore.delete(db, a.tenantId, b.service), false);
  },
};

/** Every tenant-scoped store, by the name it is exported under. */
const stores: Record<string, { store: object; checks: Record<string, Check> }> = {
  principalStore: { store: principalStore, checks: principalChecks },
  credentialStore: { store: credentialStore, checks: credentialChecks },
  resourceStore: { store: resourceStore, checks: resourceChecks },
  grantStore: { store: grantStore, checks: grantChecks },
  signingKeyStore: { store: signingKeyStore, checks: signingKeyChecks },
  auditStore: { store: auditStore, checks: auditChecks },
  consentStore: { store: consentStore, checks: consentChecks },
  oauthClientStore: { store: oauthClientStore, checks: oauthClientChecks },
};
/** Stores not keyed by tenant. */
// auditChainStore is keyed by chain id; each chain belongs to one tenant and every event row carries it.
const UNSCOPED = new Set(['tenantStore', 'auditChainStore']);

describe('tenant isolation coverage', () => {
  it('every src/*/store.ts export is a covered tenant-scoped store or known to be unscoped', async () => {
    const src = new URL('../../src/', import.meta.url);
    const exported: string[] = [];
    for (const dir of readdirSync(src, { withFileTypes: true })) {
      if (!dir.isDirectory() || !existsSync(new URL(`${dir.name}/store.ts`, src))) continue;
      const mod = (await import(new URL(`${dir.name}/store.ts`, src).href)) as Record<string, unknown>;
      exported.push(...Object.keys(mod).filter((name) => name.endsWith('Store')));
    }
    assert.deepEqual(exported.filter((name) => !UNSCOPED.has(name)).sort(), Object.keys(stores).sort());
  });

  for (const [name, { store, checks }] of Object.entries(stores)) {
    it(`every ${name} method has an isolation check`, () => {
      assert.deepEqual(Object.keys(store).sort(), Object.keys(checks).sort());
    });
  }
});

describeEachBackend('storage contract: tenant isolation', (conn) => {
  let ctx: Ctx;
  before(async () => {
    const { db } = conn();
    const a = await createWorld(db);
    const b = await createWorld(db);
    await seedSignIn(db, a, b);
    const bIds = [b.tenantId, ...Object.values(b)];
    ctx = {
      db,
      a,
      b,
      noneOfB(value) {
        const text = JSON.stringify(value);
        for (const id of bIds) assert.ok(!text.includes(id), `tenant A's call returned tenant B's ${id}`);
      },
    };
  });

  for (const [name, { checks }] of Object.entries(stores)) {
    describe(`${name} called with tenant A`, () => {
      for (const [method, check] of Object.entries(checks)) {
        it(`${method} never reads, changes or deletes tenant B's records`, async () => {
          const bBefore = await snapshot(ctx.db, ctx.b.tenantId);
          await check(ctx);
          assert.deepEqual(await snapshot(ctx.db, ctx.b.tenantId), bBefore);
        });
      }
    });
  }

  // Foreign keys are composite (tenant_id, id): the database itself refuses a row of tenant A that
  // points at a record of tenant B, whatever a service forgets to check.
  it('rejects rows of tenant A that reference tenant B’s records', async () => {
    const { db, a, b } = ctx;
    const bBefore = await snapshot(db, b.tenantId);
    await assert.rejects(credentialStore.insert(db, credential(a.tenantId, b.service)));
    await assert.rejects(grantStore.insert(db, grant(a.tenantId, b.service, a.resource, ROLE)));
    await assert.rejects(grantStore.insert(db, grant(a.tenantId, a.service, b.resource, ROLE)));
    await assert.rejects(principalStore.replaceSponsors(db, a.tenantId, a.agent, [b.user], NOW));
    await assert.rejects(principalStore.replaceSponsors(db, a.tenantId, b.agent, [a.user], NOW));
    assert.deepEqual(await snapshot(db, b.tenantId), bBefore);
  });
});
