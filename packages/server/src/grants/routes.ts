import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { ResourceService } from '../resources/service.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { CreateGrantBody, GrantView, ListGrantsQuery, type Grant } from './model.js';

export const GrantParams = Type.Object(
  { tenant: TenantParams.properties.tenant, id: Type.String({ minLength: 1, maxLength: 64, description: 'Grant id' }) },
  { additionalProperties: false },
);

/** Views of `grants`, looking up each distinct resource once (a page usually spans few resources). */
async function grantViews(resources: ResourceService, tenant: Tenant, grants: Grant[]) {
  const identifiers = new Map<string, string>();
  for (const resourceId of new Set(grants.map((g) => g.resourceId))) {
    identifiers.set(resourceId, (await resources.resolve(tenant, resourceId)).identifier);
  }
  return grants.map((g) => view.grant(g, identifiers.get(g.resourceId) ?? ''));
}

export function registerGrantRoutes(app: FastifyInstance, { tenants, grants, resources }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['grants'];

  r.post('/tenants/:tenant/grants', { schema: { tags, summary: 'Grant a principal a role on a resource (application permission)', params: TenantParams, body: CreateGrantBody, response: { 201: GrantView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    const { grant, resource } = await grants.create(caller, tenant, req.body);
    return reply.status(201).send(view.grant(grant, resource.identifier));
  });

  r.get('/tenants/:tenant/grants', { schema: { tags, summary: 'List grants, filtered by principal id and resource id or identifier', params: TenantParams, querystring: ListGrantsQuery, response: { 200: PageOf(GrantView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const { principal, resource, limit, cursor } = req.query;
    const page = await grants.list(tenant, { principal, resource }, { limit: limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(cursor) });
    return { items: await grantViews(resources, tenant, page.items), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/grants/:id', { schema: { tags, summary: 'Get a grant', params: GrantParams, response: { 200: GrantView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const grant = await grants.get(tenant, req.params.id);
    return view.grant(grant, (await resources.resolve(tenant, grant.resourceId)).identifier);
  });

  r.delete('/tenants/:tenant/grants/:id', { schema: { tags, summary: 'Remove a grant', params: GrantParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await grants.remove(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
