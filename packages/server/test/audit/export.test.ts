import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { compactVerify, importJWK } from 'jose';
import { recordHash, sha256 } from '../../src/audit/chain.js';
import type { ExportedCheckpoint, ExportedEvent, ExportHeader, ExportLine } from '../../src/audit/export-format.js';
import type { AuditRecord, CheckpointBody } from '../../src/audit/model.js';
import { type OcsfEvent, ocsfClassOf } from '../../src/audit/ocsf.js';
import { newId } from '../../src/crypto/ids.js';
import {
  addSecret,
  adminOf,
  adminClient,
  auditEvents,
  createPrincipal,
  createTenant,
  expectError,
  expectStatus,
  grant,
  type Admin,
  type GrantView,
  type PrincipalView,
  type ResourceView,
  type TenantView,
} from '../admin/helpers.js';
import { describeEachServerBackend } from '../contract/backends.js';
import { startTestServer } from '../helpers/server.js';


describeEachServerBackend('audit API: export', (server) => {
  let a: Admin;
  let t: TenantView;
  let other: TenantView;
  let client: PrincipalView;
  let granted: GrantView;
  let events: AuditRecord[];
  const U = newId();
  const D = newId();

  const download = async (query = '', token = a.token) => {
    const res = await fetch(`${a.s.adminApi}/tenants/${t.name}/audit/export${query}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { res, text, lines: res.status === 200 ? text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown) : [] };
  };

  before(async () => {
    a = await adminOf(server());
    t = await createTenant(a);
    other = await createTenant(a);
    await createPrincipal(a, other.name, { kind: 'service' });
    const api = expectStatus(await a.call<ResourceView>('POST', `/tenants/${t.name}/resources`, { identifier: 'api://export', displayName: 'Export', roles: [{ name: 'read', description: 'read' }] }), 201);
    client = await createPrincipal(a, t.name, { kind: 'service' });
    const secret = await addSecret(a, t.name, client.id);
    granted = await grant(a, t.name, client.id, api.id, 'read');
    await a.s.tokenFor(t.name, client.id, secret, 'api://export/.default');
    assert.equal((await a.s.token(t.name, client.id, secret, { scope: 'api://other/.default' })).status, 400);
    await a.s.signet.deps.audit.record({ tenantId: t.id, type: 'token.issued', outcome: 'success', actorId: client.id, actorKind: 'agent', clientId: client.id, subjectId: U, resource: 'api://export', delegation: [client.id, D] });
    await a.s.signet.auditTrail.sealer.seal();
    await sleep(5);
    await a.s.tokenFor(t.name, client.id, secret, 'api://export/.default');
    await a.s.signet.auditTrail.sealer.seal();
    events = (await auditEvents(a, t.id)).reverse();
  });

  describe('ndjson', () => {
    let res: Response;
    let lines: ExportLine[];
    before(async () => {
      const got = await download();
      res = got.res;
      lines = got.lines as ExportLine[];
    });

    it('is streamed newline-delimited JSON, every line an object', () => {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'written as it is read, not buffered');
      assert.equal(res.headers.get('content-length'), null);
      assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="signet-audit-.+\.ndjson"/);
      assert.ok(lines.length > events.length);
    });

    it('starts with the header: tenant id, no range, export time and the audit public key', () => {
      const header = lines[0] as ExportHeader;
      assert.equal(header.kind, 'export');
      assert.equal(header.version, 1);
      assert.equal(header.tenant, t.id);
      assert.equal(header.since, null);
      assert.equal(header.until, null);
      assert.ok(Math.abs(header.exportedAt - Date.now()) < 60_000);
      assert.ok(header.publicKeys.some((k) => JSON.stringify(k) === JSON.stringify(a.s.signet.auditTrail.key.publicJwk)));
      assert.equal(lines.filter((l) => l.kind === 'export').length, 1);
    });

    it('then every event of the tenant, oldest first, as stored, each hash equal to recordHash(event)', () => {
      const exported = lines.filter((l): l is ExportedEvent => l.kind === 'event');
      assert.deepEqual(exported, events.map((e) => ({ kind: 'event', ...e })));
      const ids = exported.map((e) => e.id);
      assert.deepEqual(ids, [...ids].sort(), 'oldest first');
      for (const event of exported) {
        const { kind: _kind, ...record } = event;
        assert.equal(recordHash(record), event.hash, event.type);
        assert.equal(event.tenantId, t.id);
      }
      assert.ok(exported.some((e) => e.type === 'token.issued') && exported.some((e) => e.type === 'token.refused') && exported.some((e) => e.type === 'grant.added'));
    });

    it('then the checkpoints: every one naming a chain of the tenant, and those they link to, each signed by the audit key', async () => {
      const firstCheckpoint = lines.findIndex((l) => l.kind === 'checkpoint');
      assert.ok(firstCheckpoint > 0);
      assert.ok(lines.slice(firstCheckpoint).every((l) => l.kind === 'checkpoint'), 'checkpoints come last');
      const exported = lines.filter((l): l is ExportedCheckpoint => l.kind === 'checkpoint');
      const byId = new Map(exported.map((c) => [c.id, c]));
      assert.equal(byId.size, exported.length, 'no checkpoint twice');

      const rows = await a.s.signet.deps.db.selectFrom('audit_checkpoints').selectAll().execute();
      const naming = rows.filter((r) => (JSON.parse(r.body) as CheckpointBody).heads.some((h) => h.tenant === t.id));
      assert.ok(naming.length >= 2);
      for (const row of naming) assert.deepEqual(byId.get(row.id), { kind: 'checkpoint', id: row.id, writer: row.writer_id, time: row.time, body: row.body, hash: row.hash, signature: row.signature });

      const key = await importJWK(a.s.signet.auditTrail.key.publicJwk, 'EdDSA');
      for (const checkpoint of exported) {
        const body = JSON.parse(checkpoint.body) as CheckpointBody;
        const linked = exported.some((c) => (JSON.parse(c.body) as CheckpointBody).prev?.id === checkpoint.id);
        assert.ok(body.heads.some((h) => h.tenant === t.id) || linked, `checkpoint ${checkpoint.id} neither names the tenant nor is linked to`);
        if (body.prev) assert.ok(byId.has(body.prev.id), `the checkpoint ${checkpoint.id} links to is exported`);
        assert.equal(sha256(checkpoint.body), checkpoint.hash);
        const { payload } = await compactVerify(checkpoint.signature, key);
        assert.equal(new TextDecoder().decode(payload), checkpoint.body);
      }

      // The newest event of each exported chain is sealed.
      const heads = exported.flatMap((c) => (JSON.parse(c.body) as CheckpointBody).heads);
      const last = events[events.length - 1];
      assert.ok(last && heads.some((h) => h.chain === last.chainId && h.seq === last.seq && h.hash === last.hash));
    });
  });

  it('exports a time range: events with since ≤ time < until, the range in the header', async () => {
    const from = events[2];
    const to = events[events.length - 1];
    assert.ok(from && to && from.time < to.time);
    const { lines } = await download(`?since=${new Date(from.time).toISOString()}&until=${new Date(to.time).toISOString()}`);
    const header = lines[0] as ExportHeader;
    assert.equal(header.since, from.time);
    assert.equal(header.until, to.time);
    const exported = (lines as ExportLine[]).filter((l) => l.kind === 'event').map((e) => e.id);
    assert.deepEqual(exported, events.filter((e) => e.time >= from.time && e.time < to.time).map((e) => e.id));
  });

  describe('ocsf', () => {
    let ocsf: OcsfEvent[];
    const of = (type: string, pick: (e: AuditRecord) => boolean = () => true): OcsfEvent => {
      const event = events.find((e) => e.type === type && pick(e));
      const mapped = ocsf.find((o) => o.metadata.uid === event?.id);
      assert.ok(event && mapped, `no OCSF event for ${type}`);
      return mapped;
    };
    before(async () => {
      ocsf = (await download('?format=ocsf')).lines as OcsfEvent[];
    });

    it('is one OCSF 1.3.0 event per audit event, oldest first, nothing else', () => {
      assert.deepEqual(ocsf.map((o) => o.metadata.uid), events.map((e) => e.id));
      for (const o of ocsf) {
        assert.equal(o.category_uid, 3);
        assert.equal(o.type_uid, o.class_uid * 100 + o.activity_id);
        assert.deepEqual(o.metadata.product, { name: 'Signet', vendor_name: 'Signet' });
        assert.equal(o.metadata.version, '1.3.0');
        assert.equal(typeof o.time, 'number');
        assert.ok([1, 2, 3].includes(o.severity_id));
      }
    });

    it('token.issued is Authentication / Authentication Ticket, success', () => {
      const o = of('token.issued', (e) => e.subjectId === null);
      assert.deepEqual([o.class_uid, o.activity_id, o.type_uid, o.status_id, o.status], [3002, 3, 300203, 1, 'Success']);
      assert.equal(o.auth_protocol_id, 6);
      assert.deepEqual(o.actor?.user, { uid: client.id, type: 'Service', type_id: 99 });
      assert.equal(o.user?.uid, client.id);
      assert.deepEqual(o.service, { name: 'api://export' });
      assert.equal(o.src_endpoint?.ip, '127.0.0.1');
      assert.equal(typeof o.http_request?.user_agent, 'string');
    });

    it('token.refused is Authentication, failure, with the OAuth error as status_detail', () => {
      const o = of('token.refused');
      assert.deepEqual([o.class_uid, o.type_uid, o.status_id, o.status, o.status_detail], [3002, 300203, 2, 'Failure', 'invalid_scope']);
      assert.equal(o.severity_id, 2);
    });

    it('principal.created is Account Change / Create by an admin; credential.added is Password Change', () => {
      const o = of('principal.created', (e) => e.targetId === client.id);
      assert.deepEqual([o.class_uid, o.activity_id, o.type_uid, o.status_id], [3001, 1, 300101, 1]);
      assert.deepEqual(o.user, { uid: client.id, type: 'Service', type_id: 99 });
      assert.deepEqual(o.actor?.user, { uid: a.s.admin.client_id, type: 'Admin', type_id: 2 });
      const credential = of('credential.added');
      assert.deepEqual([credential.class_uid, credential.type_uid], [3001, 300103]);
      assert.equal(credential.user?.uid, client.id);
    });

    it('grant.added is Entity Management / Create of the grant', () => {
      const o = of('grant.added');
      assert.deepEqual([o.class_uid, o.activity_id, o.type_uid, o.status_id], [3004, 1, 300401, 1]);
      assert.deepEqual(o.entity, { uid: granted.id, type: 'grant' });
    });

    it('keeps a delegation chain whole in unmapped.delegation; actor.invoked_by is the principal the actor acts for', () => {
      const o = of('token.issued', (e) => e.subjectId === U);
      assert.deepEqual(o.unmapped.delegation, [client.id, D]);
      assert.equal(o.actor?.invoked_by, D);
      assert.deepEqual(o.actor?.user, { uid: client.id, type: 'Agent', type_id: 99 });
      assert.equal(o.user?.uid, U);
    });

    it('maps every event type Signet records to a class and activity', () => {
      const table: [string, number, number][] = [
        ['token.issued', 3002, 3],
        ['token.refused', 3002, 3],
        ['principal.created', 3001, 1],
        ['principal.enabled', 3001, 2],
        ['principal.disabled', 3001, 5],
        ['principal.deleted', 3001, 6],
        ['principal.updated', 3001, 99],
        ['credential.added', 3001, 3],
        ['credential.removed', 3001, 3],
        ['tenant.created', 3004, 1],
        ['tenant.updated', 3004, 3],
        ['tenant.disabled', 3004, 9],
        ['tenant.enabled', 3004, 8],
        ['resource.created', 3004, 1],
        ['resource.updated', 3004, 3],
        ['resource.deleted', 3004, 4],
        ['grant.added', 3004, 1],
        ['grant.removed', 3004, 4],
        ['signing_key.rotated', 3004, 3],
        ['token.revoked', 3002, 2],
        ['token.introspected', 3002, 99],
        ['principal.suspended', 3001, 5],
        ['principal.extended', 3001, 99],
        ['blueprint.created', 3004, 1],
        ['blueprint.updated', 3004, 3],
        ['blueprint.deleted', 3004, 4],
        ['ssf_receiver.added', 3004, 1],
        ['ssf_receiver.removed', 3004, 4],
        ['managed_key.created', 3004, 1],
        ['managed_key.rotated', 3004, 3],
        ['node_join_token.created', 3004, 1],
        ['node.joined', 3004, 1],
        ['node.assigned', 3004, 3],
        ['node.unassigned', 3004, 3],
        ['node.disabled', 3004, 9],
        ['node.deleted', 3004, 4],
        ['node_key.rotated', 3004, 3],
        ['node.join_refused', 3004, 99],
        ['something.new', 3004, 99],
      ];
      for (const [type, cls, activity] of table) {
        const mapped = ocsfClassOf(type);
        assert.deepEqual([mapped.cls.uid, mapped.activity[0]], [cls, activity], type);
      }
    });
  });

  it('needs audit.reader or tenant.admin: 403 for tenant.reader; 400 for an unknown format or parameter', async () => {
    const reader = await (await adminClient(a, t.name, ['tenant.reader'])).token();
    const forbidden = await download('', reader);
    assert.equal(forbidden.res.status, 403);
    assert.equal((JSON.parse(forbidden.text) as { code: string }).code, 'forbidden');
    const auditReader = await (await adminClient(a, t.name, ['audit.reader'])).token();
    assert.equal((await download('?format=ocsf', auditReader)).res.status, 200);
    for (const query of ['?format=csv', '?type=token.issued', '?since=last-week']) {
      const bad = await download(query);
      assert.equal(bad.res.status, 400, query);
      assert.equal((JSON.parse(bad.text) as { code: string }).code, 'invalid_request');
    }
  });

  it('the audit public key is readable by any admin caller, and by no one else', async () => {
    const reader = await (await adminClient(a, other.name, ['tenant.reader'])).token();
    assert.deepEqual(expectStatus(await a.call('GET', '/audit/public-key', undefined, reader), 200), a.s.signet.auditTrail.key.publicJwk);
    expectError(await a.call('GET', '/audit/public-key', undefined, null), 401, 'unauthorized');
  });
});

describe('audit API: export at shutdown', () => {
  it('a server shutdown cuts an export in progress rather than wait for a client that stopped reading', async () => {
    const s = await startTestServer();
    const tenantId = (await s.signet.services.tenants.resolve('default')).id;
    const padding = 'x'.repeat(900);
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => s.signet.deps.audit.record({ tenantId, type: 'token.refused', outcome: 'failure', data: { error: 'invalid_client', reason: `${i} ${padding}` } })));
    const res = await fetch(`${s.adminApi}/tenants/default/audit/export`, { headers: { authorization: `Bearer ${await s.adminToken()}` } });
    assert.equal(res.status, 200);
    await sleep(500); // the body is not read: the server's writes back up
    const started = Date.now();
    await Promise.race([s.close(), sleep(5000).then(() => Promise.reject(new Error('close() hung on a stalled export')))]);
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(res.text(), 'the client sees the transfer cut, not an end');
  });
});
