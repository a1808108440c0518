import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrincipal, expectStatus, startAdmin, type Admin, type PrincipalView } from '../admin/helpers.js';
import { runCli } from '../cli/fake-server.js';

describe('signet blueprint, principal extend, ssf receiver (against a real server)', () => {
  let a: Admin;
  let sponsor: PrincipalView;
  const cli = async (...argv: string[]) => {
    const result = await runCli(['--json', ...argv], a.s.dataDir);
    return { ...result, body: result.stdout ? JSON.parse(result.stdout) : undefined };
  };

  before(async () => {
    a = await startAdmin();
    sponsor = await createPrincipal(a, 'default', { kind: 'user' });
    expectStatus(await a.call('POST', '/tenants/default/resources', { identifier: 'api://cli', displayName: 'R', roles: [{ name: 'read', description: 'r' }], scopes: [{ name: 'view', description: 'v' }] }), 201);
  });
  after(() => a.close());

  it('creates, shows, narrows and deletes a blueprint; lends it a secret; creates and extends an agent from it', async () => {
    const created = await cli('blueprint', 'create', 'cli-bot', '--app-roles', '--roles', 'api://cli=read', '--scopes', 'api://cli=view', '--token-lifetime', '120', '--max-depth', '2', '--no-dpop');
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual([created.body.accessTokenLifetimeSeconds, created.body.maxDelegationDepth, created.body.allowAppRoles, created.body.requireDpop], [120, 2, true, false]);
    assert.deepEqual(created.body.permissions.map((p: { roles: string[]; scopes: string[] }) => [p.roles, p.scopes]), [[['read'], ['view']]]);

    const secret = await cli('blueprint', 'credential', 'add', 'cli-bot', '--secret');
    assert.equal(secret.code, 0, secret.stderr);
    assert.match(secret.body.secret, /^sgn_/);
    const listed = await cli('blueprint', 'credential', 'list', 'cli-bot');
    assert.deepEqual(listed.body.items.map((c: { id: string }) => c.id), [secret.body.id]);

    const agent = await cli('principal', 'create', '--kind', 'agent', '--name', 'bot', '--sponsor', sponsor.id, '--blueprint', 'cli-bot');
    assert.equal(agent.code, 0, agent.stderr);
    assert.equal(agent.body.blueprintId, created.body.id);
    const until = new Date(a.s.now() + 7 * 86_400_000).toISOString();
    const extended = await cli('principal', 'extend', agent.body.id, '--until', until);
    assert.equal(extended.body.expiresAt, until);

    const narrowed = await cli('blueprint', 'update', 'cli-bot', '--scopes', 'api://cli=view', '--no-app-roles');
    assert.equal(narrowed.code, 0, narrowed.stderr);
    assert.deepEqual(narrowed.body.permissions.map((p: { roles: string[] }) => p.roles), [[]]);

    const refused = await runCli(['blueprint', 'delete', 'cli-bot'], a.s.dataDir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: conflict: blueprint "cli-bot" still has 1 agent/);
    assert.equal((await cli('principal', 'delete', agent.body.id)).code, 0);
    assert.equal((await cli('blueprint', 'delete', 'cli-bot')).code, 0);
  });

  it('registers, lists and removes a Shared Signals receiver', async () => {
    const added = await cli('ssf', 'receiver', 'add', 'https://receiver.example/events', '--authorization', 'Bearer x');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.body.hasAuthorization, true);
    assert.deepEqual((await cli('ssf', 'receiver', 'list')).body.items.map((r: { id: string }) => r.id), [added.body.id]);
    const refused = await runCli(['ssf', 'receiver', 'add', 'http://receiver.example/events'], a.s.dataDir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: invalid_request: endpointUrl must be https/);
    assert.equal((await cli('ssf', 'receiver', 'remove', added.body.id)).code, 0);
  });
});
