import { type AdminCaller, actorOf, assertInstallAdmin } from '../admin/caller.js';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import type { PrincipalService } from '../principals/service.js';
import { INSTALL_ADMIN_ROLE, type Resource } from '../resources/model.js';
import type { ResourceService } from '../resources/service.js';
import type { Tenant } from '../tenants/model.js';
import type { CreateGrantBody, Grant } from './model.js';
import { grantStore } from './store.js';
import { changeDirectory } from '../db/directory-change.js';
import { blueprintStore } from '../blueprints/store.js';
import { allowedRoles } from '../policy/blueprint-policy.js';

/** Application permissions: a principal holds a role on a resource. Nothing is allowed unless granted. */
export class GrantService {
  constructor(
    private readonly deps: Deps,
    private readonly principals: PrincipalService,
    private readonly resources: ResourceService,
  ) {}

  async create(caller: AdminCaller, tenant: Tenant, body: CreateGrantBody): Promise<{ grant: Grant; resource: Resource }> {
    const principal = await this.principals.getLive(tenant, body.principal);
    if (!rulesFor(principal.kind).mayHoldRoles) {
      throw apiErrors.invalid(`principals of kind "${principal.kind}" cannot hold application roles; users receive delegated scopes through consent`);
    }
    const resource = await this.resources.resolve(tenant, body.resource);
    if (!resource.roles.some((r) => r.name === body.role)) {
      throw apiErrors.invalid(`resource "${resource.identifier}" has no role "${body.role}"`, { roles: resource.roles.map((r) => r.name) });
    }
    await this.checkBlueprint(tenant, principal.blueprintId, resource, body.role);
    // Only an install admin can make another install admin.
    if (resource.builtin && body.role === INSTALL_ADMIN_ROLE) assertInstallAdmin(caller);
    const now = this.deps.clock();
    const grant: Grant = { id: newId(), tenantId: tenant.id, principalId: principal.id, resourceId: resource.id, role: body.role, createdAt: now };
    try {
      await changeDirectory(this.deps, tenant.id, async (trx) => {
        await grantStore.insert(trx, grant);
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'grant.added', actor: actorOf(caller), target: { type: 'grant', id: grant.id }, after: grant }]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw apiErrors.conflict(`principal "${principal.id}" already holds role "${body.role}" on "${resource.identifier}"`);
      throw error;
    }
    return { grant, resource };
  }

  /** An agent can never be granted beyond its blueprint: such a grant is refused with `exceeds_blueprint`. */
  private async checkBlueprint(tenant: Tenant, blueprintId: string | null, resource: Resource, role: string): Promise<void> {
    if (!blueprintId) return;
    const blueprint = await blueprintStore.get(this.deps.db, tenant.id, blueprintId);
    const allowed = allowedRoles(blueprint ?? null, resource.id) ?? [];
    if (!allowed.includes(role)) {
      throw apiErrors.exceedsBlueprint(`blueprint "${blueprint?.name ?? blueprintId}" does not allow role "${role}" on "${resource.identifier}"`, { allowed });
    }
  }

  async list(tenant: Tenant, filter: { principal?: string | undefined; resource?: string | undefined }, page: PageRequest): Promise<Page<Grant>> {
    const resourceId = filter.resource ? (await this.resources.resolve(tenant, filter.resource)).id : undefined;
    return grantStore.list(this.deps.db, tenant.id, { principalId: filter.principal, resourceId }, page);
  }

  async get(tenant: Tenant, id: string): Promise<Grant> {
    const grant = await grantStore.get(this.deps.db, tenant.id, id);
    if (!grant) throw apiErrors.notFound('grant', id);
    return grant;
  }

  async remove(caller: AdminCaller, tenant: Tenant, id: string): Promise<void> {
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const grant = await grantStore.get(trx, tenant.id, id);
      if (!grant) throw apiErrors.notFound('grant', id);
      if (grant.role === INSTALL_ADMIN_ROLE) assertInstallAdmin(caller);
      await grantStore.delete(trx, tenant.id, id);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'grant.removed', actor: actorOf(caller), target: { type: 'grant', id }, before: grant }]);
    });
  }
}
