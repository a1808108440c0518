import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, PageQuery, TenantParams } from '../admin/schemas.js';
import { isoTime } from '../db/json.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { AssignmentParams, CreateJoinTokenBody, JoinTokenView, NodeParams, NodeView, UpdateNodeBody } from './model.js';
import type { NodeDetails } from './service.js';

/** A node as the admin API shows it: public keys only (the private half never leaves the node). */
export function nodeView({ node, identities, keys }: NodeDetails) {
  return {
    id: node.id,
    tenantId: node.tenantId,
    name: node.name,
    status: node.status,
    identities,
    keys: keys.map((k) => ({ kid: k.id, publicJwk: k.publicJwk as Record<string, unknown>, createdAt: isoTime(k.createdAt) as string, expiresAt: isoTime(k.expiresAt) as string })),
    createdAt: isoTime(node.createdAt) as string,
    updatedAt: isoTime(node.updatedAt) as string,
    lastSeenAt: isoTime(node.lastSeenAt),
  };
}

export function registerNodeRoutes(app: FastifyInstance, { tenants, nodes }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['nodes'];

  r.post('/tenants/:tenant/nodes/join-tokens', { schema: { tags, summary: 'Create a single-use, expiring join token for `signet node` (shown once)', params: TenantParams, body: CreateJoinTokenBody, response: { 201: JoinTokenView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    const { joinToken, token } = await nodes.createJoinToken(caller, tenant, req.body);
    return reply.status(201).send({ id: joinToken.id, name: joinToken.name, token, createdAt: isoTime(joinToken.createdAt) as string, expiresAt: isoTime(joinToken.expiresAt) as string });
  });

  r.get('/tenants/:tenant/nodes', { schema: { tags, summary: 'List nodes', params: TenantParams, querystring: PageQuery, response: { 200: PageOf(NodeView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const page = await nodes.list(tenant, { limit: req.query.limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(req.query.cursor) });
    const items = [];
    for (const node of page.items) items.push(nodeView(await nodes.details(node)));
    return { items, nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/nodes/:nodeId', { schema: { tags, summary: 'Get a node with its assigned identities and public keys', params: NodeParams, response: { 200: NodeView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return nodeView(await nodes.get(tenant, req.params.nodeId));
  });

  r.patch('/tenants/:tenant/nodes/:nodeId', { schema: { tags, summary: 'Disable or enable a node', params: NodeParams, body: UpdateNodeBody, response: { 200: NodeView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return nodeView(await nodes.setStatus(caller, tenant, req.params.nodeId, req.body.status));
  });

  r.delete('/tenants/:tenant/nodes/:nodeId', { schema: { tags, summary: 'Delete a node: its keys and assignments are removed', params: NodeParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await nodes.delete(caller, tenant, req.params.nodeId);
    return reply.status(204).send(null);
  });

  r.put('/tenants/:tenant/nodes/:nodeId/identities/:principalId', { schema: { tags, summary: 'Assign a managed identity to the node', params: AssignmentParams, response: { 200: NodeView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return nodeView(await nodes.assign(caller, tenant, req.params.nodeId, req.params.principalId));
  });

  r.delete('/tenants/:tenant/nodes/:nodeId/identities/:principalId', { schema: { tags, summary: 'Unassign a managed identity from the node', params: AssignmentParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await nodes.unassign(caller, tenant, req.params.nodeId, req.params.principalId);
    return reply.status(204).send(null);
  });
}
