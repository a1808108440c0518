import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DirectoryCache } from '../../src/cache/directory-cache.js';

describe('directory cache', () => {
  let now = 0;
  const clock = () => now;

  it('serves a cached value until its tenant changes, then reloads', async () => {
    const cache = new DirectoryCache(1000, clock);
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache.get('t1', 'k', load), 1);
    assert.equal(await cache.get('t1', 'k', load), 1);
    cache.changed('t2');
    assert.equal(await cache.get('t1', 'k', load), 1, "another tenant's change does not matter");
    cache.changed('t1');
    assert.equal(await cache.get('t1', 'k', load), 2);
  });

  it('reloads after the staleness bound (changes made by other nodes)', async () => {
    const cache = new DirectoryCache(1000, clock);
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('t', 'k', load);
    now += 999;
    assert.equal(await cache.get('t', 'k', load), 1);
    now += 1;
    assert.equal(await cache.get('t', 'k', load), 2);
  });

  it('never stores a value loaded while a change committed', async () => {
    const cache = new DirectoryCache(1000, clock);
    let loads = 0;
    const racing = cache.get('t', 'k', async () => {
      loads += 1;
      cache.changed('t'); // the change commits while this read is in flight
      return 'pre-commit';
    });
    assert.equal(await racing, 'pre-commit');
    assert.equal(await cache.get('t', 'k', async () => (loads += 1, 'post-commit')), 'post-commit');
    assert.equal(loads, 2);
  });
});
