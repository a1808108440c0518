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
import type { Db, DbKind } from '../../src/db/connect.js';
import { grantStore } from '../../src/grants/store.js';
import { principalStore } from '../../src/principals/store.js';
import { resourceStore } from '../../src/resources/store.js';
import { signingKeyStore } from '../../src/signing-keys/store.js';
import { managedKeyStore } from '../../src/managed-keys/store.js';
import type { ManagedKey } from '../../src/managed-keys/model.js';
import { nodeStore } from '../../src/nodes/store.js';
import { blueprintStore } from '../../src/blueprints/store.js';
import type { Blueprint } from '../../src/blueprints/model.js';
import { ssfStore } from '../../src/ssf/store.js';
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
  managed: string;
  managedKey: string;
  node: string;
  nodeKey: string;
  joinDigest: string;
  blueprint: string;
  blueprintName: string;
  blueprintAgent: string;
  blueprintCredential: string;
  receiver: string;
}

function blueprint(tenantId: string, over: Partial<Blueprint> = {}): Blueprint {
  return {
    id: newId(),
    tenantId,
    name: 'triage',
    description: null,
    permissions: [],
    accessTokenLifetimeSeconds: 300,
    maxDelegationDepth: 1,
    allowAppRoles: false,
    allowDelegation: true,
    requireDpop: true,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

const IDENTIFIER = 'api://orders';
const ROLE = 'orders.read';
const NOW = T0 + 60_000;
/** Both tenants trust the same external issuer and audience. */
const FEDERATED_ISSUER = 'https://token.actions.githubusercontent.com';
const FEDERATED_AUDIENCE = 'api://signet';

async function createWorld(db: Db, kind: DbKind): Promise<World> {
  const tenantId = await newTenant(db);
  const user = principal(tenantId, { kind: 'user', displayName: 'Ada' });
  const agent = principal(tenantId, { kind: 'agent', displayName: 'Triage', sponsors: [user.id] });
  const service = principal(tenantId, { kind: 'service', displayName: 'Orders worker' });
  const deleted = principal(tenantId, { kind: 'service', status: 'deleted', deletedAt: T0 });
  for (const p of [user, agent, service, deleted]) await principalStore.insert(db, p);
  const secret = credential(tenantId, service.id);
  const key = credential(tenantId, agent.id, { type: 'key', secretDigest: null, publicJwk: { kty: 'EC' }, thumbprint: 'tp' });
  const federated = credential(tenantId, service.id, {
    type: 'federated',
    secretDigest: null,
    expiresAt: NOW + 1000,
    federation: { issuer: FEDERATED_ISSUER, audience: FEDERATED_AUDIENCE, subject: 'repo:acme/api:ref:refs/heads/main', claims: null, jwks: null },
  });
  for (const c of [secret, key, federated]) await credentialStore.insert(db, c);
  const r = resource(tenantId, { identifier: IDENTIFIER });
  await resourceStore.insert(db, r);
  const g = grant(tenantId, service.id, r.id, ROLE);
  await grantStore.insert(db, g);
  const liveKey = signingKey(tenantId);
  const expiredKey = signingKey(tenantId, { status: 'retired', retiredAt: T0, expiresAt: T0 + 1 });
  for (const k of [liveKey, expiredKey]) await signingKeyStore.insert(db, k);
  await db.insertInto('used_jtis').values({ tenant_id: tenantId, client_id: service.id, jti: 'jti-1', expires_at: NOW }).execute();
  const managed = principal(tenantId, { kind: 'managed', displayName: 'Orders node identity' });
  await principalStore.insert(db, managed);
  const mk = managedKey(tenantId, managed.id, 1);
  await managedKeyStore.insert(db, mk);
  const nodeId = newId();
  await nodeStore.insertNode(db, { id: nodeId, tenantId, name: 'web-01', status: 'active', createdAt: T0, updatedAt: T0, lastSeenAt: null });
  const nodeKeyId = `nk-${nodeId}`;
  await nodeStore.insertKey(db, { id: nodeKeyId, tenantId, nodeId, publicJwk: { kty: 'EC' }, createdAt: T0, expiresAt: NOW + 3_600_000 });
  await nodeStore.assign(db, tenantId, nodeId, managed.id, T0);
  const joinDigest = `digest-${nodeId}`;
  await nodeStore.insertJoinToken(db, { id: newId(), tenantId, name: null, digest: joinDigest, createdAt: T0, expiresAt: NOW + 3_600_000, usedAt: null, nodeId: null });
  const bp = blueprint(tenantId, { permissions: [{ resourceId: r.id, roles: [], scopes: ['orders.view'] }] });
  await blueprintStore.insert(db, bp);
  const bpAgent = principal(tenantId, { kind: 'agent', displayName: 'From blueprint', sponsors: [user.id], blueprintId: bp.id });
  await principalStore.insert(db, bpAgent);
  const bpCredential = credential(tenantId, bp.id, { blueprintId: bp.id });
  await blueprintStore.insertCredential(db, bpCredential);
  const receiver = { id: newId(), tenantId, endpointUrl: 'https://rs.example/events', audience: 'https://rs.example', authorization: null, description: null, createdAt: T0 };
  await ssfStore.insertReceiver(db, receiver);
  await ssfStore.enqueue(db, [{ id: newId(), tenantId, receiverId: receiver.id, signal: { type: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked', subject: { format: 'iss_sub', iss: 'https://signet.example/t', sub: bpAgent.id }, event: {} }, now: T0 }]);
  await auditWriter(db, kind).recordInTransaction(db, [
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
    managed: managed.id,
    managedKey: mk.id,
    node: nodeId,
    nodeKey: nodeKeyId,
    joinDigest,
    blueprint: bp.id,
    blueprintName: bp.name,
    blueprintAgent: bpAgent.id,
    blueprintCredential: bpCredential.id,
    receiver: receiver.id,
  };
}

function managedKey(tenantId: string, principalId: string, generation: number, over: Partial<ManagedKey> = {}): ManagedKey {
  return { id: `mk-${newId()}`, tenantId, principalId, generation, alg: 'ES256', publicJwk: { kty: 'EC' }, sealedPrivateKey: 'v1.sealed', createdAt: T0, expiresAt: NOW + 3_600_000, ...over };
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
    managed_keys: await db.selectFrom('managed_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    nodes: await db.selectFrom('nodes').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    node_keys: await db.selectFrom('node_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    node_join_tokens: await db.selectFrom('node_join_tokens').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    node_assignments: await db.selectFrom('node_assignments').selectAll().where('tenant_id', '=', tenantId).orderBy('node_id').orderBy('principal_id').execute(),
    blueprints: await db.selectFrom('blueprints').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    blueprint_credentials: await db.selectFrom('blueprint_credentials').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    ssf_receivers: await db.selectFrom('ssf_receivers').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    ssf_outbox: await db.selectFrom('ssf_outbox').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
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
  async federatedFor({ db, a, b, noneOfB }) {
    const own = await credentialStore.federatedFor(db, a.tenantId, FEDERATED_ISSUER, FEDERATED_AUDIENCE);
    assert.equal(own.length, 1);
    noneOfB(own);
    assert.deepEqual(await credentialStore.federatedFor(db, a.tenantId, FEDERATED_ISSUER, FEDERATED_AUDIENCE, b.service), []);
  },
  async expiringBefore({ db, a, noneOfB }) {
    const ids = await walk(1, (page) => credentialStore.expiringBefore(db, a.tenantId, NOW + 10_000, page));
    assert.ok(ids.length > 0);
    noneOfB(ids);
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

const managedKeyChecks: Checks<typeof managedKeyStore> = {
  async insert({ db, a }) {
    await managedKeyStore.insert(db, managedKey(a.tenantId, a.managed, 2));
  },
  async live({ db, a, b, noneOfB }) {
    assert.deepEqual(await managedKeyStore.live(db, a.tenantId, b.managed, NOW), []);
    const own = await managedKeyStore.live(db, a.tenantId, a.managed, NOW);
    assert.ok(own.some((k) => k.id === a.managedKey));
    noneOfB(own);
  },
  async lastGeneration({ db, a, b }) {
    assert.equal(await managedKeyStore.lastGeneration(db, a.tenantId, b.managed), 0);
  },
  // Maintenance works across tenants by design (one query for every due identity); it only reads.
  async due({ db, a }) {
    const due = await managedKeyStore.due(db, NOW + 3_600_000, NOW, 1000);
    assert.ok(due.some((d) => d.tenantId === a.tenantId && d.principalId === a.managed));
    assert.ok(due.every((d) => d.principalId !== a.service), 'only kinds with a platform-held key');
  },
  async deleteExpired({ db, a }) {
    await managedKeyStore.insert(db, managedKey(a.tenantId, a.managed, 99, { expiresAt: T0 + 1 }));
    assert.equal(await managedKeyStore.deleteExpired(db, NOW), 1, "only A's expired key");
  },
  async deleteForPrincipal({ db, a, b }) {
    assert.equal(await managedKeyStore.deleteForPrincipal(db, a.tenantId, b.managed), 0);
  },
};

const nodeChecks: Checks<typeof nodeStore> = {
  async insertJoinToken({ db, a }) {
    await nodeStore.insertJoinToken(db, { id: newId(), tenantId: a.tenantId, name: 'x', digest: `d-${newId()}`, createdAt: T0, expiresAt: NOW, usedAt: null, nodeId: null });
  },
  async joinTokenByDigest({ db, a, b }) {
    assert.equal(await nodeStore.joinTokenByDigest(db, a.tenantId, b.joinDigest), undefined);
    assert.ok(await nodeStore.joinTokenByDigest(db, a.tenantId, a.joinDigest));
  },
  async consumeJoinToken({ db, a, b }) {
    assert.equal(await nodeStore.consumeJoinToken(db, a.tenantId, b.joinDigest, newId(), NOW), false);
  },
  async insertNode({ db, a }) {
    await nodeStore.insertNode(db, { id: newId(), tenantId: a.tenantId, name: 'web-02', status: 'active', createdAt: T0, updatedAt: T0, lastSeenAt: null });
  },
  async get({ db, a, b }) {
    assert.equal(await nodeStore.get(db, a.tenantId, b.node), undefined);
  },
  async list({ db, a, noneOfB }) {
    const ids = await walk(1, (page) => nodeStore.list(db, a.tenantId, page));
    assert.ok(ids.includes(a.node));
    noneOfB(ids);
  },
  async setStatus({ db, a, b }) {
    await nodeStore.setStatus(db, a.tenantId, b.node, 'disabled', NOW);
  },
  async touch({ db, a, b }) {
    await nodeStore.touch(db, a.tenantId, b.node, NOW);
  },
  async insertKey({ db, a }) {
    await nodeStore.insertKey(db, { id: `nk-${newId()}`, tenantId: a.tenantId, nodeId: a.node, publicJwk: { kty: 'EC' }, createdAt: T0, expiresAt: NOW + 1000 });
  },
  async key({ db, a, b }) {
    assert.equal(await nodeStore.key(db, a.tenantId, b.nodeKey), undefined);
  },
  async liveKeys({ db, a, b, noneOfB }) {
    assert.deepEqual(await nodeStore.liveKeys(db, a.tenantId, b.node, NOW), []);
    noneOfB(await nodeStore.liveKeys(db, a.tenantId, a.node, NOW));
  },
  async shortenKey({ db, a, b }) {
    await nodeStore.shortenKey(db, a.tenantId, b.nodeKey, NOW);
  },
  async deleteKeys({ db, a, b }) {
    await nodeStore.deleteKeys(db, a.tenantId, b.node);
  },
  // Maintenance-wide by design, like managed keys; B's keys are all unexpired at NOW.
  async deleteExpiredKeys({ db, a }) {
    await nodeStore.insertKey(db, { id: `nk-${newId()}`, tenantId: a.tenantId, nodeId: a.node, publicJwk: { kty: 'EC' }, createdAt: T0, expiresAt: T0 + 1 });
    assert.equal(await nodeStore.deleteExpiredKeys(db, NOW), 1);
  },
  async assign({ db, a, b }) {
    await assert.rejects(nodeStore.assign(db, a.tenantId, a.node, b.managed, NOW), 'composite foreign key');
  },
  async unassign({ db, a, b }) {
    assert.equal(await nodeStore.unassign(db, a.tenantId, b.node, b.managed), false);
  },
  async isAssigned({ db, a, b }) {
    assert.equal(await nodeStore.isAssigned(db, a.tenantId, b.node, b.managed), false);
    assert.equal(await nodeStore.isAssigned(db, a.tenantId, a.node, a.managed), true);
  },
  async assigned({ db, a, b, noneOfB }) {
    assert.deepEqual(await nodeStore.assigned(db, a.tenantId, b.node), []);
    noneOfB(await nodeStore.assigned(db, a.tenantId, a.node));
  },
  async unassignAll({ db, a, b }) {
    await nodeStore.unassignAll(db, a.tenantId, 'node_id', b.node);
    await nodeStore.unassignAll(db, a.tenantId, 'principal_id', b.managed);
  },
};

const blueprintChecks: Checks<typeof blueprintStore> = {
  async insert({ db, a }) {
    const twin = blueprint(a.tenantId, { name: 'twin' });
    await blueprintStore.insert(db, twin);
    assert.deepEqual(await blueprintStore.get(db, a.tenantId, twin.id), twin);
  },
  async get({ db, a, b }) {
    assert.equal(await blueprintStore.get(db, a.tenantId, b.blueprint), undefined);
  },
  async byName({ db, a, b }) {
    // Both tenants have a blueprint of the same name: each sees only its own.
    assert.equal((await blueprintStore.byName(db, a.tenantId, b.blueprintName))?.id, a.blueprint);
  },
  async list({ db, a, noneOfB }) {
    const ids = await walk(1, (page) => blueprintStore.list(db, a.tenantId, page));
    assert.ok(ids.includes(a.blueprint));
    noneOfB(ids);
  },
  async update({ db, a, b }) {
    const bBlueprint = await blueprintStore.get(db, b.tenantId, b.blueprint);
    assert.ok(bBlueprint);
    await blueprintStore.update(db, { ...bBlueprint, tenantId: a.tenantId, permissions: [], updatedAt: NOW });
  },
  async delete({ db, a, b }) {
    await blueprintStore.delete(db, a.tenantId, b.blueprint);
  },
  async countLiveAgents({ db, a, b }) {
    assert.equal(await blueprintStore.countLiveAgents(db, a.tenantId, b.blueprint), 0);
    assert.equal(await blueprintStore.countLiveAgents(db, a.tenantId, a.blueprint), 1);
  },
  async liveAgentIds({ db, a, b }) {
    assert.deepEqual(await blueprintStore.liveAgentIds(db, a.tenantId, b.blueprint), []);
    assert.deepEqual(await blueprintStore.liveAgentIds(db, a.tenantId, a.blueprint), [a.blueprintAgent]);
  },
  async insertCredential({ db, a }) {
    await blueprintStore.insertCredential(db, credential(a.tenantId, a.blueprint, { blueprintId: a.blueprint }));
  },
  async credentials({ db, a, b, noneOfB }) {
    assert.deepEqual(await blueprintStore.credentials(db, a.tenantId, b.blueprint), []);
    noneOfB(await blueprintStore.credentials(db, a.tenantId, a.blueprint));
  },
  async getCredential({ db, a, b }) {
    assert.equal(await blueprintStore.getCredential(db, a.tenantId, b.blueprint, b.blueprintCredential), undefined);
    assert.equal(await blueprintStore.getCredential(db, a.tenantId, a.blueprint, b.blueprintCredential), undefined);
  },
  async deleteCredential({ db, a, b }) {
    await blueprintStore.deleteCredential(db, a.tenantId, b.blueprint, b.blueprintCredential);
  },
  async touchCredential({ db, a, b }) {
    await blueprintStore.touchCredential(db, a.tenantId, b.blueprintCredential, NOW);
  },
};

const ssfChecks: Checks<typeof ssfStore> = {
  async insertReceiver({ db, a }) {
    await ssfStore.insertReceiver(db, { id: newId(), tenantId: a.tenantId, endpointUrl: 'https://x.example', audience: 'x', authorization: null, description: null, createdAt: NOW });
  },
  async receiver({ db, a, b }) {
    assert.equal(await ssfStore.receiver(db, a.tenantId, b.receiver), undefined);
  },
  async receivers({ db, a, noneOfB }) {
    const list = await ssfStore.receivers(db, a.tenantId);
    assert.ok(list.some((r) => r.id === a.receiver));
    noneOfB(list);
  },
  async deleteReceiver({ db, a, b }) {
    await ssfStore.deleteReceiver(db, a.tenantId, b.receiver);
  },
  async pending({ db, a, b }) {
    assert.equal(await ssfStore.pending(db, a.tenantId, b.receiver), 0);
    assert.equal(await ssfStore.pending(db, a.tenantId, a.receiver), 1);
  },
  async enqueue({ db, a }) {
    await ssfStore.enqueue(db, [{ id: newId(), tenantId: a.tenantId, receiverId: a.receiver, signal: { type: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked', subject: { format: 'iss_sub', iss: 'i', sub: a.agent }, event: {} }, now: NOW }]);
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
    await oauthClientStore.put(db, { tenantId: w.tenantId, principalId: w.service, clientType: 'confidential', redirectUris: ['https://app.example/cb'], postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: false, createdAt: T0, updatedAt: T0 });
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
    await oauthClientStore.put(db, { tenantId: a.tenantId, principalId: b.service, clientType: 'public', redirectUris: ['https://evil.example/'], postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: false, createdAt: T0, updatedAt: NOW }).catch(() => undefined);
    await oauthClientStore.put(db, { tenantId: a.tenantId, principalId: a.service, clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: false, createdAt: T0, updatedAt: NOW });
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
  managedKeyStore: { store: managedKeyStore, checks: managedKeyChecks },
  nodeStore: { store: nodeStore, checks: nodeChecks },
  blueprintStore: { store: blueprintStore, checks: blueprintChecks },
  ssfStore: { store: ssfStore, checks: ssfChecks },
  consentStore: { store: consentStore, checks: consentChecks },
  oauthClientStore: { store: oauthClientStore, checks: oauthClientChecks },
};
/** Stores not keyed by tenant. */
// auditChainStore is keyed by chain id; each chain belongs to one tenant and every event row carries it.
// outboxStore is the delivery worker's view of every tenant's outbox, addressed by entry id; each row
// carries its tenant and receivers are read through the tenant-scoped ssfStore.
const UNSCOPED = new Set(['tenantStore', 'auditChainStore', 'outboxStore']);

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
    const { db, kind } = conn();
    const a = await createWorld(db, kind);
    const b = await createWorld(db, kind);
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
