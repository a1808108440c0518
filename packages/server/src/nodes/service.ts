import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { Deps } from '../context.js';
import { newId, randomToken } from '../crypto/ids.js';
import type { Page, PageRequest } from '../db/page.js';
import { changeDirectory } from '../db/directory-change.js';
import { apiErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import type { PrincipalService } from '../principals/service.js';
import type { Tenant } from '../tenants/model.js';
import type { CreateJoinTokenBody, JoinToken, Node, NodeKey } from './model.js';
import { nodeStore } from './store.js';

/** Prefix so secret scanners can recognise a leaked Signet node join token. */
export const JOIN_TOKEN_PREFIX = 'sgn_join_';

export interface NodeDetails {
  node: Node;
  identities: string[];
  keys: NodeKey[];
}

/** The node registry for admins: join tokens, nodes, identity assignments, disable and delete. */
export class NodeService {
  constructor(
    private readonly deps: Deps,
    private readonly principals: PrincipalService,
  ) {}

  /** A single-use, expiring join token; the returned `token` is the only time it is ever shown. */
  async createJoinToken(caller: AdminCaller, tenant: Tenant, body: CreateJoinTokenBody): Promise<{ joinToken: JoinToken; token: string }> {
    const now = this.deps.clock();
    const token = JOIN_TOKEN_PREFIX + randomToken(32);
    const joinToken: JoinToken = {
      id: newId(),
      tenantId: tenant.id,
      name: body.name ?? null,
      digest: this.deps.hasher.digest(token),
      createdAt: now,
      expiresAt: now + (body.ttlSeconds ?? this.deps.config.nodeJoinTokenTtlSeconds) * 1000,
      usedAt: null,
      nodeId: null,
    };
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await nodeStore.insertJoinToken(trx, joinToken);
      await this.deps.audit.recordInTransaction(trx, [
        { tenantId: tenant.id, type: 'node_join_token.created', actor: actorOf(caller), target: { type: 'node_join_token', id: joinToken.id }, after: { id: joinToken.id, name: joinToken.name, expiresAt: joinToken.expiresAt } },
      ]);
    });
    return { joinToken, token };
  }

  list(tenant: Tenant, page: PageRequest): Promise<Page<Node>> {
    return nodeStore.list(this.deps.db, tenant.id, page);
  }

  async get(tenant: Tenant, nodeId: string): Promise<NodeDetails> {
    const node = await nodeStore.get(this.deps.db, tenant.id, nodeId);
    if (!node || node.status === 'deleted') throw apiErrors.notFound('node', nodeId);
    return this.details(node);
  }

  async details(node: Node): Promise<NodeDetails> {
    return {
      node,
      identities: await nodeStore.assigned(this.deps.db, node.tenantId, node.id),
      keys: await nodeStore.liveKeys(this.deps.db, node.tenantId, node.id, this.deps.clock()),
    };
  }

  /** Lets the node fetch tokens for a managed identity (kinds with a platform-held key only). */
  async assign(caller: AdminCaller, tenant: Tenant, nodeId: string, principalId: string): Promise<NodeDetails> {
    const node = await this.liveNode(tenant, nodeId);
    const principal = await this.principals.getLive(tenant, principalId);
    if (!rulesFor(principal.kind).platformHeldKey) throw apiErrors.invalid(`principals of kind "${principal.kind}" cannot be assigned to nodes; only managed identities can`);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      if (await nodeStore.isAssigned(trx, tenant.id, node.id, principal.id)) throw apiErrors.conflict(`principal "${principal.id}" is already assigned to node "${node.id}"`);
      await nodeStore.assign(trx, tenant.id, node.id, principal.id, this.deps.clock());
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'node.assigned', actor: actorOf(caller), target: { type: 'node', id: node.id }, after: { principalId: principal.id } }]);
    });
    return this.details(node);
  }

  async unassign(caller: AdminCaller, tenant: Tenant, nodeId: string, principalId: string): Promise<void> {
    const node = await this.liveNode(tenant, nodeId);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      if (!(await nodeStore.unassign(trx, tenant.id, node.id, principalId))) throw apiErrors.notFound('assignment', principalId);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'node.unassigned', actor: actorOf(caller), target: { type: 'node', id: node.id }, before: { principalId } }]);
    });
  }

  /** A disabled node's assertions are refused at once; enabling restores it with its keys. */
  async setStatus(caller: AdminCaller, tenant: Tenant, nodeId: string, status: 'active' | 'disabled'): Promise<NodeDetails> {
    const before = await this.liveNode(tenant, nodeId);
    if (before.status === status) return this.details(before);
    const now = this.deps.clock();
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await nodeStore.setStatus(trx, tenant.id, nodeId, status, now);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: status === 'disabled' ? 'node.disabled' : 'node.enabled', actor: actorOf(caller), target: { type: 'node', id: nodeId }, before: { status: before.status }, after: { status } }]);
    });
    return this.details({ ...before, status, updatedAt: now });
  }

  /** Delete keeps the record for the audit trail; its keys and assignments are removed, so it can never act again. */
  async delete(caller: AdminCaller, tenant: Tenant, nodeId: string): Promise<void> {
    const before = await this.liveNode(tenant, nodeId);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await nodeStore.deleteKeys(trx, tenant.id, nodeId);
      await nodeStore.unassignAll(trx, tenant.id, 'node_id', nodeId);
      await nodeStore.setStatus(trx, tenant.id, nodeId, 'deleted', this.deps.clock());
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'node.deleted', actor: actorOf(caller), target: { type: 'node', id: nodeId }, before: { name: before.name, status: before.status } }]);
    });
  }

  private async liveNode(tenant: Tenant, nodeId: string): Promise<Node> {
    const node = await nodeStore.get(this.deps.db, tenant.id, nodeId);
    if (!node || node.status === 'deleted') throw apiErrors.notFound('node', nodeId);
    return node;
  }
}
