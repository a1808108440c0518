import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_BASIC, ADMIN_TOKEN, credentialsDir, FakeServer, runCli, useFakeServer } from './fake-server.js';

const TENANT = {
  id: 't-1',
  name: 'default',
  displayName: 'Default',
  status: 'active',
  issuer: 'http://localhost:8080/default',
  settings: {},
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};
const PRINCIPAL = {
  id: 'p-1',
  tenantId: 't-1',
  kind: 'agent',
  displayName: 'Report bot',
  description: null,
  status: 'active',
  sponsors: ['u-1', 'u-2'],
  createdAt: '2025-01-02T00:00:00.000Z',
  updatedAt: '2025-01-02T00:00:00.000Z',
  deletedAt: null,
  username: null,
  email: null,
};

describe('signet admin commands', () => {
  const { server, dir: dataDir } = useFakeServer();

  it('gets an admin token with client_secret_basic, then calls the admin API with it', async () => {
    server.routes.set('GET /admin/v1/tenants', { status: 200, body: { items: [TENANT], nextCursor: null } });
    const result = await runCli(['tenant', 'list'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    const [token, list] = server.requests;
    assert.equal(token?.method, 'POST');
    assert.equal(token?.path, '/default/oauth2/token');
    assert.equal(token?.headers.authorization, ADMIN_BASIC);
    assert.equal(token?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(token?.body, 'grant_type=client_credentials&scope=urn%3Asignet%3Aadmin%2F.default');
    assert.equal(list?.method, 'GET');
    assert.equal(list?.path, '/admin/v1/tenants');
    assert.equal(list?.headers.authorization, `Bearer ${ADMIN_TOKEN}`);
  });

  it('prints a list as a table', async () => {
    server.routes.set('GET /admin/v1/tenants', { status: 200, body: { items: [TENANT], nextCursor: null } });
    const result = await runCli(['tenant', 'list'], dataDir());
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout,
      [
        '┌─────┬─────────┬──────────────┬────────┬───────────────────────────────┬──────────────────────────┐',
        '│ id  │ name    │ display name │ status │ issuer                        │ created                  │',
        '├─────┼─────────┼──────────────┼────────┼───────────────────────────────┼──────────────────────────┤',
        '│ t-1 │ default │ Default      │ active │ http://localhost:8080/default │ 2025-01-01T00:00:00.000Z │',
        '└─────┴─────────┴──────────────┴────────┴───────────────────────────────┴──────────────────────────┘',
        '',
      ].join('\n'),
    );
  });

  it('prints a single object as a field/value table, lists joined and nulls as "-"', async () => {
    server.routes.set('GET /admin/v1/tenants/default/principals/p-1', { status: 200, body: PRINCIPAL });
    const result = await runCli(['principal', 'get', 'p-1'], dataDir());
    assert.equal(result.code, 0);
    assert.match(result.stdout, /│ sponsors +│ u-1, u-2 +│/);
    assert.match(result.stdout, /│ description +│ - +│/);
    assert.match(result.stdout, /│ kind +│ agent +│/);
  });

  it('prints the API JSON with --json, before or after the command', async () => {
    server.routes.set('GET /admin/v1/tenants', { status: 200, body: { items: [TENANT], nextCursor: null } });
    for (const argv of [['--json', 'tenant', 'list'], ['tenant', 'list', '--json']]) {
      const result = await runCli(argv, dataDir());
      assert.equal(result.code, 0);
      assert.deepEqual(JSON.parse(result.stdout), { items: [TENANT], nextCursor: null });
    }
  });

  it('reports an API error as one line with its code and exits 1', async () => {
    server.routes.set('GET /admin/v1/tenants/default/principals/nope', {
      status: 404,
      body: { code: 'not_found', message: 'principal "nope" was not found' },
    });
    const result = await runCli(['principal', 'get', 'nope'], dataDir());
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'error: not_found: principal "nope" was not found\n');
  });

  it('reports a rejected admin client with the OAuth error and exits 1', async () => {
    server.routes.set('POST /default/oauth2/token', { status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } });
    try {
      const result = await runCli(['tenant', 'list'], dataDir());
      assert.equal(result.code, 1);
      assert.equal(result.stderr, 'error: invalid_client: client authentication failed\n');
      assert.equal(server.apiRequests.length, 0);
    } finally {
      server.routes.set('POST /default/oauth2/token', { status: 200, body: { access_token: ADMIN_TOKEN, token_type: 'Bearer', expires_in: 600 } });
    }
  });

  it('reports a non-JSON error response by its HTTP status', async () => {
    server.routes.set('GET /admin/v1/tenants/x', { status: 502 });
    const result = await runCli(['tenant', 'get', 'x'], dataDir());
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'error: http_502: the admin API answered HTTP 502\n');
  });

  it('creates a tenant', async () => {
    server.routes.set('POST /admin/v1/tenants', { status: 201, body: { ...TENANT, name: 'acme', displayName: 'Acme' } });
    const result = await runCli(['tenant', 'create', 'acme', '--display-name', 'Acme', '--settings', '{"accessTokenTtl":300}'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    const [request] = server.apiRequests;
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request?.body ?? ''), { name: 'acme', displayName: 'Acme', settings: { accessTokenTtl: 300 } });
  });

  it('disables a tenant, by name, URL-encoded', async () => {
    server.routes.set('POST /admin/v1/tenants/a%20b/disable', { status: 200, body: { ...TENANT, status: 'disabled' } });
    const result = await runCli(['tenant', 'disable', 'a b'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /│ status +│ disabled +│/);
  });

  it('creates a principal with repeated sponsors in the default tenant', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals', { status: 201, body: PRINCIPAL });
    const result = await runCli(['principal', 'create', '--kind', 'agent', '--name', 'Report bot', '--sponsor', 'u-1', '--sponsor', 'u-2'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { kind: 'agent', displayName: 'Report bot', sponsors: ['u-1', 'u-2'] });
  });

  it('--require-dpop on create and --no-require-dpop on update set requireDpop', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals', { status: 201, body: PRINCIPAL });
    server.routes.set('PATCH /admin/v1/tenants/default/principals/p-1', { status: 200, body: PRINCIPAL });
    const created = await runCli(['principal', 'create', '--kind', 'service', '--name', 'Bound', '--require-dpop'], dataDir());
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { kind: 'service', displayName: 'Bound', requireDpop: true });
    const updated = await runCli(['principal', 'update', 'p-1', '--no-require-dpop'], dataDir());
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[1]?.body ?? ''), { requireDpop: false });
  });

  it('uses --tenant over the credentials file tenant', async () => {
    server.routes.set('GET /admin/v1/tenants/acme/principals?kind=service&status=active&limit=5', { status: 200, body: { items: [], nextCursor: null } });
    const result = await runCli(['principal', 'list', '--tenant', 'acme', '--kind', 'service', '--status', 'active', '--limit', '5'], dataDir());
    assert.equal(result.code, 0, result.stderr);
  });

  it('follows cursors with --all', async () => {
    server.routes.set('GET /admin/v1/tenants/default/principals', { status: 200, body: { items: [PRINCIPAL], nextCursor: 'c2' } });
    server.routes.set('GET /admin/v1/tenants/default/principals?cursor=c2', { status: 200, body: { items: [{ ...PRINCIPAL, id: 'p-2' }], nextCursor: null } });
    const result = await runCli(['--json', 'principal', 'list', '--all'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { items: { id: string }[]; nextCursor: null };
    assert.deepEqual(body.items.map((p) => p.id), ['p-1', 'p-2']);
    assert.equal(body.nextCursor, null);
  });

  it('points at the next page without --all', async () => {
    server.routes.set('GET /admin/v1/tenants/default/principals', { status: 200, body: { items: [PRINCIPAL], nextCursor: 'c2' } });
    const result = await runCli(['principal', 'list'], dataDir());
    assert.equal(result.code, 0);
    assert.match(result.stdout, /more results: add --cursor c2 \(or --all\)\n$/);
    assert.equal(server.apiRequests.length, 1);
  });

  it('updates a principal with PATCH and only the given fields', async () => {
    server.routes.set('PATCH /admin/v1/tenants/default/principals/p-1', { status: 200, body: PRINCIPAL });
    const result = await runCli(['principal', 'update', 'p-1', '--description', 'nightly reports'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { description: 'nightly reports' });
  });

  it('deletes a principal (204)', async () => {
    server.routes.set('DELETE /admin/v1/tenants/default/principals/p-1', { status: 204 });
    const table = await runCli(['principal', 'delete', 'p-1'], dataDir());
    assert.deepEqual(table, { code: 0, stdout: 'deleted principal p-1\n', stderr: '' });
    const json = await runCli(['principal', 'delete', 'p-1', '--json'], dataDir());
    assert.deepEqual(JSON.parse(json.stdout), { id: 'p-1', deleted: true });
  });

  it('shows a new secret once, with a warning on stderr', async () => {
    server.routes.set('POST /admin/v1/tenants/default/principals/p-1/credentials', {
      status: 201,
      body: { id: 'c-1', principalId: 'p-1', type: 'secret', description: null, thumbprint: null, publicJwk: null, createdAt: '2025-01-03T00:00:00.000Z', expiresAt: '2030-01-01T00:00:00.000Z', lastUsedAt: null, secret: 'sgn_new' },
    });
    const result = await runCli(['credential', 'add', 'p-1', '--secret', '--expires', '2030-01-01T00:00:00Z'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { type: 'secret', expiresAt: '2030-01-01T00:00:00.000Z' });
    assert.match(result.stdout, /\nclient secret: sgn_new\n$/);
    assert.equal(result.stdout.match(/sgn_new/g)?.length, 1);
    assert.equal(result.stderr, 'warning: store this secret now: it is shown only once and cannot be retrieved again\n');

    const json = await runCli(['credential', 'add', 'p-1', '--secret', '--json'], dataDir());
    assert.equal((JSON.parse(json.stdout) as { secret: string }).secret, 'sgn_new');
  });

  it('refuses credential add without exactly one kind of credential, before calling the API', async () => {
    const result = await runCli(['credential', 'add', 'p-1', '--secret', '--jwk', 'key.json'], dataDir());
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'error: usage: give exactly one of --secret, --jwk <file> or --certificate <file>\n');
    assert.equal(server.requests.length, 0);
  });

  it('removes a credential', async () => {
    server.routes.set('DELETE /admin/v1/tenants/default/principals/p-1/credentials/c-1', { status: 204 });
    const result = await runCli(['credential', 'remove', 'p-1', 'c-1'], dataDir());
    assert.deepEqual(result, { code: 0, stdout: 'removed credential c-1\n', stderr: '' });
  });

  it('creates a resource with roles and scopes', async () => {
    server.routes.set('POST /admin/v1/tenants/default/resources', { status: 201, body: { id: 'r-1', identifier: 'api://orders' } });
    const result = await runCli(
      ['resource', 'create', 'api://orders', '--name', 'Orders', '--role', 'orders.admin:Manage orders', '--scope', 'orders:read=Read orders', '--scope', 'orders.write'],
      dataDir(),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), {
      identifier: 'api://orders',
      displayName: 'Orders',
      scopes: [
        { name: 'orders:read', description: 'Read orders' },
        { name: 'orders.write', description: 'orders.write' },
      ],
      roles: [{ name: 'orders.admin', description: 'Manage orders' }],
    });
  });

  it('percent-encodes resource identifiers in the path', async () => {
    server.routes.set('GET /admin/v1/tenants/default/resources/api%3A%2F%2Forders', { status: 200, body: { id: 'r-1', identifier: 'api://orders', roles: [{ name: 'orders.admin', description: 'x' }] } });
    const result = await runCli(['resource', 'get', 'api://orders'], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /│ roles +│ orders\.admin +│/);
  });

  it('adds, lists and removes grants', async () => {
    server.routes.set('POST /admin/v1/tenants/default/grants', { status: 201, body: { id: 'g-1', principal: 'p-1', resourceIdentifier: 'api://orders', role: 'orders.admin' } });
    server.routes.set('GET /admin/v1/tenants/default/grants?principal=p-1&resource=api%3A%2F%2Forders', { status: 200, body: { items: [], nextCursor: null } });
    server.routes.set('DELETE /admin/v1/tenants/default/grants/g-1', { status: 204 });
    assert.equal((await runCli(['grant', 'add', 'p-1', 'api://orders', 'orders.admin'], dataDir())).code, 0);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { principal: 'p-1', resource: 'api://orders', role: 'orders.admin' });
    assert.equal((await runCli(['grant', 'list', '--principal', 'p-1', '--resource', 'api://orders'], dataDir())).code, 0);
    assert.equal((await runCli(['grant', 'remove', 'g-1'], dataDir())).stdout, 'removed grant g-1\n');
  });

  it('lists and rotates signing keys', async () => {
    server.routes.set('GET /admin/v1/tenants/acme/keys', {
      status: 200,
      body: { items: [{ kid: 'k1', alg: 'ES256', status: 'active', createdAt: 'c', activatedAt: 'a', retiredAt: null, expiresAt: null }] },
    });
    server.routes.set('POST /admin/v1/tenants/acme/keys/rotate', { status: 200, body: { activated: 'k2', retired: 'k1' } });
    const list = await runCli(['keys', 'list', '--tenant', 'acme'], dataDir());
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /│ k1 +│ ES256 +│ active +│ c +│ a +│ - +│ - +│/);
    const rotate = await runCli(['keys', 'rotate', '--tenant', 'acme', '--json'], dataDir());
    assert.deepEqual(JSON.parse(rotate.stdout), { activated: 'k2', retired: 'k1' });
    assert.equal(server.apiRequests[1]?.method, 'POST');
  });

  it('sends admin calls to --url instead of the file admin_api', async () => {
    server.routes.set('GET /other/v1/tenants', { status: 200, body: { items: [], nextCursor: null } });
    const result = await runCli(['tenant', 'list', '--url', `${server.url}/other/v1/`], dataDir());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests[0]?.path, '/default/oauth2/token');
    assert.equal(server.requests[1]?.path, '/other/v1/tenants');
  });

  it('reports usage errors as one line and exits 1', async () => {
    const result = await runCli(['principal', 'create', '--kind', 'robot', '--name', 'x'], dataDir());
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "error: usage: option '--kind <kind>' argument 'robot' is invalid. Allowed choices are user, service, managed, agent.\n");
    const missing = await runCli(['grant', 'add', 'p-1'], dataDir());
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "error: usage: missing required argument 'resource'\n");
    assert.equal(server.requests.length, 0);
  });
});

describe('signet when the server or credentials are missing', () => {
  it('exits 2 with one line when the server cannot be reached', async () => {
    const server = await new FakeServer().start();
    const { dir, remove } = await credentialsDir(server.url);
    await server.stop();
    try {
      const result = await runCli(['tenant', 'list'], dir);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `error: connection_failed: cannot reach ${server.url} (ECONNREFUSED)\n`);
    } finally {
      await remove();
    }
  });

  it('exits 1 naming the path it looked at when there is no credentials file', async () => {
    const result = await runCli(['tenant', 'list'], '/nonexistent-signet-dir');
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'error: credentials_not_found: no admin credentials at /nonexistent-signet-dir/admin-credentials.json; start the server once (signet start), or pass --credentials <file> or set SIGNET_CREDENTIALS\n',
    );
  });

  it('exits 0 for --help and --version', async () => {
    const help = await runCli(['--help'], '/nonexistent-signet-dir');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: signet \[options\] \[command\]/);
    const version = await runCli(['--version'], '/nonexistent-signet-dir');
    assert.deepEqual(version, { code: 0, stdout: '0.1.0\n', stderr: '' });
  });
});
