import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';

import { callerOf } from '../admin/auth.js';
import { errorResponses, PageOf, PageQuery, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { CreateTenantBody, TenantView, UpdateTenantBody } from './model.js';

export function registerTenantRoutes(app: FastifyInstance, { tenants }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tenants'];

  r.post('/tenants', { schema: { tags, summary: 'Create a tenant (install admins)', body: CreateTenantBody, response: { 201: TenantView, ...errorResponses } } }, async (req, reply) => {
    const tenant = await tenants.create(callerOf(req), req.body);
    return reply.status(201).send(view.tenant(tenant, tenants.issuer(tenant)));
  });

  r.get('/tenants', { schema: { tags, summary: 'List tenants (install admins)', querystring: PageQuery, response: { 200: PageOf(TenantView), ...errorResponses } } }, async (req) => {
    const page = await tenants.list(callerOf(req), { limit: req.query.limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(req.query.cursor) });
    return { items: page.items.map((t) => view.tenant(t, tenants.issuer(t))), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant', { schema: { tags, summary: 'Get a tenant by id or name', params: TenantParams, response: { 200: TenantView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return view.tenant(tenant, tenants.issuer(tenant));
  });

  r.patch('/tenants/:tenant', { schema: { tags, summary: 'Update a tenant\'s display name or settings', params: TenantParams, body: UpdateTenantBody, response: { 200: TenantView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.update(callerOf(req), req.params.tenant, req.body);
    return view.tenant(tenant, tenants.issuer(tenant));
  });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    r.post(`/tenants/:tenant/${action}`, { schema: { tags, summary: `${action[0]?.toUpperCase()}${action.slice(1)} a tenant (install admins)`, params: TenantParams, response: { 200: TenantView, ...errorResponses } } }, async (req) => {
      const tenant = await tenants.setStatus(callerOf(req), req.params.tenant, status);
      return view.tenant(tenant, tenants.issuer(tenant));
    });
  }
}

