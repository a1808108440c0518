import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, TenantParams } from '../admin/schemas.js';
import { isoTime } from '../db/json.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { Services } from '../services.js';
import { AdminConsentBody, type Consent, ConsentView, ListConsentsQuery } from './model.js';

const ConsentParams = Type.Object(
  { tenant: TenantParams.properties.tenant, id: Type.String({ minLength: 1, maxLength: 64, description: 'Consent id' }) },
  { additionalProperties: false },
);

export const consentView = (c: Consent): ConsentView => ({
  id: c.id,
  tenantId: c.tenantId,
  user: c.userId,
  client: c.clientId,
  resource: c.resource,
  scopes: c.scopes,
  grantedBy: c.grantedBy,
  createdAt: isoTime(c.createdAt) as string,
  updatedAt: isoTime(c.updatedAt) as string,
  expiresAt: isoTime(c.expiresAt) as string,
});

export function registerConsentRoutes(app: FastifyInstance, { tenants, consents }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['consents'];

  r.post('/tenants/:tenant/consents', { schema: { tags, summary: 'Admin consent: let a client act with scopes for one user, or (no user) for every user of the tenant', params: TenantParams, body: AdminConsentBody, response: { 201: ConsentView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return reply.status(201).send(consentView(await consents.adminGrant(caller, tenant, req.body)));
  });

  r.get('/tenants/:tenant/consents', { schema: { tags, summary: 'List consents, by user or client, or only admin consents for every user', params: TenantParams, querystring: ListConsentsQuery, response: { 200: PageOf(ConsentView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const { user, client, allUsers, limit, cursor } = req.query;
    const page = await consents.list(tenant, { userId: user, clientId: client, allUsers }, { limit: limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(cursor) });
    return { items: page.items.map(consentView), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/consents/:id', { schema: { tags, summary: 'Get a consent', params: ConsentParams, response: { 200: ConsentView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return consentView(await consents.get(tenant, req.params.id));
  });

  r.delete('/tenants/:tenant/consents/:id', { schema: { tags, summary: 'Revoke a consent: the refresh tokens it backed stop working at once', params: ConsentParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await consents.revoke(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
