import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, PageQuery, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { CreateResourceBody, ResourceView, UpdateResourceBody } from './model.js';

/**
 * `:resource` is a resource id or its identifier, URL-encoded as one path segment
 * (`api%3A%2F%2Forders`); the router decodes `%2F` inside a parameter.
 */
export const ResourceParams = Type.Object(
  { tenant: TenantParams.properties.tenant, resource: Type.String({ minLength: 1, maxLength: 500, description: 'Resource id, or its identifier URL-encoded (api%3A%2F%2Forders)' }) },
  { additionalProperties: false },
);

export function registerResourceRoutes(app: FastifyInstance, { tenants, resources }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['resources'];

  r.post('/tenants/:tenant/resources', { schema: { tags, summary: 'Create a resource (a protected API) with its scopes and roles', params: TenantParams, body: CreateResourceBody, response: { 201: ResourceView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return reply.status(201).send(view.resource(await resources.create(caller, tenant, req.body)));
  });

  r.get('/tenants/:tenant/resources', { schema: { tags, summary: 'List resources', params: TenantParams, querystring: PageQuery, response: { 200: PageOf(ResourceView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const page = await resources.list(tenant, { limit: req.query.limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(req.query.cursor) });
    return { items: page.items.map(view.resource), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/resources/:resource', { schema: { tags, summary: 'Get a resource by id or identifier', params: ResourceParams, response: { 200: ResourceView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return view.resource(await resources.resolve(tenant, req.params.resource));
  });

  r.patch('/tenants/:tenant/resources/:resource', { schema: { tags, summary: 'Update a resource (built-in resources cannot change; a role still granted cannot be removed)', params: ResourceParams, body: UpdateResourceBody, response: { 200: ResourceView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return view.resource(await resources.update(caller, tenant, req.params.resource, req.body));
  });

  r.delete('/tenants/:tenant/resources/:resource', { schema: { tags, summary: 'Delete a resource and every grant on it', params: ResourceParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await resources.delete(caller, tenant, req.params.resource);
    return reply.status(204).send(null);
  });
}
