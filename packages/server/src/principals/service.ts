import { type AdminCaller, actorOf, assertSponsorOrTenantAccess } from '../admin/caller.js';
import { blueprintStore } from '../blueprints/store.js';
import type { AuditActor } from '../audit/model.js';
import type { Deps } from '../context.js';
import { credentialStore } from '../credentials/store.js';
import { newId } from '../crypto/ids.js';
import type { Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import type { Tenant } from '../tenants/model.js';
import { rulesFor } from './kinds.js';
import type { CreatePrincipalBody, ExtendPrincipalBody, Principal, PrincipalStatus, UpdatePrincipalBody } from './model.js';
import { type PrincipalFilter, principalStore } from './store.js';
import { changeDirectory } from '../db/directory-change.js';
import { isUniqueViolation } from '../db/connect.js';

/**
 * Sign-in names from a create or update body: only kinds that sign in have them; stored
 * lower-cased so they compare case-insensitively. `undefined` in the body keeps `before`'s value.
 */
function signInNames(kind: Principal['kind'], body: { username?: string | null; email?: string | null }, before?: Principal): Pick<Principal, 'username' | 'email'> {
  if (!rulesFor(kind).signsIn) {
    if (body.username != null || body.email != null) throw apiErrors.invalid(`principals of kind "${kind}" have no username or email`);
    return { username: null, email: null };
  }
  const pick = (value: string | null | undefined, old: string | null | undefined) => (value === undefined ? (old ?? null) : value === null ? null : value.toLowerCase());
  return { username: pick(body.username, before?.username), email: pick(body.email, before?.email) };
}
import { createFirstManagedKey } from '../managed-keys/service.js';
import { managedKeyStore } from '../managed-keys/store.js';
import { nodeStore } from '../nodes/store.js';
import { suspendOrphanedAgents } from './sponsorship.js';
import { familyStore } from '../oauth/tokens/family-store.js';
import { queueStop, sessionRevoked } from '../ssf/signals.js';
import { issuerUrl } from '../tenants/model.js';

const DAY_MS = 86_400_000;

/** Principals of every kind: creation with kind rules, updates, disable/enable, soft delete. */
export class PrincipalService {
  constructor(private readonly deps: Deps) {}

  /** A principal of `tenant`; 404 when there is none. Deleted principals are still readable. */
  async get(tenant: Tenant, id: string, db: Db = this.deps.db): Promise<Principal> {
    const principal = await principalStore.get(db, tenant.id, id);
    if (!principal) throw apiErrors.notFound('principal', id);
    return principal;
  }

  /** A principal that can still be changed (not deleted); 404 / 409 otherwise. */
  async getLive(tenant: Tenant, id: string, db: Db = this.deps.db): Promise<Principal> {
    const principal = await this.get(tenant, id, db);
    if (principal.status === 'deleted') throw apiErrors.conflict(`principal "${id}" is deleted`);
    return principal;
  }

  list(tenant: Tenant, filter: PrincipalFilter, page: PageRequest): Promise<Page<Principal>> {
    return principalStore.list(this.deps.db, tenant.id, filter, page);
  }

  async create(caller: AdminCaller, tenant: Tenant, body: CreatePrincipalBody): Promise<Principal> {
    const now = this.deps.clock();
    const rules = rulesFor(body.kind);
    const principal: Principal = {
      id: newId(),
      tenantId: tenant.id,
      kind: body.kind,
      displayName: body.displayName,
      description: body.description ?? null,
      status: 'active',
      sponsors: [...(body.sponsors ?? [])].sort(),
      requireDpop: body.requireDpop ?? false,
      blueprintId: await this.blueprintOf(tenant, body),
      expiresAt: rules.expires ? this.expiry(body.expiresAt, now) : this.noExpiry(body),
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      ...signInNames(body.kind, body),
    };
    await this.uniqueNames(tenant, async () => changeDirectory(this.deps, tenant.id, async (trx) => {
      await this.checkSponsors(trx, tenant, principal, body.sponsors);
      await principalStore.insert(trx, principal);
      await this.audit(trx, actorOf(caller), 'principal.created', undefined, principal, now);
      if (rulesFor(principal.kind).platformHeldKey) await createFirstManagedKey(this.deps, trx, tenant.id, principal.id, actorOf(caller));
    }));
    return principal;
  }

  async update(caller: AdminCaller, tenant: Tenant, id: string, body: UpdatePrincipalBody): Promise<Principal> {
    return this.uniqueNames(tenant, () => changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.getLive(tenant, id, trx);
      const after: Principal = {
        ...before,
        ...signInNames(before.kind, body, before),
        displayName: body.displayName ?? before.displayName,
        description: body.description === undefined ? before.description : body.description,
        sponsors: body.sponsors ? [...body.sponsors].sort() : before.sponsors,
        requireDpop: body.requireDpop ?? before.requireDpop,
        updatedAt: this.deps.clock(),
      };
      if (body.sponsors) {
        await this.checkSponsors(trx, tenant, after, body.sponsors);
        await principalStore.replaceSponsors(trx, tenant.id, id, after.sponsors, after.updatedAt);
      }
      await principalStore.update(trx, after);
      await this.audit(trx, actorOf(caller), 'principal.updated', before, after, after.updatedAt);
      return after;
    }));
  }

  /** A username or email already taken in the tenant is a 409, not a database error. */
  private async uniqueNames<T>(tenant: Tenant, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isUniqueViolation(error)) throw apiErrors.conflict(`another principal of tenant "${tenant.name}" already has this username or email`);
      throw error;
    }
  }

  /**
   * Disable stops every token issuance path for the principal and turns every token it holds or
   * that names it in a delegation chain inactive; agents it was the last active sponsor of are
   * suspended in the same transaction. Enable restores a disabled or suspended principal (an agent
   * only with an active sponsor). Tenant admins may do both; an agent's sponsor may disable it.
   */
  async setStatus(caller: AdminCaller, tenant: Tenant, id: string, status: 'active' | 'disabled'): Promise<Principal> {
    if (status === 'disabled' && caller.principalId === id) throw apiErrors.conflict('a principal cannot disable itself');
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.getLive(tenant, id, trx);
      if (status === 'disabled') assertSponsorOrTenantAccess(caller, tenant, before);
      if (before.status === status) return before;
      if (status === 'active' && rulesFor(before.kind).requiresSponsor) await this.checkSponsors(trx, tenant, before, before.sponsors);
      const after: Principal = { ...before, status, updatedAt: this.deps.clock() };
      await principalStore.update(trx, after);
      await this.audit(trx, actorOf(caller), status === 'disabled' ? 'principal.disabled' : 'principal.enabled', before, after, after.updatedAt);
      if (status === 'disabled') {
        await this.revokeRefreshTokens(trx, tenant, id, actorOf(caller), 'principal disabled');
        await queueStop(this.deps, trx, tenant.id, sessionRevoked(issuerUrl(this.deps.config.publicUrl, tenant), id, 'admin', 'principal disabled', after.updatedAt));
        await suspendOrphanedAgents(this.deps, trx, tenant, id, actorOf(caller));
      }
      return after;
    });
  }

  /**
   * Moves an agent's expiry to `expiresAt` (default: SIGNET_AGENT_LIFETIME_DAYS from now, also the
   * latest allowed). Tenant admins and the agent's sponsors may extend it.
   */
  async extend(caller: AdminCaller, tenant: Tenant, id: string, body: ExtendPrincipalBody): Promise<Principal> {
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.getLive(tenant, id, trx);
      assertSponsorOrTenantAccess(caller, tenant, before);
      if (!rulesFor(before.kind).expires) throw apiErrors.invalid(`principals of kind "${before.kind}" do not expire`);
      const now = this.deps.clock();
      const after: Principal = { ...before, expiresAt: this.expiry(body.expiresAt, now), updatedAt: now };
      await principalStore.update(trx, after);
      await this.audit(trx, actorOf(caller), 'principal.extended', before, after, now);
      return after;
    });
  }

  /**
   * Soft delete: the record stays (audit trails name it) but it can never authenticate again,
   * and its credentials are removed so no secret or key outlives it.
   */
  async delete(caller: AdminCaller, tenant: Tenant, id: string): Promise<void> {
    if (caller.principalId === id) throw apiErrors.conflict('a principal cannot delete itself');
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.get(tenant, id, trx);
      if (before.status === 'deleted') return;
      const now = this.deps.clock();
      const after: Principal = { ...before, status: 'deleted', updatedAt: now, deletedAt: now };
      for (const credential of await credentialStore.listForPrincipal(trx, tenant.id, id)) {
        await credentialStore.delete(trx, tenant.id, id, credential.id);
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.removed', actor: actorOf(caller), target: { type: 'credential', id: credential.id }, before: { id: credential.id, type: credential.type, principalId: id } }]);
      }
      await managedKeyStore.deleteForPrincipal(trx, tenant.id, id);
      await nodeStore.unassignAll(trx, tenant.id, 'principal_id', id);
      await principalStore.update(trx, after);
      await this.audit(trx, actorOf(caller), 'principal.deleted', before, after, now);
      await this.revokeRefreshTokens(trx, tenant, id, actorOf(caller), 'principal deleted');
      await queueStop(this.deps, trx, tenant.id, sessionRevoked(issuerUrl(this.deps.config.publicUrl, tenant), id, 'admin', 'principal deleted', now));
      await suspendOrphanedAgents(this.deps, trx, tenant, id, actorOf(caller));
    });
  }

  /** The kill switch's refresh-token part: every family the principal takes part in, revoked in the stopping transaction. */
  private async revokeRefreshTokens(trx: Db, tenant: Tenant, principalId: string, actor: AuditActor, reason: string): Promise<void> {
    const revoked = await familyStore.revokeForPrincipal(trx, tenant.id, principalId, this.deps.clock(), reason);
    if (revoked === 0) return;
    await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'token_family.revoked', actor, target: { type: 'principal', id: principalId }, after: { families: revoked, reason } }]);
  }

  /** Sponsors: required (≥ 1) exactly for kinds whose rules say so; each an active sponsor-capable principal of the same tenant. */
  private async checkSponsors(db: Db, tenant: Tenant, principal: Principal, requested: string[] | undefined): Promise<void> {
    const rules = rulesFor(principal.kind);
    if (!rules.requiresSponsor) {
      if (requested !== undefined) throw apiErrors.invalid(`principals of kind "${principal.kind}" do not have sponsors`);
      return;
    }
    if (!requested || requested.length === 0) {
      throw apiErrors.invalid(`a principal of kind "${principal.kind}" must name at least one active user as sponsor (sponsors: [ids])`);
    }
    for (const sponsorId of requested) {
      const sponsor = await principalStore.get(db, tenant.id, sponsorId);
      if (!sponsor) throw apiErrors.invalid(`sponsor "${sponsorId}" is not a principal of tenant "${tenant.name}"`);
      if (!rulesFor(sponsor.kind).maySponsor) throw apiErrors.invalid(`sponsor "${sponsorId}" is a ${sponsor.kind}; sponsors must be users`);
      if (sponsor.status !== 'active') throw apiErrors.invalid(`sponsor "${sponsorId}" is ${sponsor.status}; sponsors must be active`);
    }
  }

  /** Kinds created from a blueprint must name one (id or name) of the same tenant; others must not. */
  private async blueprintOf(tenant: Tenant, body: CreatePrincipalBody): Promise<string | null> {
    if (!rulesFor(body.kind).fromBlueprint) {
      if (body.blueprint !== undefined) throw apiErrors.invalid(`principals of kind "${body.kind}" are not created from a blueprint`);
      return null;
    }
    if (body.blueprint === undefined) throw apiErrors.invalid(`a principal of kind "${body.kind}" is created from a blueprint (blueprint: id or name)`);
    const blueprint = (await blueprintStore.get(this.deps.db, tenant.id, body.blueprint)) ?? (await blueprintStore.byName(this.deps.db, tenant.id, body.blueprint));
    if (!blueprint) throw apiErrors.invalid(`blueprint "${body.blueprint.slice(0, 200)}" is not a blueprint of tenant "${tenant.name}"`);
    return blueprint.id;
  }

  /** An agent's expiry: the requested instant, or the longest allowed (SIGNET_AGENT_LIFETIME_DAYS from now). */
  private expiry(requested: string | undefined, now: number): number {
    const max = now + this.deps.config.agentLifetimeDays * DAY_MS;
    if (requested === undefined) return max;
    const at = Date.parse(requested);
    if (Number.isNaN(at) || at <= now) throw apiErrors.invalid('expiresAt must be a future ISO 8601 instant');
    if (at > max) throw apiErrors.invalid(`expiresAt must be within ${this.deps.config.agentLifetimeDays} days (SIGNET_AGENT_LIFETIME_DAYS)`);
    return at;
  }

  private noExpiry(body: CreatePrincipalBody): null {
    if (body.expiresAt !== undefined) throw apiErrors.invalid(`principals of kind "${body.kind}" do not expire`);
    return null;
  }

  private audit(db: Db, actor: AuditActor, type: string, before: Principal | undefined, after: Principal, now: number): Promise<void> {
    return this.deps.audit.recordInTransaction(db, [{ tenantId: after.tenantId, type, actor, target: { type: 'principal', id: after.id }, before, after }]);
  }
}
