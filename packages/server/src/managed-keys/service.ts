import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/model.js';
import type { Deps } from '../context.js';
import type { Db } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';
import type { ManagedKey } from './model.js';
import { managedKeyStore } from './store.js';

type KeyDeps = Pick<Deps, 'db' | 'envelope' | 'clock' | 'config' | 'audit' | 'log'>;

const sealContext = (kid: string) => `managed-key:${kid}`;

/** What a managed key's metadata may show in the audit trail: never the sealed private half. */
function describe(k: ManagedKey): Record<string, unknown> {
  return { kid: k.id, principalId: k.principalId, generation: k.generation, createdAt: k.createdAt, expiresAt: k.expiresAt };
}

async function generate(deps: KeyDeps, tenantId: string, principalId: string, generation: number, now: number): Promise<ManagedKey> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    id: kid,
    tenantId,
    principalId,
    generation,
    alg: 'ES256',
    publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' },
    sealedPrivateKey: deps.envelope.seal(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }), sealContext(kid)),
    createdAt: now,
    expiresAt: now + deps.config.managedKeyLifetimeSeconds * 1000,
  };
}

/**
 * Creates a managed identity's first key inside the transaction that creates the principal, so a
 * managed identity never exists without one.
 */
export async function createFirstManagedKey(deps: KeyDeps, trx: Db, tenantId: string, principalId: string, actor: AuditActor): Promise<ManagedKey> {
  const key = await generate(deps, tenantId, principalId, 1, deps.clock());
  await managedKeyStore.insert(trx, key);
  await deps.audit.recordInTransaction(trx, [{ tenantId, type: 'managed_key.created', actor, target: { type: 'principal', id: principalId }, after: describe(key) }]);
  return key;
}

interface HeldKey {
  key: ManagedKey;
  privateKey: KeyObject;
  publicKey: KeyObject;
  loadedAt: number;
}

/**
 * Managed identities' platform-held keys: rotation at half the lifetime (the next key exists
 * before the current one expires, both valid in the overlap), and use on the token path.
 */
export class ManagedKeyService {
  private readonly held = new Map<string, HeldKey>();

  constructor(private readonly deps: KeyDeps) {}

  private get lifetimeMs(): number {
    return this.deps.config.managedKeyLifetimeSeconds * 1000;
  }

  /** Unexpired keys of a principal, newest first (public parts are what the admin API shows). */
  list(tenantId: string, principalId: string): Promise<ManagedKey[]> {
    return managedKeyStore.live(this.deps.db, tenantId, principalId, this.deps.clock());
  }

  /** When a key's successor is created: half its lifetime (SPIRE's rule). */
  rotatesAt(key: ManagedKey): number {
    return key.createdAt + Math.floor((key.expiresAt - key.createdAt) / 2);
  }

  /**
   * Adds the next generation. Guarded by the unique (principal, generation) constraint: when two
   * nodes rotate at once, one insert wins and the other changes nothing. Returns the new key, or
   * undefined when another rotation won.
   */
  async rotate(tenantId: string, principalId: string, actor: AuditActor = SYSTEM_ACTOR, reason: 'scheduled' | 'forced' | 'expired' = 'forced'): Promise<ManagedKey | undefined> {
    const now = this.deps.clock();
    try {
      const key = await this.deps.db.transaction().execute(async (trx) => {
        const previous = (await managedKeyStore.live(trx, tenantId, principalId, now))[0];
        const generation = (await managedKeyStore.lastGeneration(trx, tenantId, principalId)) + 1;
        const next = await generate(this.deps, tenantId, principalId, generation, now);
        await managedKeyStore.insert(trx, next);
        await this.deps.audit.recordInTransaction(trx, [
          {
            tenantId,
            type: 'managed_key.rotated',
            actor,
            target: { type: 'principal', id: principalId },
            before: previous ? describe(previous) : null,
            after: { ...describe(next), reason },
          },
        ]);
        return next;
      });
      this.held.delete(`${tenantId}:${principalId}`);
      this.deps.log.info({ tenantId, principalId, kid: key.id, generation: key.generation, reason }, 'managed identity key rotated');
      return key;
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  /** Maintenance: next keys for every managed identity at half its key's lifetime; expired keys deleted. */
  async rotateDue(): Promise<number> {
    let rotated = 0;
    for (;;) {
      const now = this.deps.clock();
      const due = await managedKeyStore.due(this.deps.db, now - this.lifetimeMs / 2, now, 200);
      for (const { tenantId, principalId } of due) {
        if (await this.rotate(tenantId, principalId, SYSTEM_ACTOR, 'scheduled')) rotated += 1;
      }
      if (due.length < 200) break;
    }
    await managedKeyStore.deleteExpired(this.deps.db, this.deps.clock());
    return rotated;
  }

  /**
   * The key a token for this managed identity is issued under, after proving Signet holds its
   * private half: a fresh challenge is signed with the sealed private key and verified with the
   * public key. Fails closed when the key cannot be opened (wrong master key, altered row). When
   * maintenance has fallen behind, the token path rotates itself, so there is never a gap.
   */
  async use(tenantId: string, principalId: string): Promise<ManagedKey> {
    const now = this.deps.clock();
    const cacheKey = `${tenantId}:${principalId}`;
    let held = this.held.get(cacheKey);
    if (!held || now - held.loadedAt >= this.deps.config.cacheStalenessMs || now >= this.rotatesAt(held.key)) {
      let newest = (await managedKeyStore.live(this.deps.db, tenantId, principalId, now))[0];
      if (!newest || now >= this.rotatesAt(newest)) {
        newest = (await this.rotate(tenantId, principalId, SYSTEM_ACTOR, newest ? 'scheduled' : 'expired')) ?? (await managedKeyStore.live(this.deps.db, tenantId, principalId, now))[0];
      }
      if (!newest) throw new Error(`managed identity ${principalId} has no key`);
      const privateKey = createPrivateKey(this.deps.envelope.open(newest.sealedPrivateKey, sealContext(newest.id)));
      held = { key: newest, privateKey, publicKey: createPublicKey({ key: newest.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }), loadedAt: now };
      this.held.set(cacheKey, held);
    }
    const challenge = randomBytes(32);
    const signature = sign('sha256', challenge, { key: held.privateKey, dsaEncoding: 'ieee-p1363' });
    if (!verify('sha256', challenge, { key: held.publicKey, dsaEncoding: 'ieee-p1363' }, signature)) {
      throw new Error(`managed identity ${principalId}: the held private key does not match key ${held.key.id}`);
    }
    return held.key;
  }

  /** A deleted managed identity's keys go with it. */
  async forget(trx: Db, tenantId: string, principalId: string): Promise<void> {
    await managedKeyStore.deleteForPrincipal(trx, tenantId, principalId);
    this.held.delete(`${tenantId}:${principalId}`);
  }
}
