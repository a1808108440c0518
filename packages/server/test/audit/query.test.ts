import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRecord } from '../../src/audit/model.js';
import type { AuditEventView } from '../../src/audit/routes.js';
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
  walkPages,
  type Admin,
  type Page,
  type PrincipalView,
  type ResourceView,
  type TenantView,
} from '../admin/helpers.js';
import { describeEachServerBackend } from '../contract/backends.js';


/** Every principal the "principal anywhere" filter must find an event by. */
function named(e: AuditRecord): string[] {
  const delegation = Array.isArray(e.data.delegation) ? (e.data.delegation as string[]) : [];
  return [e.actorId, e.subjectId, e.clientId, e.targetType === 'principal' ? e.targetId : null, ...delegation].filter((x): x is string => x !== null);
}

describeEachServerBackend('audit API: query', (server) => {
  let a: Admin;
  let t: TenantView;
  let other: TenantView;
  let all: AuditRecord[];
  let p: PrincipalView;
  const A = newId();
  const B = newId();
  const U = newId();
  const D = newId();
  const C1 = newId();
  const C2 = newId();
  let delegatedId = '';

  const ids = (events: { id: string }[]) => events.map((e) => e.id);
  /** Every event the API returns for `params`, walking pages of three. */
  const query = async (params: Record<string, string>, token?: string): Promise<AuditEventView[]> => {
    const qs = new URLSearchParams(params).toString();
    if (token === undefined) return (await walkPages<AuditEventView>(a, `/tenants/${t.name}/audit${qs ? `?${qs}` : ''}`, 3)).items;
    return expectStatus(await a.call<Page<AuditEventView>>('GET', `/tenants/${t.name}/audit?${qs}`, undefined, token), 200).items;
  };

  before(async () => {
    a = await adminOf(server());
    t = await createTenant(a);
    other = await createTenant(a);
    const audit = a.s.signet.deps.audit;
    const record = async (event: Parameters<typeof audit.record>[0]) => {
      await audit.record(event);
      await sleep(3); // distinct times, so time ranges have exact edges
    };
    await record({ tenantId: t.id, type: 'token.issued', outcome: 'success', actorId: A, actorKind: 'service', clientId: A, credentialId: C1, credentialType: 'secret', resource: 'api://one', jti: newId(), source: { ip: '10.0.0.1', userAgent: 'test/1', requestId: 'req-1' }, data: { roles: ['orders.read'] } });
    await record({ tenantId: t.id, type: 'token.issued', outcome: 'success', actorId: B, actorKind: 'agent', clientId: B, subjectId: U, credentialId: C2, credentialType: 'key', resource: 'api://two', jti: newId(), delegation: [B, D], data: { scope: 'orders.read' } });
    await record({ tenantId: t.id, type: 'token.refused', outcome: 'failure', actorId: A, actorKind: 'service', clientId: A, credentialId: C1, credentialType: 'secret', resource: 'api://two', data: { error: 'invalid_scope', reason: 'not granted' } });
    await record({ tenantId: t.id, type: 'token.refused', outcome: 'failure', data: { error: 'invalid_client', claimedClientId: 'nobody' } });
    // The same principals in another tenant: never part of this tenant's answers.
    await record({ tenantId: other.id, type: 'token.issued', outcome: 'success', actorId: A, clientId: A, subjectId: U, credentialId: C1, resource: 'api://two', delegation: [A, D] });
    // Directory changes, through the API.
    p = await createPrincipal(a, t.name, { kind: 'service' });
    await addSecret(a, t.name, p.id);
    const api = expectStatus(await a.call<ResourceView>('POST', `/tenants/${t.name}/resources`, { identifier: 'api://two', displayName: 'Two', roles: [{ name: 'r', description: 'r' }] }), 201);
    await grant(a, t.name, p.id, api.id, 'r');
    all = await auditEvents(a, t.id);
    delegatedId = all.find((e) => e.actorId === B)?.id ?? '';
  });

  it('without filters lists every event of the tenant, newest first, across pages, none twice', async () => {
    const { items, pages } = await walkPages<AuditEventView>(a, `/tenants/${t.name}/audit`, 2);
    assert.deepEqual(ids(items), ids(all));
    assert.equal(new Set(ids(items)).size, items.length);
    assert.equal(pages, Math.ceil(all.length / 2));
    assert.ok(all.length >= 9, `only ${all.length} events`);
    const sorted = [...ids(items)].sort().reverse();
    assert.deepEqual(ids(items), sorted, 'ids descend');
  });

  it('shows each event as stored, with an ISO time and the delegation chain in data', async () => {
    const page = await query({ subject: U });
    assert.equal(page?.length, 1);
    const view = page?.[0];
    const stored = all.find((e) => e.id === view?.id);
    assert.ok(view && stored);
    assert.deepEqual(view, { ...stored, time: new Date(stored.time).toISOString() });
    assert.deepEqual(view.data.delegation, [B, D]);
  });

  const cases: [string, () => Record<string, string>, (e: AuditRecord) => boolean][] = [
    ['type (exact)', () => ({ type: 'token.issued' }), (e) => e.type === 'token.issued'],
    ['type (prefix token.*)', () => ({ type: 'token.*' }), (e) => e.type.startsWith('token.')],
    ['type (prefix principal.*)', () => ({ type: 'principal.*' }), (e) => e.type.startsWith('principal.')],
    ['outcome', () => ({ outcome: 'failure' }), (e) => e.outcome === 'failure'],
    ['actor', () => ({ actor: A }), (e) => e.actorId === A],
    ['subject', () => ({ subject: U }), (e) => e.subjectId === U],
    ['client', () => ({ client: B }), (e) => e.clientId === B],
    ['resource', () => ({ resource: 'api://two' }), (e) => e.resource === 'api://two'],
    ['credential', () => ({ credential: C1 }), (e) => e.credentialId === C1],
    ['principal: a delegation hop', () => ({ principal: D }), (e) => named(e).includes(D)],
    ['principal: the subject', () => ({ principal: U }), (e) => named(e).includes(U)],
    ['principal: actor and client', () => ({ principal: A }), (e) => named(e).includes(A)],
    ['principal: target of directory changes', () => ({ principal: p.id }), (e) => named(e).includes(p.id)],
    ['principal: the admin making changes', () => ({ principal: a.s.admin.client_id }), (e) => named(e).includes(a.s.admin.client_id)],
    ['type and actor', () => ({ type: 'token.refused', actor: A }), (e) => e.type === 'token.refused' && e.actorId === A],
    ['type prefix and outcome', () => ({ type: 'token.*', outcome: 'success' }), (e) => e.type.startsWith('token.') && e.outcome === 'success'],
    ['outcome and principal', () => ({ outcome: 'failure', principal: A }), (e) => e.outcome === 'failure' && named(e).includes(A)],
    ['resource and credential', () => ({ resource: 'api://two', credential: C2 }), (e) => e.resource === 'api://two' && e.credentialId === C2],
  ];
  for (const [name, params, matches] of cases) {
    it(`filters by ${name}: exactly the matching events, newest first`, async () => {
      const expected = all.filter(matches);
      assert.ok(expected.length > 0, 'the fixture has matching events');
      assert.deepEqual(ids(await query(params())), ids(expected));
    });
  }

  it('finds the delegated token event by its inner delegation hop, and only it', async () => {
    assert.deepEqual(ids(await query({ principal: D })), [delegatedId]);
  });

  it('a filter that matches nothing, and a prefix no type has, return an empty page', async () => {
    assert.deepEqual(await query({ actor: newId() }), []);
    assert.deepEqual(await query({ type: 'nothing.*' }), []);
  });

  it('since is inclusive and until exclusive, on the event time', async () => {
    const oldest = [...all].reverse();
    const edge = oldest[3];
    assert.ok(edge && oldest[2] && oldest[2].time < edge.time);
    const at = new Date(edge.time).toISOString();
    assert.deepEqual(ids(await query({ since: at })), ids(all.filter((e) => e.time >= edge.time)));
    assert.deepEqual(ids(await query({ until: at })), ids(all.filter((e) => e.time < edge.time)));
    const end = oldest[6];
    assert.ok(end);
    const window = await query({ since: at, until: new Date(end.time).toISOString(), type: 'token.*' });
    assert.deepEqual(ids(window), ids(all.filter((e) => e.time >= edge.time && e.time < end.time && e.type.startsWith('token.'))));
    // Any ISO 8601 offset names the same instant.
    const offset = new Date(edge.time + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual(ids(await query({ since: offset })), ids(all.filter((e) => e.time >= edge.time)));
  });

  it('never returns another tenant\'s events', async () => {
    const otherIds = new Set(ids(await auditEvents(a, other.id)));
    const filters: Record<string, string>[] = [{ actor: A }, { principal: D }, { subject: U }, { type: 'token.*' }, {}];
    for (const params of filters) {
      for (const event of await query(params)) {
        assert.equal(event.tenantId, t.id);
        assert.ok(!otherIds.has(event.id));
      }
    }
  });

  describe('who may read it', () => {
    it('audit.reader and tenant.admin of the tenant may; install admins may', async () => {
      for (const roles of [['audit.reader'], ['tenant.admin']]) {
        const token = await (await adminClient(a, t.name, roles)).token();
        assert.ok((await query({ type: 'token.*' }, token)).length > 0, roles.join());
      }
      expectStatus(await a.call('GET', `/tenants/${t.name}/audit`), 200);
    });

    it('tenant.reader alone is 403 forbidden', async () => {
      const token = await (await adminClient(a, t.name, ['tenant.reader'])).token();
      const res = await a.call('GET', `/tenants/${t.name}/audit`, undefined, token);
      expectError(res, 403, 'forbidden');
      assert.match((res.body as { message: string }).message, /audit\.reader or tenant\.admin/);
    });

    it('another tenant\'s audit.reader is 403 forbidden; no token is 401', async () => {
      const token = await (await adminClient(a, other.name, ['audit.reader'])).token();
      expectStatus(await a.call('GET', `/tenants/${other.name}/audit`, undefined, token), 200);
      expectError(await a.call('GET', `/tenants/${t.name}/audit`, undefined, token), 403, 'forbidden');
      expectError(await a.call('GET', `/tenants/${t.name}/audit`, undefined, null), 401, 'unauthorized');
    });

    it('an unknown tenant is 404', async () => {
      expectError(await a.call('GET', '/tenants/no-such-tenant/audit'), 404, 'not_found');
    });
  });

  describe('bad filters are 400 invalid_request', () => {
    const bad: [string, string][] = [
      ['an unknown parameter', 'actorId=x'],
      ['a time that is not ISO 8601', 'since=yesterday'],
      ['a date without a time', 'since=2025-01-01'],
      ['a date-time without a zone', 'until=2025-01-01T10:00:00'],
      ['an impossible date', 'since=2025-02-30T10:00:00Z'],
      ['since not before until', 'since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z'],
      ['an unknown outcome', 'outcome=maybe'],
      ['a type with a * inside', 'type=tok*n.issued'],
      ['a type with spaces', 'type=token%20issued'],
      ['a repeated filter', 'type=token.issued&type=token.refused'],
      ['a limit above 500', 'limit=501'],
      ['a cursor that is not one', 'cursor=bm90IGEgY3Vyc29y'],
    ];
    for (const [name, qs] of bad) {
      it(name, async () => {
        expectError(await a.call('GET', `/tenants/${t.name}/audit?${qs}`), 400, 'invalid_request');
      });
    }
  });
});
