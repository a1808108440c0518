import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { CreatePrincipalBody, ExtendPrincipalBody, ListPrincipalsQuery, PrincipalView, UpdatePrincipalBody } from './model.js';

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

  r.post('/tenants/:tenant/principals/:id/disable', { schema: { tags, summary: 'Kill switch: no token is issued to the principal on any path, and every token it holds or that names it as an actor introspects inactive. Tenant admins and an agent\'s sponsors may call it', params: PrincipalParams, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forSponsorOrCaller(caller, req.params.tenant);
    return view.principal(await principals.setStatus(caller, tenant, req.params.id, 'disabled'));
  });

  r.post('/tenants/:tenant/principals/:id/enable', { schema: { tags, summary: 'Enable a disabled or suspended principal (an agent needs an active sponsor)', params: PrincipalParams, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return view.principal(await principals.setStatus(caller, tenant, req.params.id, 'active'));
  });

  r.post('/tenants/:tenant/principals/:id/extend', { schema: { tags, summary: 'Extend an agent\'s expiry. Tenant admins and the agent\'s sponsors may call it', params: PrincipalParams, body: ExtendPrincipalBody, response: { 200: PrincipalView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forSponsorOrCaller(caller, req.params.tenant);
    return view.principal(await principals.extend(caller, tenant, req.params.id, req.body));
  });

  r.delete('/tenants/:tenant/principals/:id', { schema: { tags, summary: 'Delete a principal (soft: the record stays for audit; its credentials are removed)', params: PrincipalParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await principals.delete(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
