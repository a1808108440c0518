import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialStore } from '../../src/credentials/store.js';
import { newId } from '../../src/crypto/ids.js';
import type { Credential } from '../../src/credentials/model.js';
import { isUniqueViolation } from '../../src/db/connect.js';
import { principalStore } from '../../src/principals/store.js';
import { tenantStore } from '../../src/tenants/store.js';
import { DEFAULT_TENANT_SETTINGS } from '../../src/tenants/model.js';
import { describeEachBackend } from './backends.js';
import { T0, credential, newTenant, principal, rejection, sorted, tenant, walk } from './fixtures.js';

// The storage contract, part 1: the directory (tenants, principals, credentials).
// Resources, grants, keys, replay cache and audit are in stores-access.test.ts.
describeEachBackend('storage contract: directory', (conn) => {
  describe('tenantStore', () => {
    it('round-trips every field, settings JSON and a null display name exactly', async () => {
      const { db } = conn();
      const custom = tenant({
        displayName: null,
        status: 'disabled',
        settings: { ...DEFAULT_TENANT_SETTINGS, accessTokenTtlSeconds: 600, allowSecrets: false, secretDefaultLifetimeDays: 30, secretMaxLifetimeDays: 60, auditRetentionDays: 400, consentLifetimeDays: 7 },
        createdAt: T0,
        updatedAt: T0 + 1,
      });
      await tenantStore.insert(db, custom);
      assert.deepEqual(await tenantStore.byId(db, custom.id), custom);
      assert.deepEqual(await tenantStore.byName(db, custom.name), custom);
      assert.equal(await tenantStore.byId(db, tenant().id), undefined);
      assert.equal(await tenantStore.byName(db, 'no-such-tenant'), undefined);
    });

    it('reads settings keys missing from the stored JSON as their defaults', async () => {
      const { db } = conn();
      const t = tenant();
      await tenantStore.insert(db, t);
      await db.updateTable('tenants').set({ settings: '{"allowSecrets":false}' }).where('id', '=', t.id).execute();
      assert.deepEqual((await tenantStore.byId(db, t.id))?.settings, { ...DEFAULT_TENANT_SETTINGS, allowSecrets: false });
    });

    it('update writes display name, status, settings and updatedAt; name and createdAt never change', async () => {
      const { db } = conn();
      const t = tenant();
      await tenantStore.insert(db, t);
      const changed = { ...t, displayName: 'Renamed', status: 'disabled' as const, settings: { ...t.settings, accessTokenTtlSeconds: 120 }, updatedAt: T0 + 5 };
      await tenantStore.update(db, { ...changed, name: 'other-name', createdAt: 1 });
      assert.deepEqual(await tenantStore.byId(db, t.id), changed);
    });

    it('list walks every tenant exactly once, in id order', async () => {
      const { db } = conn();
      for (let i = 0; i < 5; i++) await tenantStore.insert(db, tenant());
      const all = (await db.selectFrom('tenants').select('id').execute()).map((r) => r.id);
      assert.deepEqual(await walk(2, (page) => tenantStore.list(db, page)), sorted(all));
      assert.deepEqual(await walk(all.length, (page) => tenantStore.list(db, page)), sorted(all));
    });

    it('a duplicate name is a unique violation', async () => {
      const { db } = conn();
      const t = tenant();
      await tenantStore.insert(db, t);
      const error = await rejection(() => tenantStore.insert(db, tenant({ name: t.name })));
      assert.equal(isUniqueViolation(error), true);
    });
  });

  describe('principalStore', () => {
    it('round-trips every field, with sponsors in id order', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const [s1, s2] = [principal(tid, { kind: 'user' }), principal(tid, { kind: 'user' })];
      await principalStore.insert(db, s2);
      await principalStore.insert(db, s1);
      const agent = principal(tid, {
        kind: 'agent',
        displayName: 'Triage agent',
        description: 'Reads tickets',
        sponsors: [s2.id, s1.id],
        createdAt: T0,
        updatedAt: T0 + 1,
      });
      await principalStore.insert(db, agent);
      assert.deepEqual(await principalStore.get(db, tid, agent.id), { ...agent, sponsors: sorted([s1.id, s2.id]) });
      assert.deepEqual(await principalStore.get(db, tid, s1.id), s1);
      assert.equal(await principalStore.get(db, tid, principal(tid).id), undefined);
    });

    it('update writes the mutable fields; kind and createdAt never change', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const p = principal(tid, { description: 'before' });
      await principalStore.insert(db, p);
      const deleted = { ...p, displayName: 'Gone', description: null, status: 'deleted' as const, updatedAt: T0 + 9, deletedAt: T0 + 9 };
      await principalStore.update(db, { ...deleted, kind: 'user', createdAt: 1 });
      assert.deepEqual(await principalStore.get(db, tid, p.id), deleted);
    });

    it('replaceSponsors replaces the whole set and sponsoredBy follows it', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const [u1, u2, u3] = [principal(tid, { kind: 'user' }), principal(tid, { kind: 'user' }), principal(tid, { kind: 'user' })];
      for (const u of [u1, u2, u3]) await principalStore.insert(db, u);
      const agent = principal(tid, { kind: 'agent', sponsors: [u1.id, u2.id] });
      await principalStore.insert(db, agent);
      assert.deepEqual(await principalStore.sponsoredBy(db, tid, u1.id), [agent.id]);

      await principalStore.replaceSponsors(db, tid, agent.id, [u3.id, u2.id], T0 + 1);
      assert.deepEqual((await principalStore.get(db, tid, agent.id))?.sponsors, sorted([u2.id, u3.id]));
      assert.deepEqual(await principalStore.sponsoredBy(db, tid, u1.id), []);
      assert.deepEqual(await principalStore.sponsoredBy(db, tid, u3.id), [agent.id]);

      await principalStore.replaceSponsors(db, tid, agent.id, [], T0 + 2);
      assert.deepEqual((await principalStore.get(db, tid, agent.id))?.sponsors, []);
      assert.deepEqual(await principalStore.sponsoredBy(db, tid, u2.id), []);
    });

    it('list filters by kind and status and hides deleted principals unless asked for', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const user = principal(tid, { kind: 'user' });
      const service = principal(tid, { kind: 'service' });
      const disabled = principal(tid, { kind: 'service', status: 'disabled' });
      const deleted = principal(tid, { kind: 'service', status: 'deleted', deletedAt: T0 });
      const agent = principal(tid, { kind: 'agent', sponsors: [user.id] });
      for (const p of [user, service, disabled, deleted, agent]) await principalStore.insert(db, p);
      const list = async (filter: Parameters<typeof principalStore.list>[2]) => (await principalStore.list(db, tid, filter, { limit: 50 })).items;

      assert.deepEqual(await list({}), [user, service, disabled, agent]);
      assert.deepEqual(await list({ kind: 'service' }), [service, disabled]);
      assert.deepEqual(await list({ status: 'disabled' }), [disabled]);
      assert.deepEqual(await list({ status: 'deleted' }), [deleted]);
      assert.deepEqual(await list({ kind: 'service', status: 'active' }), [service]);
      assert.deepEqual(await list({ kind: 'managed' }), []);
    });

    it('list walks every row exactly once, in id order, with each page carrying its sponsors', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const user = principal(tid, { kind: 'user' });
      await principalStore.insert(db, user);
      const agents = [];
      for (let i = 0; i < 7; i++) agents.push(principal(tid, { kind: 'agent', displayName: `agent ${i}`, sponsors: [user.id] }));
      for (const a of agents) await principalStore.insert(db, a);
      await principalStore.insert(db, principal(tid, { kind: 'agent', status: 'deleted', deletedAt: T0 }));

      for (const limit of [1, 3, 7, 8]) {
        assert.deepEqual(await walk(limit, (page) => principalStore.list(db, tid, { kind: 'agent' }, page)), agents.map((a) => a.id));
      }
      const page = await principalStore.list(db, tid, { kind: 'agent' }, { limit: 3 });
      assert.deepEqual(page.items, agents.slice(0, 3));
    });
  });

  describe('credentialStore', () => {
    it('round-trips secret and key credentials exactly, JWK JSON included', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const p = principal(tid);
      await principalStore.insert(db, p);
      const secret = credential(tid, p.id, { description: 'ci', expiresAt: T0 + 86_400_000, lastUsedAt: T0 + 1 });
      const key = credential(tid, p.id, {
        type: 'key',
        secretDigest: null,
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', key_ops: ['verify'] },
        thumbprint: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
        certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      });
      await credentialStore.insert(db, secret);
      await credentialStore.insert(db, key);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, secret.id), secret);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, key.id), key);
    });

    it('get and delete need the owning principal', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const [p, other] = [principal(tid), principal(tid)];
      await principalStore.insert(db, p);
      await principalStore.insert(db, other);
      const c = credential(tid, p.id);
      await credentialStore.insert(db, c);
      assert.equal(await credentialStore.get(db, tid, other.id, c.id), undefined);
      assert.equal(await credentialStore.delete(db, tid, other.id, c.id), false);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, c.id), c);
    });

    it('round-trips a federated credential (subject or claims, configured JWKS) exactly', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const p = principal(tid);
      await principalStore.insert(db, p);
      const bySubject = credential(tid, p.id, {
        type: 'federated',
        secretDigest: null,
        federation: { issuer: 'https://token.actions.githubusercontent.com', audience: 'api://signet', subject: 'repo:acme/api:environment:prod', claims: null, jwks: null },
      });
      const byClaims = credential(tid, p.id, {
        type: 'federated',
        secretDigest: null,
        expiresAt: T0 + 5,
        federation: {
          issuer: 'https://kubernetes.default.svc',
          audience: 'signet',
          subject: null,
          claims: 'kubernetes.io.namespace == "payments"',
          jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] },
        },
      });
      await credentialStore.insert(db, bySubject);
      await credentialStore.insert(db, byClaims);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, bySubject.id), bySubject);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, byClaims.id), byClaims);
    });

    it('federatedFor finds federated credentials by issuer and audience, optionally of one principal', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const [p, other] = [principal(tid), principal(tid)];
      await principalStore.insert(db, p);
      await principalStore.insert(db, other);
      const fed = (pid: string, issuer: string, audience: string) =>
        credential(tid, pid, { type: 'federated', secretDigest: null, federation: { issuer, audience, subject: `s-${newId()}`, claims: null, jwks: null } });
      const hit1 = fed(p.id, 'https://a.example', 'aud-1');
      const hit2 = fed(other.id, 'https://a.example', 'aud-1');
      const otherAudience = fed(p.id, 'https://a.example', 'aud-2');
      const otherIssuer = fed(p.id, 'https://b.example', 'aud-1');
      for (const c of [hit1, hit2, otherAudience, otherIssuer, credential(tid, p.id)]) await credentialStore.insert(db, c);
      assert.deepEqual(await credentialStore.federatedFor(db, tid, 'https://a.example', 'aud-1'), sortedById([hit1, hit2]));
      assert.deepEqual(await credentialStore.federatedFor(db, tid, 'https://a.example', 'aud-1', other.id), [hit2]);
      assert.deepEqual(await credentialStore.federatedFor(db, tid, 'https://a.example', 'aud-3'), []);
      assert.deepEqual(await credentialStore.federatedFor(db, tid, 'https://a.example/', 'aud-1'), []);
    });

    it('expiringBefore pages through credentials expiring by an instant, expired ones included, never those without expiry', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const p = principal(tid);
      await principalStore.insert(db, p);
      const expired = credential(tid, p.id, { expiresAt: T0 - 1 });
      const soon = credential(tid, p.id, { expiresAt: T0 + 1000 });
      const soon2 = credential(tid, p.id, { expiresAt: T0 + 2000 });
      const later = credential(tid, p.id, { expiresAt: T0 + 10_000 });
      const never = credential(tid, p.id, { expiresAt: null });
      for (const c of [expired, soon, soon2, later, never]) await credentialStore.insert(db, c);
      assert.deepEqual(await walk(2, (page) => credentialStore.expiringBefore(db, tid, T0 + 2000, page)), [expired.id, soon.id, soon2.id]);
      assert.deepEqual(await walk(10, (page) => credentialStore.expiringBefore(db, tid, T0 - 2, page)), []);
    });

    it('listForPrincipal lists one principal, in id order, optionally by type', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const [p, other] = [principal(tid), principal(tid)];
      await principalStore.insert(db, p);
      await principalStore.insert(db, other);
      const s1 = credential(tid, p.id);
      const k1 = credential(tid, p.id, { type: 'key', secretDigest: null, publicJwk: { kty: 'EC' }, thumbprint: 'tp' });
      const s2 = credential(tid, p.id);
      for (const c of [s1, k1, s2, credential(tid, other.id)]) await credentialStore.insert(db, c);
      assert.deepEqual(await credentialStore.listForPrincipal(db, tid, p.id), [s1, k1, s2]);
      assert.deepEqual(await credentialStore.listForPrincipal(db, tid, p.id, 'secret'), [s1, s2]);
      assert.deepEqual(await credentialStore.listForPrincipal(db, tid, p.id, 'key'), [k1]);
      assert.deepEqual(await credentialStore.listForPrincipal(db, tid, principal(tid).id), []);
    });

    it('touch sets lastUsedAt; delete removes once and then reports false', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const p = principal(tid);
      await principalStore.insert(db, p);
      const c = credential(tid, p.id);
      await credentialStore.insert(db, c);
      await credentialStore.touch(db, tid, c.id, T0 + 42);
      assert.deepEqual(await credentialStore.get(db, tid, p.id, c.id), { ...c, lastUsedAt: T0 + 42 });
      assert.equal(await credentialStore.delete(db, tid, p.id, c.id), true);
      assert.equal(await credentialStore.get(db, tid, p.id, c.id), undefined);
      assert.equal(await credentialStore.delete(db, tid, p.id, c.id), false);
    });

    it('rejects a credential of an unknown principal, and that is no unique violation', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const error = await rejection(() => credentialStore.insert(db, credential(tid, principal(tid).id)));
      assert.equal(isUniqueViolation(error), false);
    });
  });
});

function sortedById(items: Credential[]): Credential[] {
  return [...items].sort((x, y) => (x.id < y.id ? -1 : 1));
}
