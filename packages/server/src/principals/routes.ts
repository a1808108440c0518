import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { CreatePrincipalBody, ListPrincipalsQuery, PrincipalView, UpdatePrincipalBody } from './model.js';

export const PrincipalParams = Type.Object(
  { tenant: TenantParams.properties.tenant, id: Type.String({ minLength: 1, maxLength: 64, description: 'Principal id (its client_id)' }) },
  { additionalProperties: false },
);

export function registerPrincipalRoutes(app: FastifyInstance, { tenants, principals }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['principals'];

  r.post('/tenants/:tenant/principals', { schema: { tags, summary: 'Create a principal (user, service, managed or agent)', params: TenantParams, body: CreatePrincipalBody, response: { 201: PrincipalView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return reply.status(201).send(view.principal(await principals.create(caller, tenant, req.body)));
  });

  r.get('/tenants/:tenant/principals', { schema: { tags, summary: 'List principals, filtered by kind and status', params: TenantParams, querystring: ListPrincipalsQuery, response: { 200: PageOf(PrincipalView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const { kind, status, limit, cursor } = req.query;
    const page = await principals.list(tenant, { kind, status }, { limit: limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(cursor) });
    return { items: page.items.map(view.principal), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/principals/:id', { schema: { tags, summary: 'Get a principal', params: PrincipalParams, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return view.principal(await principals.get(tenant, req.params.id));
  });

  r.patch('/tenants/:tenant/principals/:id', { schema: { tags, summary: 'Update a principal', params: PrincipalParams, body: UpdatePrincipalBody, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return view.principal(await principals.update(caller, tenant, req.params.id, req.body));
  });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    r.post(`/tenants/:tenant/principals/:id/${action}`, { schema: { tags, summary: action === 'disable' ? 'Disable a principal: no token is issued to it on any path' : 'Enable a disabled principal', params: PrincipalParams, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
      const caller = callerOf(req);
      const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
      return view.principal(await principals.setStatus(caller, tenant, req.params.id, status));
    });
  }

  r.delete('/tenants/:tenant/principals/:id', { schema: { tags, summary: 'Delete a principal (soft: the record stays for audit; its credentials are removed)', params: PrincipalParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await principals.delete(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
