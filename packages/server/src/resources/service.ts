import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { Deps } from '../context.js';
import { newId, isId } from '../crypto/ids.js';
import { isUniqueViolation, type Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import { grantStore } from '../grants/store.js';
import type { Tenant } from '../tenants/model.js';
import type { CreateResourceBody, Permission, Resource, UpdateResourceBody } from './model.js';
import { resourceStore } from './store.js';
import { changeDirectory } from '../db/directory-change.js';

function assertUniqueNames(list: Permission[], what: string): void {
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p.name)) throw apiErrors.invalid(`${what} "${p.name}" is declared twice`);
    seen.add(p.name);
  }
}

/** Protected resources (APIs): their identifiers, delegated scopes and application roles. */
export class ResourceService {
  constructor(private readonly deps: Deps) {}

  /** Finds a resource by id or identifier; 404 when there is none. */
  async resolve(tenant: Tenant, idOrIdentifier: string, db: Db = this.deps.db): Promise<Resource> {
    const resource =
      (isId(idOrIdentifier) ? await resourceStore.get(db, tenant.id, idOrIdentifier) : undefined) ??
      (await resourceStore.byIdentifier(db, tenant.id, idOrIdentifier));
    if (!resource) throw apiErrors.notFound('resource', idOrIdentifier);
    return resource;
  }

  list(tenant: Tenant, page: PageRequest): Promise<Page<Resource>> {
    return resourceStore.list(this.deps.db, tenant.id, page);
  }

  async create(caller: AdminCaller, tenant: Tenant, body: CreateResourceBody): Promise<Resource> {
    const now = this.deps.clock();
    const resource: Resource = {
      id: newId(),
      tenantId: tenant.id,
      identifier: body.identifier,
      displayName: body.displayName,
      description: body.description ?? null,
      scopes: body.scopes ?? [],
      roles: body.roles ?? [],
      builtin: false,
      createdAt: now,
      updatedAt: now,
    };
    assertUniqueNames(resource.scopes, 'scope');
    assertUniqueNames(resource.roles, 'role');
    try {
      await changeDirectory(this.deps, tenant.id, async (trx) => {
        await resourceStore.insert(trx, resource);
        await this.audit(trx, caller, 'resource.created', undefined, resource, now);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw apiErrors.conflict(`a resource with identifier "${body.identifier}" already exists`);
      throw error;
    }
    return resource;
  }

  async update(caller: AdminCaller, tenant: Tenant, idOrIdentifier: string, body: UpdateResourceBody): Promise<Resource> {
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.resolve(tenant, idOrIdentifier, trx);
      if (before.builtin) throw apiErrors.conflict(`resource "${before.identifier}" is built in and cannot be changed`);
      const after: Resource = {
        ...before,
        displayName: body.displayName ?? before.displayName,
        description: body.description === undefined ? before.description : body.description,
        scopes: body.scopes ?? before.scopes,
        roles: body.roles ?? before.roles,
        updatedAt: this.deps.clock(),
      };
      assertUniqueNames(after.scopes, 'scope');
      assertUniqueNames(after.roles, 'role');
      const kept = new Set(after.roles.map((r) => r.name));
      for (const removed of before.roles.filter((r) => !kept.has(r.name))) {
        const holders = await grantStore.countForRole(trx, tenant.id, before.id, removed.name);
        if (holders > 0) throw apiErrors.conflict(`role "${removed.name}" is granted to ${holders} principal(s); remove those grants first`);
      }
      await resourceStore.update(trx, after);
      await this.audit(trx, caller, 'resource.updated', before, after, after.updatedAt);
      return after;
    });
  }

  /** Deletes a resource and every grant on it (each grant removal is audited). */
  async delete(caller: AdminCaller, tenant: Tenant, idOrIdentifier: string): Promise<void> {
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = await this.resolve(tenant, idOrIdentifier, trx);
      if (before.builtin) throw apiErrors.conflict(`resource "${before.identifier}" is built in and cannot be deleted`);
      const now = this.deps.clock();
      for (const grant of await grantStore.deleteForResource(trx, tenant.id, before.id)) {
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'grant.removed', actor: actorOf(caller), target: { type: 'grant', id: grant.id }, before: grant }]);
      }
      await resourceStore.delete(trx, tenant.id, before.id);
      await this.audit(trx, caller, 'resource.deleted', before, undefined, now);
    });
  }

  private audit(db: Db, caller: AdminCaller, type: string, before: Resource | undefined, after: Resource | undefined, now: number): Promise<void> {
    const id = (after ?? before)?.id ?? '';
    return this.deps.audit.recordInTransaction(db, [{ tenantId: (after ?? before)?.tenantId ?? '', type, actor: actorOf(caller), target: { type: 'resource', id }, before, after }]);
  }
}
