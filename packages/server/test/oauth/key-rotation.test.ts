import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { runMaintenance } from '../../src/maintenance.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { decodeParts, uniqueResourceId } from './helpers.js';

interface KeyView {
  kid: string;
  status: 'next' | 'active' | 'retired';
  expiresAt: string | null;
}

const HOUR_MS = 3_600_000;
/** Longest token lifetime (SIGNET_ACCESS_TOKEN_TTL_MAX default) plus the 5-minute grace. */
const RETIRED_KEY_PUBLISHED_MS = HOUR_MS + 5 * 60_000;

/** A server with one client holding a role on a fresh resource; tokens and JWKS read through its movable clock. */
async function setUp() {
  const s = await startTestServer();
  const resource = uniqueResourceId();
  const ok = (res: { status: number; body: unknown }, status: number) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    return res.body as any;
  };
  ok(await s.api('POST', '/tenants/default/resources', { identifier: resource, displayName: 'Orders', roles: [{ name: 'orders.read', description: 'read' }] }), 201);
  const principal = ok(await s.api('POST', '/tenants/default/principals', { kind: 'service', displayName: 'rotating client' }), 201);
  const secret = ok(await s.api('POST', `/tenants/default/principals/${principal.id}/credentials`, { type: 'secret' }), 201).secret as string;
  ok(await s.api('POST', '/tenants/default/grants', { principal: principal.id, resource, role: 'orders.read' }), 201);
  const issuer = `${s.url}/default`;
  return {
    s,
    resource,
    issuer,
    token: () => s.tokenFor('default', principal.id, secret, `${resource}/.default`),
    jwks: async () => ((await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet),
    kids: async function () {
      return (await this.jwks()).keys.map((k) => k.kid as string);
    },
    keys: async () => ok(await s.api('GET', '/tenants/default/keys'), 200).items as KeyView[],
    rotate: async () => ok(await s.api('POST', '/tenants/default/keys/rotate'), 200) as { activated: string; retired: string | null },
    /** Verifies at the server's (moved) time against the JWKS as published now. */
    verify: async function (token: string) {
      return jwtVerify(token, createLocalJWKSet(await this.jwks()), { typ: 'at+jwt', issuer, audience: resource, currentDate: new Date(s.now()) });
    },
  };
}
type Fixture = Awaited<ReturnType<typeof setUp>>;

describe('signing key rotation', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await setUp();
  });
  afterEach(() => f.s.close());

  it('a forced rotation activates the pre-published next key, retires the active one, and publishes a fresh next key', async () => {
    const before = await f.keys();
    const active = before.find((k) => k.status === 'active');
    const next = before.find((k) => k.status === 'next');
    assert.ok(active && next);
    assert.ok((await f.kids()).includes(next.kid), 'the next key is published before it signs');

    const rotation = await f.rotate();
    assert.deepEqual(rotation, { activated: next.kid, retired: active.kid });

    const afterRotation = await f.keys();
    assert.equal(afterRotation.find((k) => k.status === 'active')?.kid, next.kid);
    const retired = afterRotation.find((k) => k.kid === active.kid);
    assert.equal(retired?.status, 'retired');
    assert.equal(Date.parse(retired?.expiresAt ?? '') - f.s.now() <= RETIRED_KEY_PUBLISHED_MS, true);
    const fresh = afterRotation.find((k) => k.status === 'next');
    assert.ok(fresh && fresh.kid !== active.kid && fresh.kid !== next.kid);
    assert.deepEqual(new Set(await f.kids()), new Set([active.kid, next.kid, fresh.kid]));
  });

  it('a token signed before a rotation still verifies after it; new tokens carry the previously next kid', async () => {
    const before = await f.token();
    const oldKid = decodeParts(before).header.kid;
    const { activated, retired } = await f.rotate();
    assert.equal(retired, oldKid);

    await f.verify(before);
    const afterwards = await f.token();
    assert.equal(decodeParts(afterwards).header.kid, activated);
    assert.notEqual(activated, oldKid);
    await f.verify(afterwards);
    assert.ok((await f.kids()).includes(oldKid as string), 'the retired key stays published');
  });

  it('a retired key stays published until its last token expired, then leaves the JWKS', async () => {
    const before = await f.token();
    const { retired } = await f.rotate();
    assert.ok(retired);

    f.s.advance(RETIRED_KEY_PUBLISHED_MS - 60_000);
    await runMaintenance(f.s.signet.deps);
    assert.ok((await f.kids()).includes(retired), 'still published inside the window');

    f.s.advance(60_000 + 1_000);
    await runMaintenance(f.s.signet.deps);
    assert.equal((await f.kids()).includes(retired), false, 'the retired key left the JWKS');
    assert.equal((await f.keys()).some((k) => k.kid === retired), false);
    await assert.rejects(f.verify(before));
  });

  it('maintenance deletes a retired key once it left the JWKS: its private half does not outlive its use', async () => {
    const { retired } = await f.rotate();
    assert.ok(retired);
    const row = () => f.s.signet.deps.db.selectFrom('signing_keys').select('id').where('id', '=', retired).execute();
    assert.equal((await row()).length, 1);
    f.s.advance(RETIRED_KEY_PUBLISHED_MS + 1_000);
    await runMaintenance(f.s.signet.deps);
    assert.deepEqual(await row(), [], 'the expired key\'s row, private key included, is still stored');
  });

  it('scheduled rotation: after 24 h, maintenance activates the next key', async () => {
    const before = await f.keys();
    const active = before.find((k) => k.status === 'active');
    const next = before.find((k) => k.status === 'next');
    assert.ok(active && next);

    f.s.advance(HOUR_MS);
    await runMaintenance(f.s.signet.deps);
    assert.equal((await f.keys()).find((k) => k.status === 'active')?.kid, active.kid, 'not due yet');

    f.s.advance(23 * HOUR_MS);
    await runMaintenance(f.s.signet.deps);
    const after = await f.keys();
    assert.equal(after.find((k) => k.status === 'active')?.kid, next.kid);
    assert.equal(after.find((k) => k.kid === active.kid)?.status, 'retired');
    assert.ok(after.some((k) => k.status === 'next' && k.kid !== next.kid));

    const token = await f.token();
    assert.equal(decodeParts(token).header.kid, next.kid);
    await f.verify(token);

    // Maintenance on every node: a second run in the same period rotates nothing more.
    await runMaintenance(f.s.signet.deps);
    assert.equal((await f.keys()).find((k) => k.status === 'active')?.kid, next.kid);
  });
});

describe('signing keys at rest', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('private keys are stored sealed by the master-key envelope (v1.…), never as PEM', async () => {
    const rows = await s.signet.deps.db.selectFrom('signing_keys').select(['id', 'private_key', 'public_jwk']).execute();
    assert.ok(rows.length >= 2);
    for (const row of rows) {
      assert.ok(row.private_key.startsWith('v1.'), `private_key of ${row.id} is not sealed`);
      assert.equal(row.private_key.includes('BEGIN PRIVATE KEY'), false);
      assert.equal(row.private_key.includes('PRIVATE'), false);
      assert.equal('d' in (JSON.parse(row.public_jwk) as Record<string, unknown>), false);
    }
  });

  it('the admin API lists keys without any private material', async () => {
    const res = await s.api('GET', '/tenants/default/keys');
    assert.equal(res.status, 200);
    const text = JSON.stringify(res.body);
    assert.equal(text.includes('v1.'), false);
    assert.equal(text.includes('"d"'), false);
  });
});
