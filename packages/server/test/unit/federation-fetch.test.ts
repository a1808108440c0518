import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { FederationConfig } from '../../src/config.js';
import { AddressPolicy, FetchRefused, SafeFetcher } from '../../src/federation/fetch.js';
import { IssuerKeys, publicKeys } from '../../src/federation/jwks-cache.js';

async function listen(handler: RequestListener, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const address = server.address();
  return { server, url: `http://${host}:${typeof address === 'object' && address ? address.port : 0}` };
}

async function refusal(promise: Promise<unknown>): Promise<FetchRefused> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FetchRefused, String(error));
    return error;
  }
  assert.fail('the fetch was not refused');
}

const BASE: FederationConfig = {
  allowHttpOrigins: [],
  allowPrivateNetworks: ['127.0.0.1/32'],
  clockSkewSeconds: 30,
  maxTokenAgeSeconds: 3600,
  singleUse: false,
  fetchTimeoutMs: 10_000,
  maxResponseBytes: 1024,
  keysMinCacheSeconds: 300,
  keysMaxCacheSeconds: 86400,
  refetchIntervalSeconds: 30,
};

describe('federation fetch: address policy (RFC 6890 special-purpose ranges)', () => {
  const policy = new AddressPolicy([]);
  for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1']) {
    it(`refuses ${address}`, () => assert.equal(policy.permits(address), false));
  }
  for (const address of ['8.8.8.8', '140.82.112.3', '2606:4700::1111']) {
    it(`permits ${address}`, () => assert.equal(policy.permits(address), true));
  }
  it('a configured CIDR permits exactly its range', () => {
    const allowing = new AddressPolicy(['127.0.0.1/32', 'fd00::/8']);
    assert.equal(allowing.permits('127.0.0.1'), true);
    assert.equal(allowing.permits('::ffff:127.0.0.1'), true);
    assert.equal(allowing.permits('127.0.0.2'), false);
    assert.equal(allowing.permits('fd12::1'), true);
    assert.equal(allowing.permits('10.0.0.1'), false);
  });
});

describe('federation fetch: SafeFetcher guards', () => {
  let target: { server: Server; url: string };
  let other: { server: Server; url: string };
  let fetcher: SafeFetcher;

  before(async () => {
    other = await listen((_req, res) => res.end('{"other":true}'));
    target = await listen((req, res) => {
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'cache-control': 'max-age=42' }).end('{"ok":true}');
          break;
        case '/same-origin-redirect':
          res.writeHead(302, { location: '/ok' }).end();
          break;
        case '/cross-origin-redirect':
          res.writeHead(302, { location: `${other.url}/` }).end();
          break;
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end();
          break;
        case '/big-declared':
          res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
          break;
        case '/big-chunked':
          res.writeHead(200);
          res.write('['.repeat(800));
          res.end('['.repeat(800));
          break;
        case '/slow':
          setTimeout(() => res.end('{}'), 20_000).unref();
          break;
        case '/error':
          res.writeHead(500).end('{}');
          break;
        case '/html':
          res.writeHead(200).end('<html>');
          break;
        default:
          res.writeHead(404).end();
      }
    });
    fetcher = new SafeFetcher({ ...BASE, allowHttpOrigins: [target.url, other.url] });
  });
  after(() => {
    target.server.close();
    other.server.close();
  });

  it('fetches JSON and returns its Cache-Control', async () => {
    assert.deepEqual(await fetcher.json(`${target.url}/ok`), { body: { ok: true }, cacheControl: 'max-age=42' });
  });

  it('refuses plain http for origins not explicitly allowed', async () => {
    assert.equal((await refusal(new SafeFetcher(BASE).json(`${target.url}/ok`))).check, 'scheme');
    assert.equal((await refusal(fetcher.json('ftp://example.com/x'))).check, 'scheme');
  });

  it('refuses private, loopback and link-local addresses unless a CIDR allows them, checking before connecting', async () => {
    const strict = new SafeFetcher({ ...BASE, allowPrivateNetworks: [], allowHttpOrigins: [target.url, 'http://localhost:1', 'http://169.254.169.254'] });
    const loopback = await refusal(strict.json(`${target.url}/ok`));
    assert.equal(loopback.check, 'address');
    assert.match(loopback.message, /127\.0\.0\.1/);
    assert.equal((await refusal(strict.json('http://localhost:1/x'))).check, 'address', 'a name resolving to loopback');
    assert.equal((await refusal(strict.json('http://169.254.169.254/latest/meta-data'))).check, 'address');
    assert.equal((await refusal(new SafeFetcher({ ...BASE, allowPrivateNetworks: [] }).json('https://10.0.0.1/.well-known/openid-configuration'))).check, 'address');
  });

  it('follows a same-origin redirect, refuses one to another origin, and stops loops', async () => {
    assert.deepEqual((await fetcher.json(`${target.url}/same-origin-redirect`)).body, { ok: true });
    assert.equal((await refusal(fetcher.json(`${target.url}/cross-origin-redirect`))).check, 'redirect');
    assert.equal((await refusal(fetcher.json(`${target.url}/loop`))).check, 'redirect');
  });

  it('caps the response size, declared or not', async () => {
    assert.equal((await refusal(fetcher.json(`${target.url}/big-declared`))).check, 'size');
    assert.equal((await refusal(fetcher.json(`${target.url}/big-chunked`))).check, 'size');
  });

  it('times out', async () => {
    const hasty = new SafeFetcher({ ...BASE, allowHttpOrigins: [target.url], fetchTimeoutMs: 300 });
    const started = Date.now();
    assert.equal((await refusal(hasty.json(`${target.url}/slow`))).check, 'timeout');
    assert.ok(Date.now() - started < 10_000);
  });

  it('refuses non-200 answers and non-JSON bodies', async () => {
    assert.equal((await refusal(fetcher.json(`${target.url}/error`))).check, 'status');
    assert.equal((await refusal(fetcher.json(`${target.url}/html`))).check, 'content');
  });
});

describe('federation keys: discovery and cache bounds', () => {
  it('honours Cache-Control max-age within [min, max]', () => {
    const keys = new IssuerKeys(BASE, Date.now);
    assert.equal(keys.maxAge('max-age=600'), 600);
    assert.equal(keys.maxAge('public, max-age=600, must-revalidate'), 600);
    assert.equal(keys.maxAge('max-age=10'), 300);
    assert.equal(keys.maxAge('max-age=99999999'), 86400);
    assert.equal(keys.maxAge('no-store'), 300);
    assert.equal(keys.maxAge('no-cache, max-age=600'), 300);
    assert.equal(keys.maxAge(undefined), 300);
  });

  it('keeps only public signature keys of a JWKS', () => {
    const kept = publicKeys({
      keys: [
        { kty: 'RSA', n: 'n', e: 'AQAB', kid: 'sig' },
        { kty: 'RSA', n: 'n', e: 'AQAB', kid: 'enc', use: 'enc' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private', kid: 'private' },
      ],
    });
    assert.deepEqual(kept.map((k) => k.kid), ['sig']);
    assert.throws(() => publicKeys({ nokeys: [] }), FetchRefused);
  });

  it('refuses a discovery document that names another issuer (OIDC Discovery §4.3)', async () => {
    const liar = await listen((req, res) => {
      res.writeHead(200).end(JSON.stringify({ issuer: 'https://someone-else.example', jwks_uri: 'https://someone-else.example/jwks' }));
    });
    try {
      const keys = new IssuerKeys({ ...BASE, allowHttpOrigins: [liar.url] }, Date.now);
      const error = await refusal(keys.keysFor(liar.url, undefined));
      assert.equal(error.check, 'content');
      assert.match(error.message, /names issuer "https:\/\/someone-else.example"/);
    } finally {
      liar.server.close();
    }
  });
});
