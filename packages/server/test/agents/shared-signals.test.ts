import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { rmSync } from 'node:fs';
import { createSignet, type Signet } from '../../src/main.js';
import { guardedLookup, receiverUrlProblem } from '../../src/ssf/url-guard.js';
import { startTestServer } from '../helpers/server.js';
import { addSecret, adminOf, createPrincipal, createTenant, expectError, expectStatus, startAdmin, type Admin, type PrincipalView, type TenantView } from '../admin/helpers.js';
import { createAgent, createBlueprint, timeUntil } from './helpers.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';

interface Push {
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** A receiver on loopback that records pushes and answers with the next status of `statuses` (then 202). */
async function startReceiver(): Promise<{ url: string; pushes: Push[]; statuses: number[]; close(): Promise<void> }> {
  const pushes: Push[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      pushes.push({ contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      res.statusCode = statuses.shift() ?? 202;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/events`, pushes, statuses, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('shared signals: stops pushed as CAEP Security Event Tokens (RFC 8417, RFC 8935)', () => {
  let a: Admin;
  let tenant: TenantView;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sponsor: PrincipalView;
  let blueprint: string;
  let issuer: string;

  before(async () => {
    a = await startAdmin({ SIGNET_SSF_ALLOW_HTTP_LOOPBACK: 'true' });
    tenant = await createTenant(a);
    issuer = `${a.s.url}/${tenant.name}`;
    receiver = await startReceiver();
    sponsor = await createPrincipal(a, tenant.name, { kind: 'user' });
    blueprint = (await createBlueprint(a, tenant.name)).id;
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/ssf/receivers`, { endpointUrl: receiver.url, audience: 'https://rs.example', authorization: 'Bearer receiver-secret' }), 201);
  });
  after(async () => {
    await a.close();
    await receiver.close();
  });

  /** Waits for the next push and verifies it as a SET signed by the tenant's key. */
  async function nextSet(after: number): Promise<{ push: Push; payload: Record<string, any>; header: Record<string, unknown> }> {
    await timeUntil(async () => receiver.pushes.length > after, 10_000, 20);
    const push = receiver.pushes[after] as Push;
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(push.body, createLocalJWKSet(jwks), { issuer, audience: 'https://rs.example', typ: 'secevent+jwt', currentDate: new Date(a.s.now()) });
    return { push, payload: payload as Record<string, any>, header: protectedHeader as Record<string, unknown> };
  }

  it('disabling a principal pushes a signed session-revoked SET with the receiver\'s Authorization header', async () => {
    const agent = await createAgent(a, tenant.name, blueprint, [sponsor.id]);
    const seen = receiver.pushes.length;
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${agent.id}/disable`), 200);
    const { push, payload, header } = await nextSet(seen);
    assert.equal(push.contentType, 'application/secevent+jwt');
    assert.equal(push.authorization, 'Bearer receiver-secret');
    assert.equal(header.typ, 'secevent+jwt');
    assert.equal(typeof payload.jti, 'string');
    assert.deepEqual(payload.sub_id, { format: 'iss_sub', iss: issuer, sub: agent.id });
    const event = payload.events[SESSION_REVOKED];
    assert.equal(event.initiating_entity, 'admin');
    assert.deepEqual(event.subject, { format: 'iss_sub', iss: issuer, sub: agent.id });
    assert.deepEqual(event.reason_admin, { en: 'principal disabled' });
  });

  it('a sponsor leaving pushes the suspension (initiating_entity policy); a credential removal pushes credential-change', async () => {
    const lone = await createPrincipal(a, tenant.name, { kind: 'user' });
    const agent = await createAgent(a, tenant.name, blueprint, [lone.id]);
    let seen = receiver.pushes.length;
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${lone.id}/disable`), 200);
    await timeUntil(async () => receiver.pushes.length >= seen + 2, 10_000, 20);
    const sets = await Promise.all([nextSet(seen), nextSet(seen + 1)]);
    const suspended = sets.find((s) => s.payload.sub_id.sub === agent.id);
    assert.ok(suspended);
    assert.equal(suspended.payload.events[SESSION_REVOKED].initiating_entity, 'policy');

    const service = await createPrincipal(a, tenant.name, { kind: 'service' });
    await addSecret(a, tenant.name, service.id);
    const [credential] = expectStatus(await a.call<{ items: { id: string }[] }>('GET', `/tenants/${tenant.name}/principals/${service.id}/credentials`), 200).items;
    seen = receiver.pushes.length;
    expectStatus(await a.call('DELETE', `/tenants/${tenant.name}/principals/${service.id}/credentials/${credential?.id}`), 204);
    const { payload } = await nextSet(seen);
    assert.equal(payload.sub_id.sub, service.id);
    assert.equal(payload.events[CREDENTIAL_CHANGE].change_type, 'delete');
    assert.equal(payload.events[CREDENTIAL_CHANGE].credential_type, 'client-secret');
  });

  it('a receiver that fails is retried with backoff until it answers 202', async () => {
    const agent = await createAgent(a, tenant.name, blueprint, [sponsor.id]);
    receiver.statuses.push(503);
    const seen = receiver.pushes.length;
    expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${agent.id}/disable`), 200);
    await timeUntil(async () => receiver.pushes.length > seen, 10_000, 20);
    const [listed] = expectStatus(await a.call<{ items: { id: string; pending: number }[] }>('GET', `/tenants/${tenant.name}/ssf/receivers`), 200).items;
    assert.equal(listed?.pending, 1, 'the refused signal waits in the outbox');
    a.s.advance(3000); // past the first backoff (1–1.2 s)
    const retried = await nextSet(seen + 1);
    assert.equal(retried.payload.jti, (await nextSet(seen)).payload.jti, 'the retry is the same event (same jti)');
    await timeUntil(async () => expectStatus(await a.call<{ items: { pending: number }[] }>('GET', `/tenants/${tenant.name}/ssf/receivers`), 200).items[0]?.pending === 0, 5000, 50);
  });

  it('receiver URLs are SSRF-guarded at registration: https on a public address only', async () => {
    const path = `/tenants/${tenant.name}/ssf/receivers`;
    expectError(await a.call('POST', path, { endpointUrl: 'http://receiver.example/events' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { endpointUrl: 'https://10.0.0.7/events' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { endpointUrl: 'https://169.254.169.254/latest' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { endpointUrl: 'https://user:pw@receiver.example/events' }), 400, 'invalid_request');
    expectError(await a.call('POST', path, { endpointUrl: 'ftp://receiver.example/events' }), 400, 'invalid_request');
    // Without SIGNET_SSF_ALLOW_HTTP_LOOPBACK, loopback is refused too, on http and https alike.
    assert.equal(receiverUrlProblem('http://127.0.0.1:9/x', false), 'endpointUrl must be https');
    assert.equal(receiverUrlProblem('https://127.0.0.1/x', false), 'endpointUrl must be on a public address');
    assert.equal(receiverUrlProblem('https://[::1]/x', false), 'endpointUrl must be on a public address');
    assert.equal(receiverUrlProblem('https://localhost/x', false), 'endpointUrl must be on a public address');
    assert.equal(receiverUrlProblem('https://[fd00::1]/x', false), 'endpointUrl must be on a public address');
    assert.equal(receiverUrlProblem('https://receiver.example/events', false), null);
    assert.equal(receiverUrlProblem('http://127.0.0.1:9/x', true), null);
  });

  it('at connection time a name that resolves to a non-public address is refused (ESSRF), after DNS', async () => {
    const resolve = (allow: boolean) =>
      new Promise<{ code?: string; address?: unknown }>((done) => guardedLookup(allow)('localhost', {}, (error, address) => done({ code: error?.code, address })));
    assert.equal((await resolve(false)).code, 'ESSRF');
    const allowed = await resolve(true);
    assert.equal(allowed.code, undefined);
    assert.match(String(allowed.address), /^(127\.0\.0\.1|::1)$/);
  });

  it('receivers are listed without their Authorization header and can be removed (audited)', async () => {
    const list = expectStatus(await a.call<{ items: Record<string, unknown>[] }>('GET', `/tenants/${tenant.name}/ssf/receivers`), 200);
    const first = list.items[0];
    assert.ok(first);
    assert.equal(first.hasAuthorization, true);
    assert.equal(JSON.stringify(list).includes('receiver-secret'), false);
    const extra = expectStatus(await a.call<{ id: string }>('POST', `/tenants/${tenant.name}/ssf/receivers`, { endpointUrl: 'https://receiver.example/events' }), 201);
    expectStatus(await a.call('DELETE', `/tenants/${tenant.name}/ssf/receivers/${extra.id}`), 204);
    expectError(await a.call('GET', `/tenants/${tenant.name}/ssf/receivers/${extra.id}`), 404, 'not_found');
  });
});

describe('shared signals: the outbox survives a restart', () => {
  it('a signal the receiver refused before the restart is delivered by the restarted server', async () => {
    const s = await startTestServer({ SIGNET_SSF_ALLOW_HTTP_LOOPBACK: 'true' });
    const a = await adminOf(s);
    const receiver = await startReceiver();
    let restarted: Signet | undefined;
    try {
      const tenant = await createTenant(a);
      expectStatus(await a.call('POST', `/tenants/${tenant.name}/ssf/receivers`, { endpointUrl: receiver.url }), 201);
      const user = await createPrincipal(a, tenant.name, { kind: 'user' });
      receiver.statuses.push(503);
      expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${user.id}/disable`), 200);
      await timeUntil(async () => receiver.pushes.length === 1, 10_000, 20);
      await s.signet.close();
      restarted = await createSignet(s.signet.deps.config, { maintenanceIntervalMs: 3_600_000 });
      await timeUntil(async () => receiver.pushes.length === 2, 10_000, 50);
      const jti = (body: string | undefined) => JSON.parse(Buffer.from((body ?? '').split('.')[1] ?? '', 'base64url').toString()).jti as string;
      assert.equal(jti(receiver.pushes[1]?.body), jti(receiver.pushes[0]?.body));
      await timeUntil(async () => (await restarted?.deps.db.selectFrom('ssf_outbox').select('delivered_at').executeTakeFirst())?.delivered_at != null, 5000, 50);
      const rows = await restarted.deps.db.selectFrom('ssf_outbox').select(['delivered_at', 'attempts']).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.attempts, 2);
    } finally {
      await restarted?.close();
      await receiver.close();
      rmSync(s.dataDir, { recursive: true, force: true });
    }
  });
});
