import { type AdminCaller, actorOf, assertInstallAdmin, assertTenantAccess } from '../admin/caller.js';
import { SYSTEM_ACTOR, type AuditActor } from '../audit/model.js';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { isUniqueViolation, type Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import {
  ADMIN_RESOURCE,
  AUDIT_READER_ROLE,
  INSTALL_ADMIN_ROLE,
  TENANT_ADMIN_ROLE,
  TENANT_READER_ROLE,
  type Resource,
} from '../resources/model.js';
import { resourceStore } from '../resources/store.js';
import {
  DEFAULT_TENANT_SETTINGS,
  issuerUrl,
  RESERVED_TENANT_NAMES,
  type CreateTenantBody,
  type Tenant,
  type TenantSettings,
  type TenantSettingsPatch,
  type UpdateTenantBody,
} from './model.js';
import { tenantStore } from './store.js';
import { changeDirectory } from '../db/directory-change.js';

/** The tenant that holds the install's bootstrap admin. It cannot be disabled. */
export const HOME_TENANT = 'default';

/** Tenants: creation (with their admin resource and signing keys), lookup, settings, disable. */
export class TenantService {
  private readonly byName = new Map<string, { tenant: Tenant | undefined; at: number }>();

  constructor(private readonly deps: Deps) {}

  issuer(tenant: Pick<Tenant, 'name'>): string {
    return issuerUrl(this.deps.config.publicUrl, tenant);
  }

  /**
   * Resolves an active tenant by name for the protocol endpoints, from a cache bounded by the
   * staleness setting (disabling a tenant takes effect on every node within that bound).
   */
  async activeByName(name: string): Promise<Tenant | undefined> {
    const now = this.deps.clock();
    const hit = this.byName.get(name);
    if (hit && now - hit.at < this.deps.config.cacheStalenessMs) return hit.tenant;
    const tenant = await tenantStore.byName(this.deps.db, name);
    const active = tenant?.status === 'active' ? tenant : undefined;
    if (this.byName.size > 10_000) this.byName.clear();
    this.byName.set(name, { tenant: active, at: now });
    return active;
  }

  /** Finds a tenant by id or name; 404 when there is none. */
  async resolve(idOrName: string): Promise<Tenant> {
    const tenant = (await tenantStore.byId(this.deps.db, idOrName)) ?? (await tenantStore.byName(this.deps.db, idOrName));
    if (!tenant) throw apiErrors.notFound('tenant', idOrName);
    return tenant;
  }

  /** Resolves a tenant and checks that the caller may act on it. */
  async forCaller(caller: AdminCaller, idOrName: string, access: 'read' | 'write'): Promise<Tenant> {
    const tenant = await this.resolve(idOrName);
    assertTenantAccess(caller, tenant, access);
    return tenant;
  }

  /**
   * Resolves a tenant for a route a sponsor may call: callers of the tenant itself (and install
   * admins) pass here; the service then checks tenant access or sponsorship of the principal.
   */
  async forSponsorOrCaller(caller: AdminCaller, idOrName: string): Promise<Tenant> {
    const tenant = await this.resolve(idOrName);
    if (!caller.installAdmin && caller.tenantId !== tenant.id) assertTenantAccess(caller, tenant, 'write');
    return tenant;
  }

  async list(caller: AdminCaller, page: PageRequest): Promise<Page<Tenant>> {
    assertInstallAdmin(caller);
    return tenantStore.list(this.deps.db, page);
  }

  async create(caller: AdminCaller, body: CreateTenantBody): Promise<Tenant> {
    assertInstallAdmin(caller);
    return this.createTenant(actorOf(caller), body);
  }

  /** Creates a tenant with its built-in admin resource and first signing keys, in one transaction. */
  async createTenant(actor: AuditActor, body: CreateTenantBody): Promise<Tenant> {
    if (RESERVED_TENANT_NAMES.has(body.name)) throw apiErrors.invalid(`tenant name "${body.name}" is reserved`);
    const now = this.deps.clock();
    const tenant: Tenant = {
      id: newId(),
      name: body.name,
      displayName: body.displayName ?? null,
      status: 'active',
      settings: this.applySettings(DEFAULT_TENANT_SETTINGS, body.settings),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await changeDirectory(this.deps, tenant.id, async (trx) => {
        await tenantStore.insert(trx, tenant);
        await resourceStore.insert(trx, this.adminResource(tenant, now));
        await this.deps.keys.initialise(trx, tenant.id);
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'tenant.created', actor, target: { type: 'tenant', id: tenant.id }, after: tenant }]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw apiErrors.conflict(`a tenant named "${body.name}" already exists`);
      throw error;
    }
    this.byName.delete(tenant.name);
    return tenant;
  }

  async update(caller: AdminCaller, idOrName: string, body: UpdateTenantBody): Promise<Tenant> {
    const before = await this.forCaller(caller, idOrName, 'write');
    const after: Tenant = {
      ...before,
      displayName: body.displayName === undefined ? before.displayName : body.displayName,
      settings: this.applySettings(before.settings, body.settings),
      updatedAt: this.deps.clock(),
    };
    await this.save(actorOf(caller), before, after, 'tenant.updated');
    return after;
  }

  async setStatus(caller: AdminCaller, idOrName: string, status: Tenant['status']): Promise<Tenant> {
    assertInstallAdmin(caller);
    const before = await this.resolve(idOrName);
    if (status === 'disabled' && before.name === HOME_TENANT) throw apiErrors.conflict(`the "${HOME_TENANT}" tenant holds the install's administrators and cannot be disabled`);
    if (before.status === status) return before;
    const after: Tenant = { ...before, status, updatedAt: this.deps.clock() };
    await this.save(actorOf(caller), before, after, status === 'disabled' ? 'tenant.disabled' : 'tenant.enabled');
    return after;
  }

  private async save(actor: AuditActor, before: Tenant, after: Tenant, type: string): Promise<void> {
    await changeDirectory(this.deps, after.id, async (trx: Db) => {
      await tenantStore.update(trx, after);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: after.id, type, actor, target: { type: 'tenant', id: after.id }, before, after }]);
    });
    this.byName.delete(after.name);
  }

  private applySettings(base: TenantSettings, patch: TenantSettingsPatch | undefined): TenantSettings {
    const settings: TenantSettings = { ...base, ...(patch ?? {}) } as TenantSettings;
    const cap = this.deps.config.accessTokenTtlMaxSeconds;
    if (settings.accessTokenTtlSeconds !== null && settings.accessTokenTtlSeconds > cap) {
      throw apiErrors.invalid(`settings.accessTokenTtlSeconds must be at most ${cap} (SIGNET_ACCESS_TOKEN_TTL_MAX)`);
    }
    if (settings.secretDefaultLifetimeDays > settings.secretMaxLifetimeDays) {
      throw apiErrors.invalid('settings.secretDefaultLifetimeDays must not exceed settings.secretMaxLifetimeDays');
    }
    return settings;
  }

  private adminResource(tenant: Tenant, now: number): Resource {
    const roles = [
      { name: TENANT_ADMIN_ROLE, description: `Manage everything in tenant ${tenant.name}` },
      { name: TENANT_READER_ROLE, description: `Read everything in tenant ${tenant.name}` },
      { name: AUDIT_READER_ROLE, description: `Read the audit trail of tenant ${tenant.name}` },
    ];
    if (tenant.name === HOME_TENANT) roles.push({ name: INSTALL_ADMIN_ROLE, description: 'Manage every tenant of this Signet install' });
    return {
      id: newId(),
      tenantId: tenant.id,
      identifier: ADMIN_RESOURCE,
      displayName: 'Signet admin API',
      description: 'The Signet admin API itself',
      scopes: [],
      roles,
      builtin: true,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Brings every tenant's built-in admin resource up to this version's role list (a release that
   * adds a built-in role reaches existing tenants too). Roles are only added, never removed.
   */
  async reconcileBuiltinRoles(): Promise<number> {
    let updated = 0;
    let cursor: string | undefined;
    do {
      const page = await tenantStore.list(this.deps.db, { limit: 200, cursor });
      for (const tenant of page.items) {
        const current = await resourceStore.byIdentifier(this.deps.db, tenant.id, ADMIN_RESOURCE);
        if (!current) continue;
        const missing = this.adminResource(tenant, 0).roles.filter((r) => !current.roles.some((c) => c.name === r.name));
        if (missing.length === 0) continue;
        const after: Resource = { ...current, roles: [...current.roles, ...missing], updatedAt: this.deps.clock() };
        await changeDirectory(this.deps, tenant.id, async (trx) => {
          await resourceStore.update(trx, after);
          await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'resource.updated', actor: SYSTEM_ACTOR, target: { type: 'resource', id: current.id }, before: current, after }]);
        });
        updated += 1;
      }
      cursor = page.nextCursor ? page.items.at(-1)?.id : undefined;
    } while (cursor);
    return updated;
  }

  /** For the bootstrap: the home tenant, created with a system actor when the store is empty. */
  async ensureHome(): Promise<{ tenant: Tenant; created: boolean }> {
    const existing = await tenantStore.byName(this.deps.db, HOME_TENANT);
    if (existing) return { tenant: existing, created: false };
    return { tenant: await this.createTenant(SYSTEM_ACTOR, { name: HOME_TENANT, displayName: 'Default tenant' }), created: true };
  }
}
