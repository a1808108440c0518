import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Admin, createPrincipal, startAdmin } from '../admin/helpers.js';
import { generateNodeKey } from '../../src/node-agent/signet-client.js';
import { rawJoin } from '../nodes/helpers.js';
import { runCli } from './fake-server.js';

describe('signet node (admin commands, against a real server)', () => {
  let a: Admin;
  before(async () => {
    a = await startAdmin();
  });
  after(() => a.close());
  const cli = (...argv: string[]) => runCli(argv, a.s.dataDir);

  it('join-token create prints the token once; a node joins with it; list, assign, get, disable, unassign, delete', async () => {
    const created = await cli('--json', 'node', 'join-token', 'create', '--tenant', 'default', '--ttl', '30m', '--name', 'web-01');
    assert.equal(created.code, 0, created.stderr);
    const token = JSON.parse(created.stdout) as { token: string; name: string; createdAt: string; expiresAt: string };
    assert.match(token.token, /^sgn_join_/);
    assert.equal(token.name, 'web-01');
    assert.equal(Date.parse(token.expiresAt) - Date.parse(token.createdAt), 30 * 60_000);
    const joined = await rawJoin(a, 'default', { join_token: token.token }, await generateNodeKey());
    assert.equal(joined.status, 201);
    const nodeId = joined.body.node_id as string;

    const list = await cli('--json', 'node', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { items: Array<{ id: string; name: string }> }).items.map((n) => [n.id, n.name]), [[nodeId, 'web-01']]);

    const managed = await createPrincipal(a, 'default', { kind: 'managed', displayName: 'orders-worker' });
    const assigned = await cli('--json', 'node', 'assign', nodeId, managed.id);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.deepEqual(JSON.parse(assigned.stdout).identities, [managed.id]);
    const disabled = await cli('--json', 'node', 'disable', nodeId);
    assert.equal(JSON.parse(disabled.stdout).status, 'disabled');
    const shown = await cli('--json', 'node', 'get', nodeId);
    assert.equal(JSON.parse(shown.stdout).status, 'disabled');
    assert.equal((await cli('node', 'unassign', nodeId, managed.id)).code, 0);
    const again = await cli('node', 'unassign', nodeId, managed.id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: not_found: /);
    assert.equal((await cli('node', 'delete', nodeId)).code, 0);
    assert.equal((await cli('node', 'get', nodeId)).code, 1);
  });

  it('usage errors: a join-token lifetime out of range; node run without a server', async () => {
    const ttl = await cli('node', 'join-token', 'create', '--ttl', '10s');
    assert.equal(ttl.code, 1);
    assert.match(ttl.stderr, /must be between 1 minute and 7 days/);
    const run = await cli('node', 'run', '--tenant', 'default');
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'error: usage: --server (or SIGNET_NODE_SERVER) is required\n');
  });
});
