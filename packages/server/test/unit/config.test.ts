import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const quiet = { warn: () => undefined };
const KEY = 'a'.repeat(64);

describe('configuration', () => {
  it('defaults: port 8080 on 127.0.0.1, SQLite in ./.signet, public URL from the port, ES256, 10-minute tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-config-'));
    const config = loadConfig({ SIGNET_DATA_DIR: dir, SIGNET_MASTER_KEY: KEY }, quiet);
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.database, { kind: 'sqlite', file: join(dir, 'signet.db') });
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.equal(config.signingAlg, 'ES256');
    assert.equal(config.accessTokenTtlSeconds, 600);
    assert.equal(config.keyRotationSeconds, 86400);
    assert.deepEqual(config.trustProxy, []);
    assert.equal(config.auditWrites, 'on');
    assert.equal(config.dpopNonce, 'required');
    assert.equal(config.delegationMaxDepth, 2);
  });

  it('audit writes can only be turned off with the explicit benchmark value, and that warns', () => {
    const warnings: string[] = [];
    const config = loadConfig({ SIGNET_MASTER_KEY: KEY, SIGNET_DATA_DIR: tmpdir(), SIGNET_AUDIT_WRITES: 'off-for-benchmarks' }, { warn: (m) => warnings.push(m) });
    assert.equal(config.auditWrites, 'off-for-benchmarks');
    assert.match(warnings.join('\n'), /token decisions are NOT audited/);
  });

  it('a postgres:// URL selects PostgreSQL and then requires SIGNET_MASTER_KEY', () => {
    assert.throws(() => loadConfig({ SIGNET_DATABASE_URL: 'postgres://u@localhost/db' }, quiet), (e: unknown) => e instanceof ConfigError && /SIGNET_MASTER_KEY is required/.test(e.message));
    const config = loadConfig({ SIGNET_DATABASE_URL: 'postgres://u@localhost/db', SIGNET_MASTER_KEY: KEY }, quiet);
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://u@localhost/db' });
  });

  it('on the embedded default a missing master key is generated into the data dir (mode 0600) with a warning, then reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-config-'));
    const warnings: string[] = [];
    const first = loadConfig({ SIGNET_DATA_DIR: dir }, { warn: (m) => warnings.push(m) });
    const file = join(dir, 'master.key');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.masterKeyGenerated, true);
    assert.match(warnings.join('\n'), /SIGNET_MASTER_KEY is not set/);
    const second = loadConfig({ SIGNET_DATA_DIR: dir }, quiet);
    assert.deepEqual(second.masterKey, first.masterKey);
    assert.equal(readFileSync(file, 'utf8').trim(), first.masterKey.toString('base64url'));
  });

  for (const [name, value, message] of [
    ['SIGNET_PORT', 'eighty', /SIGNET_PORT must be an integer/],
    ['SIGNET_PORT', '70000', /SIGNET_PORT must be between 0 and 65535/],
    ['SIGNET_MASTER_KEY', 'short', /SIGNET_MASTER_KEY must be 32 bytes/],
    ['SIGNET_DATABASE_URL', 'mysql://x', /SIGNET_DATABASE_URL must start with postgres/],
    ['SIGNET_PUBLIC_URL', 'not a url', /SIGNET_PUBLIC_URL is not a URL/],
    ['SIGNET_PUBLIC_URL', 'https://id.example.com/?x=1', /must not have a query/],
    ['SIGNET_SIGNING_ALG', 'HS256', /SIGNET_SIGNING_ALG must be one of ES256, EdDSA, RS256/],
    ['SIGNET_ACCESS_TOKEN_TTL', '7200', /SIGNET_ACCESS_TOKEN_TTL must be between 30 and 3600/],
    ['SIGNET_LOG_LEVEL', 'loud', /SIGNET_LOG_LEVEL must be a pino level/],
    ['SIGNET_AUDIT_WRITES', 'off', /SIGNET_AUDIT_WRITES must be on \(or off-for-benchmarks\)/],
    ['SIGNET_DPOP_NONCE', 'optional', /SIGNET_DPOP_NONCE must be required or off/],
    ['SIGNET_DELEGATION_MAX_DEPTH', '11', /SIGNET_DELEGATION_MAX_DEPTH must be between 1 and 10/],
  ] as const) {
    it(`rejects ${name}=${value} with a clear message`, () => {
      assert.throws(() => loadConfig({ SIGNET_MASTER_KEY: KEY, SIGNET_DATA_DIR: tmpdir(), [name]: value }, quiet), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    });
  }

  it('warns loudly about a plain-http public URL on a non-loopback host', () => {
    const warnings: string[] = [];
    const config = loadConfig({ SIGNET_MASTER_KEY: KEY, SIGNET_PUBLIC_URL: 'http://id.example.com/', SIGNET_DATA_DIR: tmpdir() }, { warn: (m) => warnings.push(m) });
    assert.equal(config.publicUrl, 'http://id.example.com');
    assert.match(warnings.join('\n'), /plain http on a non-loopback host/);
  });
});
