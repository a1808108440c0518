import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignetRefusal, SignetUnreachable, type IssuedToken } from '../../src/node-agent/signet-client.js';
import { TokenCache } from '../../src/node-agent/token-cache.js';

const T = 1_800_000_000;

function harness() {
  let now = T * 1000;
  let next: () => Promise<IssuedToken>;
  let fetches = 0;
  const issue = (at: number): IssuedToken => ({ accessToken: `token-${at}`, issuedAt: at, notBefore: at, expiresAt: at + 600 });
  next = async () => issue(now / 1000);
  const cache = new TokenCache(
    async () => {
      fetches += 1;
      return next();
    },
    () => now,
  );
  return {
    cache,
    advance: (s: number) => (now += s * 1000),
    fail: (error: Error) => (next = async () => Promise.reject(error)),
    recover: () => (next = async () => issue(now / 1000)),
    fetches: () => fetches,
  };
}

describe('node token cache', () => {
  it('serves a cached token until half its lifetime, then refreshes it', async () => {
    const h = harness();
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T}`);
    h.advance(299);
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T}`);
    assert.equal(h.fetches(), 1);
    h.advance(1);
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T + 300}`);
    assert.equal(h.fetches(), 2);
  });

  it('caches per identity and resource', async () => {
    const h = harness();
    await h.cache.get('id', 'api://a');
    await h.cache.get('id', 'api://b');
    await h.cache.get('other', 'api://a');
    await h.cache.get('id', 'api://a');
    assert.equal(h.fetches(), 3);
  });

  it('the background pass refreshes what is due, ahead of expiry', async () => {
    const h = harness();
    await h.cache.get('id', 'api://a');
    h.advance(400);
    await h.cache.refreshDue();
    assert.equal(h.fetches(), 2);
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T + 400}`);
  });

  it('while Signet is unreachable the cached token is served until it expires, then the failure shows', async () => {
    const h = harness();
    await h.cache.get('id', 'api://a');
    h.fail(new SignetUnreachable('down'));
    h.advance(500);
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T}`);
    await h.cache.refreshDue();
    h.advance(96); // 4 s before expiry: inside the 5 s safety margin
    await assert.rejects(h.cache.get('id', 'api://a'), SignetUnreachable);
    h.recover();
    assert.equal((await h.cache.get('id', 'api://a')).accessToken, `token-${T + 596}`);
  });

  it('a refusal from Signet (identity unassigned, grant removed) drops the cached token at once', async () => {
    const h = harness();
    await h.cache.get('id', 'api://a');
    h.advance(300);
    h.fail(new SignetRefusal(401, 'invalid_client', 'client authentication failed'));
    await assert.rejects(h.cache.get('id', 'api://a'), SignetRefusal);
    h.advance(-299); // even a still-fresh time: the entry is gone
    await assert.rejects(h.cache.get('id', 'api://a'), SignetRefusal);
    assert.equal(h.cache.size, 0);
  });

  it('concurrent requests for one uncached token share one fetch', async () => {
    const h = harness();
    await Promise.all([h.cache.get('id', 'api://a'), h.cache.get('id', 'api://a'), h.cache.get('id', 'api://a')]);
    assert.equal(h.fetches(), 1);
  });
});
