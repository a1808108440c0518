import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { constantTimeEqual, SecretHasher } from '../../src/crypto/digest.js';
import { deriveKey, Envelope } from '../../src/crypto/envelope.js';
import { newId, randomToken } from '../../src/crypto/ids.js';

describe('envelope encryption (AES-256-GCM under the master key)', () => {
  const master = randomBytes(32);
  const envelope = new Envelope(master);

  it('round-trips and names the master key id', () => {
    const sealed = envelope.seal('private key', 'signing-key:abc');
    assert.match(sealed, new RegExp(`^v1\\.${envelope.keyId}\\.`));
    assert.equal(envelope.open(sealed, 'signing-key:abc').toString(), 'private key');
  });

  it('refuses a ciphertext moved to another context (AAD binds the row)', () => {
    const sealed = envelope.seal('private key', 'signing-key:abc');
    assert.throws(() => envelope.open(sealed, 'signing-key:other'));
  });

  it('refuses a tampered ciphertext', () => {
    const parts = envelope.seal('private key', 'ctx').split('.');
    const ct = Buffer.from(parts[3] as string, 'base64url');
    ct[0] = (ct[0] as number) ^ 1;
    parts[3] = ct.toString('base64url');
    assert.throws(() => envelope.open(parts.join('.'), 'ctx'));
  });

  it('says which master key is needed when another is configured', () => {
    const sealed = envelope.seal('x', 'ctx');
    assert.throws(() => new Envelope(randomBytes(32)).open(sealed, 'ctx'), /sealed under master key/);
  });

  it('derives independent keys per purpose', () => {
    assert.notDeepEqual(deriveKey(master, 'a'), deriveKey(master, 'b'));
    assert.deepEqual(deriveKey(master, 'a'), deriveKey(master, 'a'));
  });
});

describe('secret digests', () => {
  it('are keyed: the same secret under another pepper gives another digest', () => {
    const secret = randomToken();
    assert.notEqual(new SecretHasher(randomBytes(32)).digest(secret), new SecretHasher(randomBytes(32)).digest(secret));
  });

  it('compare in constant time and reject different lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
  });
});

describe('ids and tokens', () => {
  it('random tokens carry 256 bits', () => {
    assert.equal(Buffer.from(randomToken(), 'base64url').length, 32);
  });
  it('ids are time-ordered UUIDv7', async () => {
    const a = newId();
    await new Promise((r) => setTimeout(r, 2));
    const b = newId();
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(a < b);
  });
});
