import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('failed client authentication is throttled per source address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ SIGNET_CLIENT_AUTH_FAILURE_LIMIT: '3' });
  });
  after(() => server.close());

  const scope = 'urn:signet:admin/.default';

  it('after the limit, even the right secret gets 429 temporarily_unavailable with Retry-After, until the window passes', async () => {
    for (let i = 0; i < 3; i++) {
      const wrong = await server.token('default', server.admin.client_id, 'sgn_wrong', { scope });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'invalid_client');
    }
    const blocked = await server.token('default', server.admin.client_id, server.admin.client_secret, { scope });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'temporarily_unavailable');
    assert.equal(blocked.headers.get('retry-after'), '60');
    assert.equal(blocked.headers.get('cache-control'), 'no-store');

    server.advance(60_000);
    const ok = await server.token('default', server.admin.client_id, server.admin.client_secret, { scope });
    assert.equal(ok.status, 200);
  });

  it('successful authentications do not count', async () => {
    server.advance(60_000);
    for (let i = 0; i < 5; i++) {
      assert.equal((await server.token('default', server.admin.client_id, server.admin.client_secret, { scope })).status, 200);
    }
  });
});
