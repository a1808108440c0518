import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { auditOf, createUser, FormClient, type Page, passwordSignIn, type TestUser } from './helpers.js';

/** The code an authenticator app shows at the server's current time (optionally `offsetSteps` later). */
function totpAt(server: TestServer, secret: string, offsetSteps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(server.now() / 1000) + offsetSteps * 30 });
}

function recoveryCodes(page: Page): string[] {
  return [...page.body.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
}

describe('people: TOTP, recovery codes and required MFA', () => {
  let server: TestServer;
  let alice: TestUser;
  let secret = '';
  let codes: string[] = [];

  before(async () => {
    server = await startTestServer();
    alice = await createUser(server, 'default', 'alice');
  });
  after(() => server.close());

  it('enrols an authenticator app from the account page: QR code, a first code, recovery codes', async () => {
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'alice', alice.password);
    const setup = await client.submit('/default/account', '/default/account/totp', {});
    assert.equal(setup.status, 200);
    assert.match(setup.body, /<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" width="220" height="220" alt="QR code for your authenticator app">/);
    secret = setup.textOf('totp-secret')!;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const fields = setup.hiddenFields('/default/account/totp/confirm');
    const wrong = await client.post('/default/account/totp/confirm', { ...fields, code: '000000' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.textOf('form-error'), 'That code is not valid. Try the current code.');
    const done = await client.post('/default/account/totp/confirm', { ...fields, code: await totpAt(server, secret) });
    assert.equal(done.status, 200);
    codes = recoveryCodes(done);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    // The secret is sealed at rest; recovery codes are stored as digests.
    const factor = await server.signet.deps.db.selectFrom('people_factors').selectAll().where('user_id', '=', alice.id).executeTakeFirstOrThrow();
    assert.match(factor.secret!, /^v1\./);
    assert.ok(!factor.secret!.includes(secret));
    const stored = await server.signet.deps.db.selectFrom('people_recovery_codes').select('digest').where('user_id', '=', alice.id).execute();
    assert.ok(stored.every((r) => !codes.some((c) => r.digest.includes(c.replace('-', '')))));
    const enrolled = await auditOf(server, 'default', 'mfa.enrolled');
    assert.equal(enrolled.length, 1);
    assert.deepEqual(enrolled[0]!.data.after, { principalId: alice.id, kind: 'user', factorId: factor.id, factorType: 'totp' });
  });

  it('asks for the code after the password, refuses a wrong one and a replayed one, and signs in with acr mfa', async () => {
    server.advance(60_000);
    const client = new FormClient(server.url);
    const first = await passwordSignIn(client, 'default', 'alice', alice.password);
    assert.equal(first.location, '/default/login/mfa');
    assert.equal((await client.get('/default/account')).status, 303, 'no session before the second step');
    const wrong = await client.submit('/default/login/mfa', '/default/login/mfa', { code: '123456' });
    assert.equal(wrong.status, 401);
    const code = await totpAt(server, secret);
    const ok = await client.submit('/default/login/mfa', '/default/login/mfa', { code });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/default/account');
    const signedIn = (await auditOf(server, 'default', 'session.signed_in')).at(-1)!;
    assert.deepEqual(signedIn.data, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' });

    const replay = new FormClient(server.url);
    await passwordSignIn(replay, 'default', 'alice', alice.password);
    const again = await replay.submit('/default/login/mfa', '/default/login/mfa', { code });
    assert.equal(again.status, 401);
    assert.equal((await auditOf(server, 'default', 'session.sign_in_failed')).at(-1)!.data.reason, 'code_replayed');
    const next = await replay.submit('/default/login/mfa', '/default/login/mfa', { code: await totpAt(server, secret, 1) });
    assert.equal(next.status, 303, 'the next step’s code is accepted (one step of drift)');
  });

  it('accepts each recovery code once', async () => {
    const c2 = new FormClient(server.url);
    await passwordSignIn(c2, 'default', 'alice', alice.password);
    const page = await c2.get('/default/login/mfa');
    const csrf = page.hiddenFields('/default/login/mfa').csrf!;
    const once = await c2.post('/default/login/mfa', { csrf, method: 'recovery', code: codes[1]!.toUpperCase().replace('-', ' ') });
    assert.equal(once.status, 303);
    const c3 = new FormClient(server.url);
    await passwordSignIn(c3, 'default', 'alice', alice.password);
    const csrf3 = (await c3.get('/default/login/mfa')).hiddenFields('/default/login/mfa').csrf!;
    const twice = await c3.post('/default/login/mfa', { csrf: csrf3, method: 'recovery', code: codes[1]! });
    assert.equal(twice.status, 401);
    assert.equal(twice.textOf('form-error'), 'That recovery code is not valid or was already used.');
  });

  it('makes a user without a second factor set one up when the tenant requires MFA', async () => {
    const bob = await createUser(server, 'default', 'bob');
    assert.equal((await server.api('PATCH', '/tenants/default', { settings: { requireMfa: true } })).status, 200);
    try {
      const client = new FormClient(server.url);
      const res = await passwordSignIn(client, 'default', 'bob', bob.password, '?return_to=%2Fdefault%2Faccount');
      assert.equal(res.location, '/default/login/enroll');
      assert.equal((await client.get('/default/account')).status, 303);
      const page = await client.get('/default/login/enroll');
      const bobSecret = page.textOf('totp-secret')!;
      const done = await client.post('/default/login/enroll', { ...page.hiddenFields('/default/login/enroll'), code: await totpAt(server, bobSecret) });
      assert.equal(done.status, 200);
      assert.equal(recoveryCodes(done).length, 10);
      assert.match(done.body, /<a href="\/default\/account" id="continue">/);
      assert.equal((await client.get('/default/account')).status, 200);
      assert.deepEqual((await auditOf(server, 'default', 'session.signed_in')).at(-1)!.data, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' });
    } finally {
      await server.api('PATCH', '/tenants/default', { settings: { requireMfa: false } });
    }
  });

  it('removes a factor only after a recent sign-in', async () => {
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'alice', alice.password);
    server.advance(90_000);
    assert.equal((await client.submit('/default/login/mfa', '/default/login/mfa', { code: await totpAt(server, secret) })).status, 303);
    const factor = await server.signet.deps.db.selectFrom('people_factors').select('id').where('user_id', '=', alice.id).executeTakeFirstOrThrow();
    server.advance(16 * 60_000);
    await client.get('/default/account');
    const stale = await client.submit('/default/account', `/default/account/factors/${factor.id}/remove`, {});
    assert.equal(stale.status, 303);
    assert.match(stale.location!, /\/default\/login\?return_to=%2Fdefault%2Faccount&prompt=login$/);
    assert.equal((await server.api('GET', `/tenants/default/principals/${alice.id}/sign-in-methods`)).body.factors.length, 1);
  });
});

describe('people: step-up and admin recovery', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('asks a password-only session to sign in again when a client requires MFA, and makes a user without a factor enrol', async () => {
    const gus = await createUser(server, 'default', 'gus');
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'gus', gus.password);
    assert.equal((await client.get('/default/login')).status, 303, 'a live session skips the sign-in page');
    assert.equal((await client.get('/default/login?mfa=required')).status, 200, 'but not when MFA is required and the session has none');
    const res = await passwordSignIn(client, 'default', 'gus', gus.password, '?mfa=required&return_to=%2Fdefault%2Faccount');
    assert.equal(res.location, '/default/login/enroll');
  });

  it('lets an admin remove the factor of a user who lost it', async () => {
    const hana = await createUser(server, 'default', 'hana');
    const client = new FormClient(server.url);
    await passwordSignIn(client, 'default', 'hana', hana.password);
    const setup = await client.submit('/default/account', '/default/account/totp', {});
    const secret = setup.textOf('totp-secret')!;
    await client.post('/default/account/totp/confirm', { ...setup.hiddenFields('/default/account/totp/confirm'), code: await totpAt(server, secret) });
    const methods = await server.api('GET', `/tenants/default/principals/${hana.id}/sign-in-methods`);
    assert.deepEqual([methods.body.hasPassword, methods.body.mustChangePassword, methods.body.factors.map((f: { type: string }) => f.type)], [true, false, ['totp']]);
    const factorId = methods.body.factors[0].id;
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'hana', hana.password)).location, '/default/login/mfa');
    const missing = await server.api('DELETE', `/tenants/default/principals/${hana.id}/factors/no-such-factor`);
    assert.deepEqual([missing.status, missing.body.code], [404, 'not_found']);
    assert.equal((await server.api('DELETE', `/tenants/default/principals/${hana.id}/factors/${factorId}`)).status, 204);
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'hana', hana.password)).location, '/default/account');
    const removed = (await auditOf(server, 'default', 'mfa.removed')).at(-1)!;
    assert.equal(removed.actorId, server.admin.client_id);
    assert.equal(removed.targetId, hana.id);
  });
});

describe('people: temporary passwords and invitations', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('makes a user with a temporary password choose a new one, refusing common ones', async () => {
    const dana = await createUser(server, 'default', 'dana', { temporary: true });
    const client = new FormClient(server.url);
    const res = await passwordSignIn(client, 'default', 'dana', dana.password);
    assert.equal(res.location, '/default/login/password');
    assert.equal((await client.get('/default/account')).status, 303);
    const common = await client.submit('/default/login/password', '/default/login/password', { new_password: 'Password123', confirm_password: 'Password123' });
    assert.equal(common.status, 400);
    assert.equal(common.textOf('form-error'), 'this password is on the list of commonly used passwords; choose another');
    const mismatch = await client.submit('/default/login/password', '/default/login/password', { new_password: 'a long new secret 1', confirm_password: 'a long new secret 2' });
    assert.equal(mismatch.textOf('form-error'), 'The two passwords are not the same.');
    const ok = await client.submit('/default/login/password', '/default/login/password', { new_password: 'dana chose this one', confirm_password: 'dana chose this one' });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/default/account');
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'dana', dana.password)).status, 401);
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'dana', 'dana chose this one')).location, '/default/account');
    assert.equal((await auditOf(server, 'default', 'password.changed')).length, 1);
  });

  it('generates a temporary password when none is given, and refuses bad requests with exact errors', async () => {
    const erin = await server.api('POST', '/tenants/default/principals', { kind: 'user', displayName: 'Erin', email: 'Erin@Example.test' });
    assert.equal(erin.body.email, 'erin@example.test');
    const set = await server.api('POST', `/tenants/default/principals/${erin.body.id}/temporary-password`, {});
    assert.equal(set.status, 201);
    assert.match(set.body.temporaryPassword, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(set.body.loginUrl, `${server.url}/default/login`);
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'erin@example.test', set.body.temporaryPassword)).location, '/default/login/password');

    const common = await server.api('POST', `/tenants/default/principals/${erin.body.id}/temporary-password`, { password: 'qwertyuiop' });
    assert.equal(common.status, 400);
    assert.deepEqual(common.body, { code: 'invalid_request', message: 'this password is on the list of commonly used passwords; choose another' });
    const service = await server.api('POST', '/tenants/default/principals', { kind: 'service', displayName: 'svc' });
    const notUser = await server.api('POST', `/tenants/default/principals/${service.body.id}/temporary-password`, {});
    assert.equal(notUser.status, 400);
    assert.equal(notUser.body.code, 'invalid_request');
    const named = await server.api('POST', '/tenants/default/principals', { kind: 'service', displayName: 'svc2', username: 'svc2' });
    assert.deepEqual(named.body, { code: 'invalid_request', message: 'principals of kind "service" have no username or email' });
    const taken = await server.api('POST', '/tenants/default/principals', { kind: 'user', displayName: 'Other Erin', email: 'ERIN@example.test' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'conflict');
  });

  it('lets an invited user choose a password through a single-use link', async () => {
    const fay = await server.api('POST', '/tenants/default/principals', { kind: 'user', displayName: 'Fay', username: 'fay' });
    const inv = await server.api('POST', `/tenants/default/principals/${fay.body.id}/invitations`, { expiresInHours: 1 });
    assert.equal(inv.status, 201);
    const url = new URL(inv.body.url);
    assert.equal(url.pathname, '/default/invitation');
    const token = url.searchParams.get('token')!;
    const stored = await server.signet.deps.db.selectFrom('people_invitations').select('digest').execute();
    assert.ok(stored.every((r) => r.digest !== token));
    const client = new FormClient(server.url);
    const path = `${url.pathname}${url.search}`;
    const weak = await client.submit(path, '/default/invitation', { new_password: 'short', confirm_password: 'short' });
    assert.equal(weak.textOf('form-error'), 'the password must have at least 8 characters');
    const ok = await client.submit(path, '/default/invitation', { new_password: 'fay picked this', confirm_password: 'fay picked this' });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/default/login?notice=invited');
    assert.equal((await client.get(ok.location!)).body.includes('<p class="notice" role="status">Your password is saved. Sign in with it.</p>'), true);
    assert.equal((await passwordSignIn(new FormClient(server.url), 'default', 'fay', 'fay picked this')).location, '/default/account');
    assert.equal((await new FormClient(server.url).get(path)).status, 410, 'an invitation works once');
    const inv2 = await server.api('POST', `/tenants/default/principals/${fay.body.id}/invitations`, {});
    server.advance(73 * 3600_000);
    const expired = new URL(inv2.body.url);
    assert.equal((await new FormClient(server.url).get(`${expired.pathname}${expired.search}`)).status, 410, 'and expires (72 h by default)');
    assert.equal((await auditOf(server, 'default', 'invitation.accepted')).length, 1);
  });
});
