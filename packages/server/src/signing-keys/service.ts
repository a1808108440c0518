import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK, type JSONWebKeySet } from 'jose';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/model.js';
import type { AuditWriter } from '../audit/writer.js';
import type { SigningAlg } from '../config.js';
import type { Db } from '../db/connect.js';
import type { Envelope } from '../crypto/envelope.js';
import type { Logger } from '../logger.js';
import type { SigningKey } from './model.js';
import { signingKeyStore } from './store.js';

/** Clock skew allowance added to a retired key's publication so late verifiers still find it. */
const RETIRED_KEY_GRACE_MS = 5 * 60_000;

export interface ActiveSigner {
  kid: string;
  alg: SigningAlg;
  key: KeyObject;
}

interface TenantKeys {
  loadedAt: number;
  signer: ActiveSigner | undefined;
  jwks: JSONWebKeySet;
  publicKeys: Map<string, JWK>;
}

export interface SigningKeyOptions {
  db: Db;
  envelope: Envelope;
  log: Logger;
  clock: () => number;
  /** Algorithm for newly generated keys. */
  alg: SigningAlg;
  /** How long a key signs before the next one takes over. */
  rotationMs: number;
  /** Longest access-token lifetime any tenant may configure: a retired key stays published this long. */
  maxTokenLifetimeMs: number;
  /** How long a node may use its cached view of the key set before re-reading it. */
  stalenessMs: number;
  audit: AuditWriter;
}

async function generateKey(tenantId: string, alg: SigningAlg, envelope: Envelope, now: number): Promise<SigningKey> {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 3072 });
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const pkcs8 = pair.privateKey.export({ format: 'pem', type: 'pkcs8' });
  return {
    id: kid,
    tenantId,
    alg,
    status: 'next',
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    sealedPrivateKey: envelope.seal(pkcs8, `signing-key:${kid}`),
    createdAt: now,
    activatedAt: null,
    retiredAt: null,
    expiresAt: null,
  };
}

/**
 * Per-tenant signing keys: generation, encrypted storage, scheduled and forced rotation, JWKS.
 *
 * Every tenant always has one `active` key and one `next` key. The next key is published in the
 * JWKS for a whole rotation period before it signs anything, so verifiers that cache JWKS never
 * meet an unknown `kid`. A retired key stays published until every token it signed has expired.
 */
export class SigningKeyService {
  private readonly cache = new Map<string, TenantKeys>();

  constructor(private readonly opts: SigningKeyOptions) {}

  /** Creates the first active and next keys of a new tenant (call inside its creation transaction). */
  async initialise(db: Db, tenantId: string): Promise<void> {
    const now = this.opts.clock();
    const active = await generateKey(tenantId, this.opts.alg, this.opts.envelope, now);
    await signingKeyStore.insert(db, { ...active, status: 'active', activatedAt: now });
    await signingKeyStore.insert(db, await generateKey(tenantId, this.opts.alg, this.opts.envelope, now));
  }

  /** The key that signs now. Served from memory; re-read at most every `stalenessMs`. */
  async signer(tenantId: string): Promise<ActiveSigner> {
    const keys = await this.load(tenantId);
    if (!keys.signer) throw new Error(`tenant ${tenantId} has no active signing key`);
    return keys.signer;
  }

  /** The published key set: next, active and retired-but-not-expired keys. */
  async jwks(tenantId: string): Promise<JSONWebKeySet> {
    return (await this.load(tenantId)).jwks;
  }

  /** Public key for `kid`, re-reading the store once when the kid is unknown (another node rotated). */
  async publicKey(tenantId: string, kid: string): Promise<JWK | undefined> {
    const keys = await this.load(tenantId);
    return keys.publicKeys.get(kid) ?? (await this.load(tenantId, true)).publicKeys.get(kid);
  }

  /** Keys with their lifecycle, for the admin API. */
  async list(tenantId: string): Promise<SigningKey[]> {
    return signingKeyStore.listLive(this.opts.db, tenantId, this.opts.clock());
  }

  /**
   * Rotates now: next → active, active → retired, a fresh next is generated.
   * Safe against a concurrent rotation on another node: the loser's transaction changes nothing.
   */
  async rotate(tenantId: string, actor: AuditActor = SYSTEM_ACTOR, reason: 'forced' | 'scheduled' = 'forced'): Promise<{ activated: string; retired: string | null }> {
    const now = this.opts.clock();
    const fresh = await generateKey(tenantId, this.opts.alg, this.opts.envelope, now);
    const result = await this.opts.db.transaction().execute(async (trx) => {
      const live = await signingKeyStore.listLive(trx, tenantId, now);
      const active = live.find((k) => k.status === 'active');
      let next = live.find((k) => k.status === 'next');
      if (active) {
        const retired = await trx
          .updateTable('signing_keys')
          .set({ status: 'retired', retired_at: now, expires_at: now + this.opts.maxTokenLifetimeMs + RETIRED_KEY_GRACE_MS })
          .where('id', '=', active.id)
          .where('status', '=', 'active')
          .executeTakeFirst();
        if (retired.numUpdatedRows === 0n) return undefined;
      }
      if (!next) {
        // No pre-published key (only after manual tampering): promote a fresh one at once.
        next = await generateKey(tenantId, this.opts.alg, this.opts.envelope, now);
        await signingKeyStore.insert(trx, next);
      }
      await signingKeyStore.insert(trx, fresh);
      await signingKeyStore.setStatus(trx, tenantId, next.id, { status: 'active', activatedAt: now, retiredAt: null, expiresAt: null });
      await signingKeyStore.deleteExpired(trx, tenantId, now);
      const change = { activated: next.id, retired: active?.id ?? null, published: fresh.id, reason };
      await this.opts.audit.recordInTransaction(trx, [{ tenantId, type: 'signing_key.rotated', actor, target: { type: 'signing_key', id: next.id }, after: change }]);
      return { activated: next.id, retired: active?.id ?? null };
    });
    this.cache.delete(tenantId);
    if (!result) return { activated: (await this.signer(tenantId)).kid, retired: null };
    this.opts.log.info({ tenantId, activated: result.activated, retired: result.retired }, 'signing key rotated');
    return result;
  }

  /** Rotates the tenant's keys when the active key has signed for a whole period. */
  async rotateIfDue(tenantId: string): Promise<boolean> {
    const now = this.opts.clock();
    const live = await signingKeyStore.listLive(this.opts.db, tenantId, now);
    const active = live.find((k) => k.status === 'active');
    if (active && (active.activatedAt ?? active.createdAt) + this.opts.rotationMs > now) {
      // A key that left the JWKS has no use left: its sealed private half goes too.
      await signingKeyStore.deleteExpired(this.opts.db, tenantId, now);
      return false;
    }
    await this.rotate(tenantId, SYSTEM_ACTOR, 'scheduled');
    return true;
  }

  /** Drops this node's cached view (after a change this node made). */
  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private async load(tenantId: string, force = false): Promise<TenantKeys> {
    const now = this.opts.clock();
    const cached = this.cache.get(tenantId);
    if (cached && !force && now - cached.loadedAt < this.opts.stalenessMs) return cached;
    const live = await signingKeyStore.listLive(this.opts.db, tenantId, now);
    const active = live.find((k) => k.status === 'active');
    const signer =
      active && cached?.signer?.kid === active.id
        ? cached.signer
        : active && {
            kid: active.id,
            alg: active.alg,
            key: createPrivateKey(this.opts.envelope.open(active.sealedPrivateKey, `signing-key:${active.id}`)),
          };
    // Newest first: verifiers that try keys in order meet the active key early.
    const published = [...live].reverse().map((k) => k.publicJwk);
    const keys: TenantKeys = {
      loadedAt: now,
      signer: signer || undefined,
      jwks: { keys: published },
      publicKeys: new Map(published.map((k) => [k.kid as string, k])),
    };
    this.cache.set(tenantId, keys);
    return keys;
  }
}
