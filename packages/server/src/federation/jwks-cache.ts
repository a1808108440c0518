import type { JWK } from 'jose';
import type { FederationConfig } from '../config.js';
import { FetchRefused, SafeFetcher } from './fetch.js';

/**
 * External issuers' public keys, found by OIDC discovery (OIDC Discovery 1.0 §4:
 * `{issuer}/.well-known/openid-configuration` → `jwks_uri`) and cached:
 * - for the response's Cache-Control `max-age`, bounded to [min, max] seconds (no-store/no-cache
 *   and a missing header count as the minimum);
 * - a token naming a `kid` the cached set lacks triggers one re-fetch, and any issuer is fetched at
 *   most once per refetch interval (failures included), so unknown-kid floods cannot make Signet
 *   hammer an issuer; while a re-fetch is not allowed the cached keys keep serving;
 * - concurrent requests for one issuer share one fetch.
 * Only issuers some federated credential names are ever fetched: the caller looks credentials up first.
 */
export interface KeySetResult {
  keys: JWK[];
  /** False when the token's kid is still not in the set after the one allowed re-fetch. */
  kidKnown: boolean;
}

interface Entry {
  keys: JWK[] | null;
  error: FetchRefused | null;
  fetchedAt: number;
  expiresAt: number;
  inflight: Promise<void> | null;
}

const MAX_ISSUERS = 10_000;
const PUBLIC_KTY = new Set(['RSA', 'EC', 'OKP']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export class IssuerKeys {
  private readonly entries = new Map<string, Entry>();
  readonly fetcher: SafeFetcher;

  constructor(
    private readonly config: FederationConfig,
    private readonly clock: () => number,
  ) {
    this.fetcher = new SafeFetcher(config);
  }

  /** The issuer's current keys; throws FetchRefused when they cannot be had. */
  async keysFor(issuer: string, kid: string | undefined): Promise<KeySetResult> {
    let entry = this.entries.get(issuer);
    const now = this.clock();
    if (!entry || now >= entry.expiresAt || entry.keys === null) entry = await this.refresh(issuer, entry);
    if (kid !== undefined && entry.keys !== null && !hasKid(entry.keys, kid)) entry = await this.refresh(issuer, entry);
    if (entry.keys === null) throw entry.error ?? new FetchRefused('network', `no keys for ${issuer}`);
    return { keys: entry.keys, kidKnown: kid === undefined || hasKid(entry.keys, kid) };
  }

  private async refresh(issuer: string, current: Entry | undefined): Promise<Entry> {
    const now = this.clock();
    if (current?.inflight) {
      await current.inflight;
      return this.entries.get(issuer) as Entry;
    }
    if (current && now - current.fetchedAt < this.config.refetchIntervalSeconds * 1000) return current;
    const entry: Entry = current ?? { keys: null, error: null, fetchedAt: 0, expiresAt: 0, inflight: null };
    if (!current) {
      if (this.entries.size >= MAX_ISSUERS) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(issuer, entry);
    }
    entry.fetchedAt = now;
    entry.inflight = this.load(issuer)
      .then(({ keys, maxAge }) => {
        entry.keys = keys;
        entry.error = null;
        entry.expiresAt = this.clock() + maxAge * 1000;
      })
      .catch((error: unknown) => {
        entry.error = error instanceof FetchRefused ? error : new FetchRefused('content', String(error));
        // Stale keys keep serving until the next allowed attempt; a failed first fetch serves nothing.
        if (entry.keys !== null) entry.expiresAt = this.clock() + this.config.refetchIntervalSeconds * 1000;
      })
      .finally(() => {
        entry.inflight = null;
      });
    await entry.inflight;
    return entry;
  }

  private async load(issuer: string): Promise<{ keys: JWK[]; maxAge: number }> {
    const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const { body: discovery } = await this.fetcher.json(discoveryUrl);
    if (!isObject(discovery)) throw new FetchRefused('content', 'discovery document is not a JSON object');
    // OIDC Discovery §4.3: the issuer in the document MUST be identical to the issuer used.
    if (discovery.issuer !== issuer) throw new FetchRefused('content', `discovery document names issuer ${JSON.stringify(discovery.issuer)?.slice(0, 200)}, not ${issuer}`);
    if (typeof discovery.jwks_uri !== 'string') throw new FetchRefused('content', 'discovery document has no jwks_uri');
    const { body: jwks, cacheControl } = await this.fetcher.json(discovery.jwks_uri);
    return { keys: publicKeys(jwks), maxAge: this.maxAge(cacheControl) };
  }

  /** Cache lifetime in seconds from Cache-Control (RFC 9111 §5.2.2), within the configured bounds. */
  maxAge(cacheControl: string | undefined): number {
    const { keysMinCacheSeconds: min, keysMaxCacheSeconds: max } = this.config;
    if (!cacheControl || /(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return min;
    const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl);
    if (!match) return min;
    return Math.min(max, Math.max(min, Number(match[1])));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasKid(keys: JWK[], kid: string): boolean {
  return keys.some((k) => k.kid === kid);
}

/** The signature-verification public keys of a JWKS; symmetric and private keys are dropped. */
export function publicKeys(jwks: unknown): JWK[] {
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new FetchRefused('content', 'JWKS has no "keys" array');
  return jwks.keys.filter((key: unknown): key is JWK => {
    if (!isObject(key) || typeof key.kty !== 'string' || !PUBLIC_KTY.has(key.kty)) return false;
    if (PRIVATE_MEMBERS.some((m) => m in key)) return false;
    return key.use === undefined || key.use === 'sig';
  });
}
