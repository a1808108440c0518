import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEventView } from '../../src/audit/routes.js';
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
  jwtPayload,
  type Admin,
  type ResourceView,
  type TenantView,
} from '../admin/helpers.js';
import { describeEachServerBackend } from '../contract/backends.js';
import { startTestServer } from '../helpers/server.js';


interface Message {
  id: string;
  event: string;
  data: AuditEventView;
}

/** A minimal EventSource over fetch: parses `id:`/`event:`/`data:` blocks, skips comments. */
class SseClient {
  private readonly queue: Message[] = [];
  private waiter: (() => void) | undefined;
  private buffer = '';
  ended = false;
  comments: string[] = [];

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.read();
  }

  static async open(url: string, token: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: abort.signal });
    return new SseClient(response, abort);
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line);
            else fields.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2));
          }
          const data = fields.get('data');
          if (data !== undefined) this.queue.push({ id: fields.get('id') ?? '', event: fields.get('event') ?? '', data: JSON.parse(data) as AuditEventView });
          this.waiter?.();
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
    this.waiter?.();
  }

  /** The next `n` events, failing after `timeoutMs`. */
  async take(n: number, timeoutMs = 5000): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length < n) {
      if (this.ended) throw new Error(`the stream ended after ${this.queue.length} of ${n} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.queue.length} of ${n} events within ${timeoutMs} ms: ${this.queue.map((m) => m.event).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.queue.splice(0, n);
  }

  /** Asserts that nothing more arrives for a while (longer than a poll). */
  async expectQuiet(ms = 1200): Promise<void> {
    await sleep(ms);
    assert.deepEqual(this.queue.map((m) => `${m.event} ${m.id}`), []);
  }

  close(): void {
    this.abort.abort();
  }
}

describeEachServerBackend('audit API: live stream (Server-Sent Events)', (server) => {
  let a: Admin;
  let t: TenantView;
  let client = { id: '', secret: '' };
  let streamUrl = '';

  const issue = async () => jwtPayload(await a.s.tokenFor(t.name, client.id, client.secret, 'api://stream/.default')).jti as string;
  const refuse = async () => assert.equal((await a.s.token(t.name, client.id, client.secret, { scope: 'api://nowhere/.default' })).status, 400);

  before(async () => {
    a = await adminOf(server());
    t = await createTenant(a);
    const api = expectStatus(await a.call<ResourceView>('POST', `/tenants/${t.name}/resources`, { identifier: 'api://stream', displayName: 'Stream', roles: [{ name: 'read', description: 'read' }] }), 201);
    const p = await createPrincipal(a, t.name, { kind: 'service' });
    client = { id: p.id, secret: await addSecret(a, t.name, p.id) };
    await grant(a, t.name, p.id, api.id, 'read');
    streamUrl = `${a.s.adminApi}/tenants/${t.name}/audit/stream`;
  });

  it('sends events as they happen, starting now: token decisions at once, directory changes within a poll', async () => {
    const before = await issue();
    const stream = await SseClient.open(streamUrl, a.token);
    try {
      assert.equal(stream.response.status, 200);
      assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(stream.response.headers.get('cache-control'), 'no-store');
      const jtis = [await issue(), await issue()];
      const issued = await stream.take(2);
      assert.deepEqual(issued.map((m) => m.data.jti), jtis, 'the two new tokens, not the one before the stream opened');
      assert.ok(!issued.some((m) => m.data.jti === before));
      for (const m of issued) {
        assert.equal(m.event, 'token.issued');
        assert.equal(m.id, m.data.id);
        assert.equal(m.data.tenantId, t.id);
        assert.match(m.data.time, /^\d{4}-\d\d-\d\dT/);
      }
      const created = await createPrincipal(a, t.name, { kind: 'service' });
      const [change] = await stream.take(1);
      assert.equal(change?.event, 'principal.created');
      assert.equal(change?.data.targetId, created.id);
    } finally {
      stream.close();
    }
  });

  it('resumes with Last-Event-ID: exactly the events missed while disconnected, none twice', async () => {
    const first = await SseClient.open(streamUrl, a.token);
    await issue();
    await issue();
    const seen = await first.take(2);
    first.close();
    const last = seen[1]?.id ?? '';

    await issue();
    await refuse();
    await issue();
    await createPrincipal(a, t.name, { kind: 'service' });
    const missed = (await auditEvents(a, t.id)).filter((e) => e.id > last).reverse();
    assert.equal(missed.length, 4);

    const resumed = await SseClient.open(streamUrl, a.token, { 'last-event-id': last });
    try {
      const got = await resumed.take(4);
      assert.deepEqual(got.map((m) => m.id), missed.map((e) => e.id));
      assert.deepEqual(got.map((m) => m.event), ['token.issued', 'token.refused', 'token.issued', 'principal.created']);
      await resumed.expectQuiet();
      const next = await issue();
      const [live] = await resumed.take(1);
      assert.equal(live?.data.jti, next, 'and then carries on live');
    } finally {
      resumed.close();
    }
  });

  it('filters like the query API, and resumes from ?lastEventId= too', async () => {
    const refusals = await SseClient.open(`${streamUrl}?type=token.refused`, a.token);
    let lastRefusal = '';
    try {
      await issue();
      await refuse();
      await issue();
      const [refusal] = await refusals.take(1);
      assert.equal(refusal?.event, 'token.refused');
      assert.equal(refusal?.data.outcome, 'failure');
      assert.equal(refusal?.data.data.error, 'invalid_scope');
      await refusals.expectQuiet(700);
      lastRefusal = refusal?.id ?? '';
    } finally {
      refusals.close();
    }
    await refuse();
    const resumed = await SseClient.open(`${streamUrl}?type=token.*&outcome=failure&lastEventId=${lastRefusal}`, a.token);
    try {
      const [next] = await resumed.take(1);
      assert.equal(next?.event, 'token.refused');
      assert.ok((next?.id ?? '') > lastRefusal);
    } finally {
      resumed.close();
    }
  });

  it('with since, replays from that time before going live', async () => {
    const events = (await auditEvents(a, t.id)).reverse();
    const from = events[events.length - 3];
    assert.ok(from);
    const expected = events.filter((e) => e.time >= from.time).map((e) => e.id);
    const stream = await SseClient.open(`${streamUrl}?since=${new Date(from.time).toISOString()}`, a.token);
    try {
      assert.deepEqual((await stream.take(expected.length)).map((m) => m.id), expected);
    } finally {
      stream.close();
    }
  });

  it('refuses before streaming: 400 for a bad Last-Event-ID or an unknown parameter, 403 without audit.reader', async () => {
    for (const [url, headers] of [
      [streamUrl, { 'last-event-id': 'not-an-id' }],
      [`${streamUrl}?lastEventId=42`, {}],
      [`${streamUrl}?until=2030-01-01T00:00:00Z`, {}],
      [`${streamUrl}?cursor=abc`, {}],
    ] as const) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${a.token}`, ...headers } });
      assert.equal(res.status, 400, url);
      assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
    }
    const reader = await (await adminClient(a, t.name, ['tenant.reader'])).token();
    const res = await fetch(streamUrl, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'forbidden');
    const auditReader = await (await adminClient(a, t.name, ['audit.reader'])).token();
    const allowed = await SseClient.open(streamUrl, auditReader);
    assert.equal(allowed.response.status, 200);
    allowed.close();
    expectError(await a.call('GET', `/tenants/${t.name}/audit/stream`, undefined, null), 401, 'unauthorized');
  });

  it('ends when the token it was opened with expires (the client reconnects with a fresh one)', async () => {
    const token = await a.s.adminToken();
    const lifetime = (jwtPayload(token).exp as number) * 1000 - a.s.now();
    a.s.advance(lifetime - 1500);
    try {
      const stream = await SseClient.open(streamUrl, token);
      assert.equal(stream.response.status, 200);
      for (let i = 0; i < 100 && !stream.ended; i += 1) await sleep(50);
      assert.ok(stream.ended, 'the stream ended with its token');
    } finally {
      a.s.advance(-(lifetime - 1500));
    }
  });
});

describe('audit API: live stream at shutdown', () => {
  it('closing the server ends open streams instead of waiting for them', async () => {
    const s = await startTestServer();
    const stream = await SseClient.open(`${s.adminApi}/tenants/default/audit/stream`, await s.adminToken());
    assert.equal(stream.response.status, 200);
    const started = Date.now();
    await Promise.race([s.close(), sleep(5000).then(() => Promise.reject(new Error('close() hung on an open stream')))]);
    assert.ok(Date.now() - started < 5000);
    for (let i = 0; i < 50 && !stream.ended; i += 1) await sleep(20);
    assert.ok(stream.ended, 'the client saw the stream end');
  });

  it('a client that stops reading neither buffers the trail in the server nor holds its close', async () => {
    const s = await startTestServer();
    const tenantId = (await s.signet.services.tenants.resolve('default')).id;
    const padding = 'x'.repeat(900);
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => s.signet.deps.audit.record({ tenantId, type: 'token.refused', outcome: 'failure', data: { error: 'invalid_client', reason: `${i} ${padding}` } })));
    const abort = new AbortController();
    const res = await fetch(`${s.adminApi}/tenants/default/audit/stream?since=2000-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${await s.adminToken()}` }, signal: abort.signal });
    assert.equal(res.status, 200);
    await sleep(500); // the body is never read: the server's writes back up
    const started = Date.now();
    await Promise.race([s.close(), sleep(5000).then(() => Promise.reject(new Error('close() hung on a stalled stream')))]);
    assert.ok(Date.now() - started < 5000);
    abort.abort();
  });
});
