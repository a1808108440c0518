import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { argon2Hasher } from '../../src/people/passwords.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { auditOf, createUser, FormClient, passwordSignIn, type TestUser } from './helpers.js';

describe('people: password sign-in and sessions', () => {
  let server: TestServer;
  let alice: TestUser;

  before(async () => {
    server = await startTestServer();
    alice = await createUser(server, 'default', 'alice');
  });
  after(() => server.close());

  it('signs in with username or email and lands on the account page with a server-side session', async () => {
    for (const name of ['alice', 'ALICE@example.test']) {
      const client = new FormClient(server.url);
      const res = await passwordSignIn(client, 'default', name, alice.password);
      assert.equal(res.status, 303);
      assert.equal(res.location, '/default/account');
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sgn-s-default='));
      assert.match(cookie ?? '', /^sgn-s-default=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      const account = await client.get('/default/account');
      assert.equal(account.status, 200);
      assert.equal(account.textOf('who'), 'Alice Example');
      // Only a keyed digest of the cookie is stored.
      const token = client.cookies.get('sgn-s-default')!;
      const rows = await server.signet.deps.db.selectFrom('people_sessions').select('token_digest').execute();
      assert.ok(rows.every((r) => r.token_digest !== token));
      assert.ok(rows.some((r) => r.token_digest === server.signet.deps.hasher.digest(token)));
    }
    const events = await auditOf(server, 'default', 'session.signed_in');
    assert.equal(events.length, 2);
    assert.deepEqual(events[0]!.data, { amr: ['pwd'], acr: 'urn:signet:acr:pwd' });
    assert.equal(events[0]!.actorId, alice.id);
  });

  it('sends every page with CSP (nonces, frame-ancestors none), X-Frame-Options DENY and no-store', async () => {
    const page = await new FormClient(server.url).get('/default/login');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.body, /<label for="username">/);
    assert.match(page.body, /<label for="password">/);
  });

  it('answers a wrong password and an unknown user identically, and audits each with its reason', async () => {
    const wrong = await passwordSignIn(new FormClient(server.url), 'default', 'alice', 'not the password');
    const unknown = await passwordSignIn(new FormClient(server.url), 'default', 'nobody-here', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.textOf('form-error'), 'The username or password is incorrect.');
    assert.equal(unknown.textOf('form-error'), 'The username or password is incorrect.');
    const failures = await auditOf(server, 'default', 'session.sign_in_failed');
    const reasons = failures.map((f) => f.data.reason);
    assert.ok(reasons.includes('wrong_password'));
    assert.ok(reasons.includes('unknown_user'));
    const unknownEvent = failures.find((f) => f.data.reason === 'unknown_user')!;
    assert.equal(unknownEvent.actorId, null);
    assert.match(String(unknownEvent.data.loginNameDigest), /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!JSON.stringify(unknownEvent.data).includes('nobody-here'));
  });

  it('takes comparable time for unknown users and wrong passwords (a dummy argon2id verification)', async () => {
    const stored = (await server.signet.deps.db.selectFrom('people_passwords').select('hash').where('user_id', '=', alice.id).executeTakeFirstOrThrow()).hash;
    const time = async (name: string) => {
      const t0 = performance.now();
      await server.signet.services.people.passwords.verify(name === 'alice' ? stored : undefined, 'wrong');
      return performance.now() - t0;
    };
    await time('nobody');
    // The fastest of several runs of each: other work on a busy machine only ever adds time.
    let known = Infinity;
    let unknown = Infinity;
    for (let i = 0; i < 6; i++) {
      known = Math.min(known, await time('alice'));
      unknown = Math.min(unknown, await time('nobody'));
    }
    const ratio = unknown / known;
    assert.ok(ratio > 0.6 && ratio < 1.6, `unknown/known verification time ratio ${ratio.toFixed(2)}`);
  });

  it('refuses a form without a valid CSRF token', async () => {
    const client = new FormClient(server.url);
    await client.get('/default/login');
    const res = await client.post('/default/login', { username: 'alice', password: alice.password, csrf: 'forged' });
    assert.equal(res.status, 403);
    assert.equal(client.cookies.has('sgn-s-default'), false);
    const noCookie = await new FormClient(server.url).post('/default/login', { username: 'alice', password: alice.password });
    assert.equal(noCookie.status, 403);
  });

  it('returns only to same-origin paths of the tenant (no open redirect)', async () => {
    const cases: [string, string][] = [
      ['/default/oauth2/authorize/continue?request=abc', '/default/oauth2/authorize/continue?request=abc'],
      ['https://evil.example/x', '/default/account'],
      ['//evil.example/default/x', '/default/account'],
      ['/\\evil.example/default/x', '/default/account'],
      ['/other-tenant/account', '/default/account'],
      ['/default/../admin/v1/tenants', '/default/account'],
    ];
    for (const [returnTo, expected] of cases) {
      const res = await passwordSignIn(new FormClient(server.url), 'default', 'alice', alice.password, `?return_to=${encodeURIComponent(returnTo)}`);
      assert.equal(res.location, expected, returnTo);
    }
  });

  it('ends a session after the idle timeout and after its absolute lifetime', async () => {
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'alice', alice.password);
    server.advance(29 * 60_000);
    assert.equal((await client.get('/default/account')).status, 200);
    server.advance(29 * 60_000);
    assert.equal((await client.get('/default/account')).status, 200, 'activity keeps the session alive');
    server.advance(31 * 60_000);
    const idle = await client.get('/default/account');
    assert.equal(idle.status, 303);
    assert.equal(idle.location, `${server.url}/default/login?return_to=%2Fdefault%2Faccount`);

    const client2 = new FormClient(server.url);
    await passwordSignIn(client2, 'default', 'alice', alice.password);
    for (let i = 0; i < 25; i++) {
      server.advance(29 * 60_000);
      await client2.get('/default/account');
    }
    assert.equal((await client2.get('/default/account')).status, 303, '12 hours after sign-in the session is over');
  });

  it('signs out: the session is deleted and audited', async () => {
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'alice', alice.password);
    const token = client.cookies.get('sgn-s-default')!;
    const out = await client.submit('/default/account', '/default/logout', {});
    assert.equal(out.status, 200);
    assert.equal((await client.get('/default/account')).status, 303);
    const stale = new FormClient(server.url);
    stale.cookies.set('sgn-s-default', token);
    assert.equal((await stale.get('/default/account')).status, 303);
    assert.ok((await auditOf(server, 'default', 'session.signed_out')).some((e) => e.actorId === alice.id));
  });

  it('re-hashes a password stored with weaker argon2id parameters at the next sign-in', async () => {
    const bob = await createUser(server, 'default', 'bob');
    const tenant = await server.signet.services.tenants.resolve('default');
    const weak = await argon2Hasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 }).hash(bob.password);
    await server.signet.deps.db.updateTable('people_passwords').set({ hash: weak }).where('tenant_id', '=', tenant.id).where('user_id', '=', bob.id).execute();
    const res = await passwordSignIn(new FormClient(server.url), 'default', 'bob', bob.password);
    assert.equal(res.status, 303);
    const row = await server.signet.deps.db.selectFrom('people_passwords').select('hash').where('user_id', '=', bob.id).executeTakeFirstOrThrow();
    assert.match(row.hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'bob', bob.password)).status, 303);
  });

  it('refuses a disabled user with the same answer as a wrong password, and ends their sessions', async () => {
    const carol = await createUser(server, 'default', 'carol');
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'carol', carol.password);
    assert.equal((await server.api('POST', `/tenants/default/principals/${carol.id}/disable`)).status, 200);
    assert.equal((await client.get('/default/account')).status, 303);
    const res = await passwordSignIn(new FormClient(server.url), 'default', 'carol', carol.password);
    assert.equal(res.status, 401);
    assert.equal(res.textOf('form-error'), 'The username or password is incorrect.');
    assert.ok((await auditOf(server, 'default', 'session.sign_in_failed')).some((e) => e.data.reason === 'user_inactive' && e.actorId === carol.id));
  });
});
