import type { IssuedToken } from './signet-client.js';
import { SignetRefusal } from './signet-client.js';

/** A token is refreshed once this fraction of its lifetime has passed. */
const REFRESH_AT_FRACTION = 0.5;
/** Never serve a token that expires sooner than this. */
const EXPIRY_MARGIN_S = 5;
/** Entries nobody asked for in this long are no longer refreshed in the background, and dropped once expired. */
const IDLE_MS = 30 * 60_000;

interface Entry {
  identity: string;
  resource: string;
  token: IssuedToken;
  lastUsed: number;
  refreshing: Promise<IssuedToken> | undefined;
}

export type Fetch = (identity: string, resource: string) => Promise<IssuedToken>;

/**
 * Tokens per (identity, resource). A cached token is served until half its lifetime has passed;
 * after that it is refreshed (in the background, or on demand), and while Signet cannot be reached
 * the cached token keeps being served until it expires. A refusal from Signet (identity unassigned,
 * grant removed) drops the entry at once instead.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<IssuedToken>>();

  constructor(
    private readonly fetchToken: Fetch,
    private readonly now: () => number = Date.now,
    private readonly onRefreshError: (error: unknown, identity: string, resource: string) => void = () => undefined,
  ) {}

  async get(identity: string, resource: string): Promise<IssuedToken> {
    const id = `${identity}\n${resource}`;
    const entry = this.entries.get(id);
    const nowS = this.now() / 1000;
    if (entry && nowS < entry.token.expiresAt - EXPIRY_MARGIN_S) {
      entry.lastUsed = this.now();
      if (nowS < refreshAt(entry.token)) return entry.token;
      try {
        return await this.refresh(id, entry);
      } catch (error) {
        if (error instanceof SignetRefusal) throw error;
        this.onRefreshError(error, identity, resource);
        return entry.token;
      }
    }
    let fetching = this.pending.get(id);
    if (!fetching) {
      fetching = this.fetchToken(identity, resource).finally(() => this.pending.delete(id));
      this.pending.set(id, fetching);
    }
    try {
      const token = await fetching;
      this.entries.set(id, { identity, resource, token, lastUsed: this.now(), refreshing: undefined });
      return token;
    } catch (error) {
      if (error instanceof SignetRefusal) this.entries.delete(id);
      throw error;
    }
  }

  /** Background pass: refresh what is due and was used recently; forget what expired. */
  async refreshDue(): Promise<void> {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.token.expiresAt * 1000 <= now && now - entry.lastUsed > IDLE_MS) {
        this.entries.delete(id);
        continue;
      }
      if (now / 1000 >= refreshAt(entry.token) && now - entry.lastUsed <= IDLE_MS) {
        await this.refresh(id, entry).catch((error: unknown) => this.onRefreshError(error, entry.identity, entry.resource));
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private refresh(id: string, entry: Entry): Promise<IssuedToken> {
    entry.refreshing ??= this.fetchToken(entry.identity, entry.resource)
      .then((token) => {
        entry.token = token;
        return token;
      })
      .catch((error: unknown) => {
        if (error instanceof SignetRefusal) this.entries.delete(id);
        throw error;
      })
      .finally(() => {
        entry.refreshing = undefined;
      });
    return entry.refreshing;
  }
}

function refreshAt(token: IssuedToken): number {
  return token.issuedAt + (token.expiresAt - token.issuedAt) * REFRESH_AT_FRACTION;
}
