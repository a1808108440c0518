import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditStore } from '../../src/audit/store.js';
import { auditWriter } from './fixtures.js';
import type { DirectoryEvent } from '../../src/audit/model.js';
import { isId } from '../../src/crypto/ids.js';
import { isUniqueViolation } from '../../src/db/connect.js';
import { grantStore } from '../../src/grants/store.js';
import { principalStore } from '../../src/principals/store.js';
import { rememberJti } from '../../src/oauth/replay.js';
import { resourceStore } from '../../src/resources/store.js';
import { signingKeyStore } from '../../src/signing-keys/store.js';
import { describeEachBackend } from './backends.js';
import { T0, grant, newTenant, principal, rejection, resource, signingKey, walk } from './fixtures.js';

// The storage contract, part 2: resources, grants, signing keys, the jti replay cache, audit.
describeEachBackend('storage contract: access', (conn) => {
  describe('resourceStore', () => {
    it('round-trips every field, permission JSON and the builtin flag as a boolean', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const builtin = resource(tid, {
        identifier: 'urn:signet:admin',
        description: 'The admin API',
        scopes: [{ name: 'admin.read', description: 'Read "everything" — ünïcode' }],
        roles: [
          { name: 'tenant.admin', description: 'Manage' },
          { name: 'tenant.reader', description: 'Read' },
        ],
        builtin: true,
        updatedAt: T0 + 1,
      });
      const plain = resource(tid, { roles: [] });
      await resourceStore.insert(db, builtin);
      await resourceStore.insert(db, plain);
      assert.deepEqual(await resourceStore.get(db, tid, builtin.id), builtin);
      assert.deepEqual(await resourceStore.byIdentifier(db, tid, 'urn:signet:admin'), builtin);
      assert.deepEqual(await resourceStore.get(db, tid, plain.id), plain);
      assert.equal(await resourceStore.get(db, tid, resource(tid).id), undefined);
      assert.equal(await resourceStore.byIdentifier(db, tid, 'URN:SIGNET:ADMIN'), undefined, 'identifiers match exactly, case included');
    });

    it('update writes the mutable fields; createdAt never changes', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const r = resource(tid);
      await resourceStore.insert(db, r);
      const changed = { ...r, displayName: 'Orders v2', description: 'new', scopes: [{ name: 'orders', description: 'd' }], roles: [], updatedAt: T0 + 7 };
      await resourceStore.update(db, { ...changed, createdAt: 1 });
      assert.deepEqual(await resourceStore.get(db, tid, r.id), changed);
    });

    it('list walks every row exactly once, in id order; delete removes', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const rs = [resource(tid), resource(tid), resource(tid), resource(tid), resource(tid)];
      for (const r of rs) await resourceStore.insert(db, r);
      assert.deepEqual(await walk(2, (page) => resourceStore.list(db, tid, page)), rs.map((r) => r.id));
      assert.deepEqual((await resourceStore.list(db, tid, { limit: 50 })).items, rs);
      await resourceStore.delete(db, tid, rs[1]!.id);
      assert.equal(await resourceStore.get(db, tid, rs[1]!.id), undefined);
      assert.deepEqual(await walk(3, (page) => resourceStore.list(db, tid, page)), [rs[0], ...rs.slice(2)].map((r) => r!.id));
    });

    it('an identifier is unique per tenant, and only per tenant', async () => {
      const { db } = conn();
      const [t1, t2] = [await newTenant(db), await newTenant(db)];
      await resourceStore.insert(db, resource(t1, { identifier: 'api://orders' }));
      const error = await rejection(() => resourceStore.insert(db, resource(t1, { identifier: 'api://orders' })));
      assert.equal(isUniqueViolation(error), true);
      await resourceStore.insert(db, resource(t2, { identifier: 'api://orders' }));
    });
  });

  describe('grantStore', () => {
    async function setup() {
      const { db } = conn();
      const tid = await newTenant(db);
      const [p1, p2] = [principal(tid), principal(tid)];
      const [r1, r2] = [resource(tid), resource(tid)];
      for (const p of [p1, p2]) await principalStore.insert(db, p);
      for (const r of [r1, r2]) await resourceStore.insert(db, r);
      return { db, tid, p1, p2, r1, r2 };
    }

    it('round-trips a grant exactly; a duplicate is a unique violation', async () => {
      const { db, tid, p1, r1 } = await setup();
      const g = grant(tid, p1.id, r1.id, 'orders.read', { createdAt: T0 + 3 });
      await grantStore.insert(db, g);
      assert.deepEqual(await grantStore.get(db, tid, g.id), g);
      assert.equal(await grantStore.get(db, tid, grant(tid, p1.id, r1.id, 'x').id), undefined);
      const error = await rejection(() => grantStore.insert(db, grant(tid, p1.id, r1.id, 'orders.read')));
      assert.equal(isUniqueViolation(error), true);
    });

    it('list filters by principal and resource and walks every row exactly once, in id order', async () => {
      const { db, tid, p1, p2, r1, r2 } = await setup();
      const gs = [
        grant(tid, p1.id, r1.id, 'a'),
        grant(tid, p2.id, r1.id, 'a'),
        grant(tid, p1.id, r2.id, 'a'),
        grant(tid, p1.id, r1.id, 'b'),
        grant(tid, p2.id, r2.id, 'b'),
      ];
      for (const g of gs) await grantStore.insert(db, g);
      const ids = (...is: number[]) => is.map((i) => gs[i]!.id);
      assert.deepEqual(await walk(2, (page) => grantStore.list(db, tid, {}, page)), ids(0, 1, 2, 3, 4));
      assert.deepEqual(await walk(1, (page) => grantStore.list(db, tid, { principalId: p1.id }, page)), ids(0, 2, 3));
      assert.deepEqual(await walk(2, (page) => grantStore.list(db, tid, { resourceId: r1.id }, page)), ids(0, 1, 3));
      assert.deepEqual((await grantStore.list(db, tid, { principalId: p1.id, resourceId: r1.id }, { limit: 50 })).items, [gs[0], gs[3]]);
      assert.deepEqual((await grantStore.list(db, tid, { principalId: p2.id, resourceId: r2.id }, { limit: 50 })).items, [gs[4]]);
    });

    it('roles lists role names sorted; countForRole counts holders', async () => {
      const { db, tid, p1, p2, r1, r2 } = await setup();
      for (const g of [grant(tid, p1.id, r1.id, 'write'), grant(tid, p1.id, r1.id, 'read'), grant(tid, p2.id, r1.id, 'read'), grant(tid, p1.id, r2.id, 'read')]) {
        await grantStore.insert(db, g);
      }
      assert.deepEqual(await grantStore.roles(db, tid, p1.id, r1.id), ['read', 'write']);
      assert.deepEqual(await grantStore.roles(db, tid, p2.id, r2.id), []);
      assert.equal(await grantStore.countForRole(db, tid, r1.id, 'read'), 2);
      assert.equal(await grantStore.countForRole(db, tid, r1.id, 'write'), 1);
      assert.equal(await grantStore.countForRole(db, tid, r2.id, 'write'), 0);
    });

    it('delete removes one grant; deleteForResource removes and returns a resource’s grants', async () => {
      const { db, tid, p1, p2, r1, r2 } = await setup();
      const gs = [grant(tid, p1.id, r1.id, 'a'), grant(tid, p2.id, r1.id, 'a'), grant(tid, p1.id, r2.id, 'a')];
      for (const g of gs) await grantStore.insert(db, g);
      await grantStore.delete(db, tid, gs[0]!.id);
      assert.equal(await grantStore.get(db, tid, gs[0]!.id), undefined);
      assert.deepEqual(await grantStore.deleteForResource(db, tid, r1.id), [gs[1]]);
      assert.deepEqual(await grantStore.deleteForResource(db, tid, r1.id), []);
      assert.deepEqual((await grantStore.list(db, tid, {}, { limit: 50 })).items, [gs[2]]);
    });
  });

  describe('signingKeyStore', () => {
    it('listLive returns unexpired keys exactly, oldest first; an expiry equal to now is expired', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const now = T0 + 1000;
      const rsa = signingKey(tid, { alg: 'RS256', status: 'next', activatedAt: null, createdAt: T0 + 2, publicJwk: { kty: 'RSA', n: 'sXch', e: 'AQAB' } });
      const active = signingKey(tid, { createdAt: T0 + 1 });
      const retiring = signingKey(tid, { status: 'retired', createdAt: T0, retiredAt: T0 + 1, expiresAt: now + 1 });
      const expired = signingKey(tid, { status: 'retired', createdAt: T0, retiredAt: T0 + 1, expiresAt: now });
      for (const k of [rsa, active, retiring, expired]) await signingKeyStore.insert(db, k);
      assert.deepEqual(await signingKeyStore.listLive(db, tid, now), [retiring, active, rsa]);
    });

    it('setStatus writes the lifecycle fields', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const k = signingKey(tid, { status: 'next', activatedAt: null });
      await signingKeyStore.insert(db, k);
      const change = { status: 'retired' as const, activatedAt: T0 + 1, retiredAt: T0 + 2, expiresAt: T0 + 3 };
      await signingKeyStore.setStatus(db, tid, k.id, change);
      assert.deepEqual(await signingKeyStore.listLive(db, tid, T0), [{ ...k, ...change }]);
    });

    it('deleteExpired removes exactly the expired keys and counts them', async () => {
      const { db } = conn();
      const tid = await newTenant(db);
      const live = [signingKey(tid), signingKey(tid, { status: 'retired', expiresAt: T0 + 11 })];
      for (const k of [...live, signingKey(tid, { expiresAt: T0 + 10 }), signingKey(tid, { expiresAt: T0 })]) await signingKeyStore.insert(db, k);
      assert.equal(await signingKeyStore.deleteExpired(db, tid, T0 + 10), 2);
      assert.equal(await signingKeyStore.deleteExpired(db, tid, T0 + 10), 0);
      assert.deepEqual(await signingKeyStore.listLive(db, tid, 0), live);
    });
  });

  describe('used_jtis', () => {
    it('rejects a replayed (tenant, client, jti) as a unique violation, and only that', async () => {
      const { db } = conn();
      const [t1, t2] = [await newTenant(db), await newTenant(db)];
      const row = { tenant_id: t1, client_id: 'client-1', jti: 'jti-1', expires_at: T0 };
      await db.insertInto('used_jtis').values(row).execute();
      const error = await rejection(() => db.insertInto('used_jtis').values({ ...row, expires_at: T0 + 1 }).execute());
      assert.equal(isUniqueViolation(error), true);
      await db.insertInto('used_jtis').values({ ...row, tenant_id: t2 }).execute();
      await db.insertInto('used_jtis').values({ ...row, client_id: 'client-2' }).execute();
      const rows = await db.selectFrom('used_jtis').selectAll().where('tenant_id', '=', t1).orderBy('client_id').execute();
      assert.deepEqual(rows, [row, { ...row, client_id: 'client-2' }]);
    });

    it('rememberJti: concurrent uses of one jti share a statement and exactly the first wins', async () => {
      const { db } = conn();
      const [t1, t2] = [await newTenant(db), await newTenant(db)];
      const before = await rememberJti(db, t1, 'client-1', 'seen', T0);
      const results = await Promise.all([
        rememberJti(db, t1, 'client-1', 'seen', T0),
        rememberJti(db, t1, 'client-1', 'fresh', T0),
        rememberJti(db, t1, 'client-1', 'fresh', T0),
        rememberJti(db, t1, 'client-2', 'fresh', T0),
        rememberJti(db, t2, 'client-1', 'fresh', T0),
      ]);
      assert.equal(before, true);
      assert.deepEqual(results, [false, true, false, true, true]);
      const rows = await db.selectFrom('used_jtis').select(['client_id', 'jti']).where('tenant_id', '=', t1).orderBy('client_id').orderBy('jti').execute();
      assert.deepEqual(rows, [
        { client_id: 'client-1', jti: 'fresh' },
        { client_id: 'client-1', jti: 'seen' },
        { client_id: 'client-2', jti: 'fresh' },
      ]);
    });
  });

  describe('audit chains (auditChainStore through AuditWriter, auditStore.list)', () => {
    it('records directory changes in a hash chain and lists them newest first, exactly', async () => {
      const { db, kind } = conn();
      const tid = await newTenant(db);
      let now = T0;
      const writer = auditWriter(db, kind, () => now);
      const event = (n: number): DirectoryEvent => ({
        tenantId: tid,
        type: 'principal.updated',
        actor: { id: `actor-${n}`, jti: `jti-${n}`, tenantId: 'install', source: { ip: '127.0.0.1', requestId: `req-${n}` } },
        target: { type: 'principal', id: `p-${n}` },
        before: { displayName: 'old', n },
        after: { displayName: 'new', nested: { list: [1, true, null] } },
      });
      await db.transaction().execute((trx) => writer.recordInTransaction(trx, [event(1)]));
      now += 1;
      await db.transaction().execute((trx) => writer.recordInTransaction(trx, [event(2)]));
      now += 1;
      await db.transaction().execute((trx) => writer.recordInTransaction(trx, [{ ...event(3), type: 'principal.created', actor: { id: null, jti: null, tenantId: null }, before: undefined }]));

      const all = await auditStore.list(db, tid, 10);
      assert.equal(all.length, 3);
      assert.ok(all.every((r) => isId(r.id)));
      assert.deepEqual(all.map((r) => r.id), [...all.map((r) => r.id)].sort().reverse());
      assert.deepEqual(all.map((r) => r.seq), [3, 2, 1]);
      assert.equal(new Set(all.map((r) => r.chainId)).size, 1);
      assert.equal(all[2]?.prevHash, '');
      assert.equal(all[1]?.prevHash, all[2]?.hash);
      assert.equal(all[0]?.prevHash, all[1]?.hash);
      const { id: _id, chainId: _c, hash: _h, prevHash: _p, ...newest } = all[0]!;
      assert.deepEqual(newest, {
        tenantId: tid,
        seq: 3,
        time: T0 + 2,
        type: 'principal.created',
        outcome: 'success',
        actorId: null,
        actorKind: null,
        subjectId: null,
        clientId: null,
        credentialId: null,
        credentialType: null,
        resource: null,
        jti: null,
        targetType: 'principal',
        targetId: 'p-3',
        sourceIp: null,
        userAgent: null,
        requestId: null,
        data: { actorTenantId: null, before: null, after: { displayName: 'new', nested: { list: [1, true, null] } } },
      });
      const oldest = all[2]!;
      assert.equal(oldest.actorId, 'actor-1');
      assert.equal(oldest.jti, 'jti-1');
      assert.equal(oldest.sourceIp, '127.0.0.1');
      assert.equal(oldest.requestId, 'req-1');
      assert.deepEqual(oldest.data, { actorTenantId: 'install', before: { displayName: 'old', n: 1 }, after: { displayName: 'new', nested: { list: [1, true, null] } } });
      assert.deepEqual(await auditStore.list(db, tid, 2), all.slice(0, 2));
    });

    it('a rolled-back transaction leaves no event and no gap in the chain', async () => {
      const { db, kind } = conn();
      const tid = await newTenant(db);
      const writer = auditWriter(db, kind);
      const ev = { tenantId: tid, type: 'grant.added', actor: { id: 'a', jti: null, tenantId: tid }, target: { type: 'grant', id: 'g' } };
      await db.transaction().execute((trx) => writer.recordInTransaction(trx, [ev]));
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await writer.recordInTransaction(trx, [ev]);
          throw new Error('change failed');
        }),
        /change failed/,
      );
      await db.transaction().execute((trx) => writer.recordInTransaction(trx, [ev]));
      const all = await auditStore.list(db, tid, 10);
      assert.deepEqual(all.map((r) => r.seq), [2, 1]);
      assert.equal(all[0]?.prevHash, all[1]?.hash);
    });
  });
});
