/**
 * Read-through cache of directory data for the token path (clients, their credentials, resources,
 * grants).
 *
 * Correctness rules:
 * - Every directory change bumps its tenant's generation after its transaction commits
 *   (`changed`); entries of an older generation are never served, so on this node a disable,
 *   credential removal or grant removal takes effect for the very next request.
 * - A value loaded while a change was committing is not stored (the generation moved during the
 *   load), so a pre-commit read can never be cached as current.
 * - Other nodes' changes are seen within `ttlMs` (SIGNET_CACHE_STALENESS_MS), the bound the
 *   architecture promises for cross-node invalidation.
 */
export class DirectoryCache {
  private readonly generations = new Map<string, number>();
  private readonly entries = new Map<string, { value: unknown; generation: number; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  /** Marks everything cached for `tenantId` as stale. Call after the change has committed. */
  changed(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
  }

  async get<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T> {
    const generation = this.generations.get(tenantId) ?? 0;
    const id = `${tenantId}\u0000${key}`;
    const now = this.clock();
    const hit = this.entries.get(id);
    if (hit && hit.generation === generation && now - hit.at < this.ttlMs) return hit.value as T;
    const value = await load();
    if ((this.generations.get(tenantId) ?? 0) === generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(id, { value, generation, at: now });
    }
    return value;
  }
}
