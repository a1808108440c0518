import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, type JWK } from 'jose';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/connect.js';
import { parseJson } from '../db/json.js';

/** The audit key signs checkpoints only: it is never a token-signing key. */
export const AUDIT_KEY_ALG = 'EdDSA';

export interface AuditKey {
  kid: string;
  publicJwk: JWK;
  privateKey: KeyObject;
}

/**
 * Loads the install's audit key, creating it on first use. When several nodes start at once each
 * may insert one; all then use the oldest, so every node signs with the same key.
 */
export async function loadAuditKey(db: Db, envelope: Envelope, now: number): Promise<AuditKey> {
  const existing = await db.selectFrom('audit_keys').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
  if (!existing) {
    const pair = generateKeyPairSync('ed25519');
    const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(jwk, 'sha256');
    await db
      .insertInto('audit_keys')
      .values({
        id: kid,
        public_jwk: JSON.stringify({ ...jwk, kid, alg: AUDIT_KEY_ALG, use: 'sig' }),
        private_key: envelope.seal(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }), `audit-key:${kid}`),
        created_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return loadAuditKey(db, envelope, now);
  }
  return {
    kid: existing.id,
    publicJwk: parseJson<JWK>(existing.public_jwk, 'audit_keys.public_jwk'),
    privateKey: createPrivateKey(envelope.open(existing.private_key, `audit-key:${existing.id}`)),
  };
}

/** Compact JWS over the canonical checkpoint body. */
export function signCheckpoint(body: string, key: AuditKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(body)).setProtectedHeader({ alg: AUDIT_KEY_ALG, kid: key.kid, typ: 'signet-audit-checkpoint+jws' }).sign(key.privateKey);
}
