import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadNodeSecret, NodeKeyFile } from '../../src/node-agent/key-file.js';

describe('node key file: the private key on disk only encrypted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-node-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('round-trips under the same secret; the file holds no key material in the clear; mode 0600', () => {
    const file = join(dir, 'k1.json');
    const secret = randomBytes(32);
    new NodeKeyFile(secret).write(file, 'kid-1', privateKey);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /BEGIN|"d"/);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url');
    assert.ok(!text.includes(der.slice(40, 80)));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const read = new NodeKeyFile(secret).read(file);
    assert.equal(read.kid, 'kid-1');
    assert.deepEqual(read.privateKey.export({ format: 'jwk' }), privateKey.export({ format: 'jwk' }));
  });

  it('refuses another secret, and a file whose kid was swapped (the kid is authenticated data)', () => {
    const file = join(dir, 'k2.json');
    const secret = randomBytes(32);
    new NodeKeyFile(secret).write(file, 'kid-2', privateKey);
    assert.throws(() => new NodeKeyFile(randomBytes(32)).read(file), /cannot be decrypted with this node secret/);
    const body = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...body, kid: 'kid-other' }));
    assert.throws(() => new NodeKeyFile(secret).read(file), /cannot be decrypted/);
  });

  it('creates the local secret with mode 0600 and refuses one other users can read', () => {
    const file = join(dir, 'node.secret');
    const secret = loadNodeSecret(file, undefined);
    assert.equal(secret.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadNodeSecret(file, undefined), secret);
    chmodSync(file, 0o644);
    assert.throws(() => loadNodeSecret(file, undefined), /readable by other users/);
    assert.equal(loadNodeSecret(file, 'ab'.repeat(32)).toString('hex'), 'ab'.repeat(32));
    assert.throws(() => loadNodeSecret(file, 'short'), /32 bytes/);
  });
});
