import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { FormClient, passwordSignIn } from '../people/helpers.js';
import { runCli } from './fake-server.js';

describe('signet user (against a real server)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('creates a user with a temporary password that works once and must be changed', async () => {
    const result = await runCli(['--json', 'user', 'create', '--name', 'Gil', '--username', 'gil', '--email', 'Gil@Example.test', '--temporary-password'], server.dataDir);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.kind, 'user');
    assert.equal(out.username, 'gil');
    assert.equal(out.email, 'gil@example.test');
    assert.equal(out.loginUrl, `${server.url}/default/login`);
    const res = await passwordSignIn(new FormClient(server.url), 'default', 'gil', out.temporaryPassword);
    assert.equal(res.location, '/default/login/password');
  });

  it('creates a user with an invitation link', async () => {
    const result = await runCli(['--json', 'user', 'create', '--name', 'Hal', '--email', 'hal@example.test', '--invite', '--expires-in-hours', '2'], server.dataDir);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    const url = new URL(out.invitationUrl);
    assert.equal(url.pathname, '/default/invitation');
    assert.equal(Date.parse(out.invitationExpiresAt) - server.now() <= 2 * 3600_000, true);
    assert.equal((await new FormClient(server.url).get(`${url.pathname}${url.search}`)).status, 200);
    const methods = await runCli(['--json', 'user', 'sign-in-methods', out.id], server.dataDir);
    assert.deepEqual(JSON.parse(methods.stdout), { hasPassword: false, mustChangePassword: false, factors: [] });
  });

  it('refuses a user without a way to sign in, with a usage error', async () => {
    const none = await runCli(['user', 'create', '--name', 'Ivy', '--username', 'ivy'], server.dataDir);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /give --invite or --temporary-password/);
    const both = await runCli(['user', 'create', '--name', 'Ivy', '--username', 'ivy', '--invite', '--temporary-password'], server.dataDir);
    assert.match(both.stderr, /choose one of --invite and --temporary-password/);
    const common = await runCli(['user', 'temporary-password', 'no-such-id', '--password', 'password'], server.dataDir);
    assert.notEqual(common.code, 0);
    assert.match(common.stderr, /not_found|was not found/);
  });
});
