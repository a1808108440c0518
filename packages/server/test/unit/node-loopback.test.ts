import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLoopbackServer, rateLimiter, type TokenSource } from '../../src/node-agent/loopback-server.js';

describe('node loopback server: the IMDS rate limit', () => {
  let now = 1_000_000;
  const source: TokenSource = {
    identities: async () => [{ clientId: 'mi-1', displayName: 'orders-worker' }],
    token: async () => ({ accessToken: 'at', issuedAt: 1, notBefore: 1, expiresAt: 4_000_000_000 }),
  };
  const server = createLoopbackServer(source, 'x'.repeat(32), () => undefined, () => now);
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://orders`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers 20 requests in one instant, then 429 too_many_requests with Retry-After, as Azure IMDS does', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await fetch(url, { headers: { Metadata: 'true' } })).status);
    assert.deepEqual(statuses, Array(20).fill(200));
    const limited = await fetch(url, { headers: { Metadata: 'true' } });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.deepEqual(await limited.json(), { error: 'too_many_requests', error_description: 'Too many requests: at most 20 per second' });
    now += 100; // two more allowed after 100 ms
    assert.equal((await fetch(url, { headers: { Metadata: 'true' } })).status, 200);
    assert.equal((await fetch(url, { headers: { Metadata: 'true' } })).status, 200);
    assert.equal((await fetch(url, { headers: { Metadata: 'true' } })).status, 429);
  });

  it('the bucket refills at the rate and never holds more than one second of requests', () => {
    let t = 0;
    const allow = rateLimiter(20, () => t);
    for (let i = 0; i < 20; i++) assert.equal(allow(), true);
    assert.equal(allow(), false);
    t += 60_000;
    let granted = 0;
    while (allow()) granted += 1;
    assert.equal(granted, 20);
  });
});
