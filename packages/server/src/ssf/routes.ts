import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, TenantParams } from '../admin/schemas.js';
import { isoTime } from '../db/json.js';
import type { Services } from '../services.js';
import { CreateReceiverBody, type Receiver, ReceiverView } from './model.js';

const ReceiverParams = Type.Object({ tenant: TenantParams.properties.tenant, id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

function receiverView(r: Receiver, pending: number): ReceiverView {
  return { id: r.id, tenantId: r.tenantId, endpointUrl: r.endpointUrl, audience: r.audience, hasAuthorization: r.authorization !== null, description: r.description, createdAt: isoTime(r.createdAt) as string, pending };
}

export function registerSsfRoutes(app: FastifyInstance, { tenants, receivers }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['shared signals'];
  const base = '/tenants/:tenant/ssf/receivers';

  r.post(base, { schema: { tags, summary: 'Register a Shared Signals receiver: every stop (disable, suspension, deletion, credential removal) is pushed to it as a CAEP Security Event Token (RFC 8935)', params: TenantParams, body: CreateReceiverBody, response: { 201: ReceiverView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return reply.status(201).send(receiverView(await receivers.create(caller, tenant, req.body), 0));
  });

  r.get(base, { schema: { tags, summary: 'List Shared Signals receivers', params: TenantParams, response: { 200: Type.Object({ items: Type.Array(ReceiverView) }), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const items = [];
    for (const receiver of await receivers.list(tenant)) items.push(receiverView(receiver, await receivers.pending(tenant, receiver.id)));
    return { items };
  });

  r.get(`${base}/:id`, { schema: { tags, summary: 'Get a Shared Signals receiver with its count of undelivered signals', params: ReceiverParams, response: { 200: ReceiverView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return receiverView(await receivers.get(tenant, req.params.id), await receivers.pending(tenant, req.params.id));
  });

  r.delete(`${base}/:id`, { schema: { tags, summary: 'Remove a receiver and its undelivered signals', params: ReceiverParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await receivers.remove(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
