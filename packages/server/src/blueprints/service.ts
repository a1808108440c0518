import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { Deps } from '../context.js';
import type { CreateCredentialBody, Credential } from '../credentials/model.js';
import { buildCredential, describeCredential } from '../credentials/service.js';
import { newId } from '../crypto/ids.js';
import { isUniqueViolation } from '../db/connect.js';
import { changeDirectory } from '../db/directory-change.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import type { ResourceService } from '../resources/service.js';
import type { Tenant } from '../tenants/model.js';
import {
  type Blueprint,
  type BlueprintPermission,
  type CreateBlueprintBody,
  DEFAULT_AGENT_TOKEN_LIFETIME_S,
  DEFAULT_MAX_DELEGATION_DEPTH,
  type UpdateBlueprintBody,
} from './model.js';
import { blueprintStore } from './store.js';
import { credentialRemoved, queueStop } from '../ssf/signals.js';
import { issuerUrl } from '../tenants/model.js';

/** Credentials a blueprint lends its agents follow the agent kind's rules. */
const AGENT_KIND = 'agent' as const;

/** Blueprints: the most an agent may ever hold, its caps, and the credentials it lends its agents. */
export class BlueprintService {
  constructor(
    private readonly deps: Deps,
    private readonly resources: ResourceService,
  ) {}

  /** A blueprint by id or name; 404 when there is none. */
  async resolve(tenant: Tenant, idOrName: string): Promise<Blueprint> {
    const blueprint = (await blueprintStore.get(this.deps.db, tenant.id, idOrName)) ?? (await blueprintStore.byName(this.deps.db, tenant.id, idOrName));
    if (!blueprint) throw apiErrors.notFound('blueprint', idOrName);
    return blueprint;
  }

  list(tenant: Tenant, page: PageRequest): Promise<Page<Blueprint>> {
    return blueprintStore.list(this.deps.db, tenant.id, page);
  }

  async create(caller: AdminCaller, tenant: Tenant, body: CreateBlueprintBody): Promise<Blueprint> {
    const now = this.deps.clock();
    const blueprint: Blueprint = {
      id: newId(),
      tenantId: tenant.id,
      name: body.name,
      description: body.description ?? null,
      permissions: [],
      accessTokenLifetimeSeconds: body.accessTokenLifetimeSeconds ?? Math.min(DEFAULT_AGENT_TOKEN_LIFETIME_S, this.deps.config.accessTokenTtlMaxSeconds),
      maxDelegationDepth: body.maxDelegationDepth ?? DEFAULT_MAX_DELEGATION_DEPTH,
      allowAppRoles: body.allowAppRoles ?? false,
      allowDelegation: body.allowDelegation ?? true,
      requireDpop: body.requireDpop ?? true,
      createdAt: now,
      updatedAt: now,
    };
    blueprint.permissions = await this.permissions(tenant, body.permissions ?? []);
    this.checkConsistent(blueprint);
    try {
      await changeDirectory(this.deps, tenant.id, async (trx) => {
        await blueprintStore.insert(trx, blueprint);
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'blueprint.created', actor: actorOf(caller), target: { type: 'blueprint', id: blueprint.id }, after: blueprint }]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw apiErrors.conflict(`a blueprint named "${body.name}" already exists`);
      throw error;
    }
    return blueprint;
  }

  /**
   * Changes a blueprint. Narrowing takes effect for every agent of the blueprint at their next
   * token: issuance computes `granted ∩ blueprint` from the (invalidated) directory cache.
   */
  async update(caller: AdminCaller, tenant: Tenant, idOrName: string, body: UpdateBlueprintBody): Promise<Blueprint> {
    const current = await this.resolve(tenant, idOrName);
    const permissions = body.permissions === undefined ? undefined : await this.permissions(tenant, body.permissions);
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const before = (await blueprintStore.get(trx, tenant.id, current.id)) ?? current;
      const after: Blueprint = {
        ...before,
        description: body.description === undefined ? before.description : body.description,
        permissions: permissions ?? before.permissions,
        accessTokenLifetimeSeconds: body.accessTokenLifetimeSeconds ?? before.accessTokenLifetimeSeconds,
        maxDelegationDepth: body.maxDelegationDepth ?? before.maxDelegationDepth,
        allowAppRoles: body.allowAppRoles ?? before.allowAppRoles,
        allowDelegation: body.allowDelegation ?? before.allowDelegation,
        requireDpop: body.requireDpop ?? before.requireDpop,
        updatedAt: this.deps.clock(),
      };
      this.checkConsistent(after);
      await blueprintStore.update(trx, after);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'blueprint.updated', actor: actorOf(caller), target: { type: 'blueprint', id: after.id }, before, after }]);
      return after;
    });
  }

  /** Deletes a blueprint no live agent was created from; agents are never orphaned. */
  async delete(caller: AdminCaller, tenant: Tenant, idOrName: string): Promise<void> {
    const blueprint = await this.resolve(tenant, idOrName);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const agents = await blueprintStore.countLiveAgents(trx, tenant.id, blueprint.id);
      if (agents > 0) throw apiErrors.conflict(`blueprint "${blueprint.name}" still has ${agents} agent(s); delete them first`);
      for (const credential of await blueprintStore.credentials(trx, tenant.id, blueprint.id)) {
        await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.removed', actor: actorOf(caller), target: { type: 'credential', id: credential.id }, before: describeCredential(credential) }]);
      }
      await blueprintStore.delete(trx, tenant.id, blueprint.id);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'blueprint.deleted', actor: actorOf(caller), target: { type: 'blueprint', id: blueprint.id }, before: blueprint }]);
    });
  }

  /** Adds a credential the blueprint lends every one of its agents. A secret is shown only here. */
  async addCredential(caller: AdminCaller, tenant: Tenant, idOrName: string, body: CreateCredentialBody): Promise<{ credential: Credential; secret?: string }> {
    const blueprint = await this.resolve(tenant, idOrName);
    const existing = await blueprintStore.credentials(this.deps.db, tenant.id, blueprint.id);
    const built = await buildCredential(this.deps, tenant, { id: blueprint.id, kind: AGENT_KIND }, body, existing);
    const credential: Credential = { ...built.credential, blueprintId: blueprint.id };
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await blueprintStore.insertCredential(trx, credential);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.added', actor: actorOf(caller), target: { type: 'credential', id: credential.id }, after: describeCredential(credential) }]);
    });
    return built.secret === undefined ? { credential } : { credential, secret: built.secret };
  }

  async credentials(tenant: Tenant, idOrName: string): Promise<Credential[]> {
    const blueprint = await this.resolve(tenant, idOrName);
    return blueprintStore.credentials(this.deps.db, tenant.id, blueprint.id);
  }

  async removeCredential(caller: AdminCaller, tenant: Tenant, idOrName: string, credentialId: string): Promise<Credential> {
    const blueprint = await this.resolve(tenant, idOrName);
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const credential = await blueprintStore.getCredential(trx, tenant.id, blueprint.id, credentialId);
      if (!credential) throw apiErrors.notFound('credential', credentialId);
      await blueprintStore.deleteCredential(trx, tenant.id, blueprint.id, credentialId);
      // Every agent that could authenticate with it is told, as the credential's subject.
      for (const agentId of await blueprintStore.liveAgentIds(trx, tenant.id, blueprint.id)) {
        await queueStop(this.deps, trx, tenant.id, credentialRemoved(issuerUrl(this.deps.config.publicUrl, tenant), agentId, credential, this.deps.clock()));
      }
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.removed', actor: actorOf(caller), target: { type: 'credential', id: credentialId }, before: describeCredential(credential) }]);
      return credential;
    });
  }

  /** Resolves each permission's resource and checks that it offers the named roles and scopes. */
  private async permissions(tenant: Tenant, body: NonNullable<CreateBlueprintBody['permissions']>): Promise<BlueprintPermission[]> {
    const out: BlueprintPermission[] = [];
    for (const p of body) {
      const resource = await this.resources.resolve(tenant, p.resource);
      if (out.some((o) => o.resourceId === resource.id)) throw apiErrors.invalid(`resource "${resource.identifier}" is listed twice`);
      const roles = [...(p.roles ?? [])].sort();
      const scopes = [...(p.scopes ?? [])].sort();
      const unknownRoles = roles.filter((r) => !resource.roles.some((x) => x.name === r));
      if (unknownRoles.length > 0) throw apiErrors.invalid(`resource "${resource.identifier}" has no role ${unknownRoles.map((r) => `"${r}"`).join(', ')}`, { roles: resource.roles.map((r) => r.name) });
      const unknownScopes = scopes.filter((s) => !resource.scopes.some((x) => x.name === s));
      if (unknownScopes.length > 0) throw apiErrors.invalid(`resource "${resource.identifier}" has no scope ${unknownScopes.map((s) => `"${s}"`).join(', ')}`, { scopes: resource.scopes.map((s) => s.name) });
      out.push({ resourceId: resource.id, roles, scopes });
    }
    return out;
  }

  /** Roles need allowAppRoles, scopes need allowDelegation, and no cap exceeds the install's. */
  private checkConsistent(b: Blueprint): void {
    if (!b.allowAppRoles && b.permissions.some((p) => p.roles.length > 0)) throw apiErrors.invalid('roles are application permissions: set allowAppRoles to true or remove them');
    if (!b.allowDelegation && b.permissions.some((p) => p.scopes.length > 0)) throw apiErrors.invalid('scopes are delegated permissions: set allowDelegation to true or remove them');
    if (b.accessTokenLifetimeSeconds > this.deps.config.accessTokenTtlMaxSeconds) {
      throw apiErrors.invalid(`accessTokenLifetimeSeconds cannot exceed SIGNET_ACCESS_TOKEN_TTL_MAX (${this.deps.config.accessTokenTtlMaxSeconds})`);
    }
  }
}
