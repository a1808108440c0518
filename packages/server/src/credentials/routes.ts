import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, PageQuery, TenantParams } from '../admin/schemas.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import { view } from '../admin/view.js';
import { PrincipalParams } from '../principals/routes.js';
import type { Services } from '../services.js';
import { CreateCredentialBody, CreatedCredentialView, CredentialView } from './model.js';

export const CredentialParams = Type.Object(
  { ...PrincipalParams.properties, credentialId: Type.String({ minLength: 1, maxLength: 64, description: 'Credential id' }) },
  { additionalProperties: false },
);

const ExpiringQuery = Type.Object(
  { ...PageQuery.properties, expiringWithinDays: Type.Integer({ minimum: 0, maximum: 3650, description: 'Credentials whose expiry is at most this many days away' }) },
  { additionalProperties: false },
);

export function registerCredentialRoutes(app: FastifyInstance, { tenants, credentials }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['credentials'];

  r.post('/tenants/:tenant/principals/:id/credentials', { schema: { tags, summary: 'Add a credential: a generated secret (shown once) or a public key (JWK or PEM certificate)', params: PrincipalParams, body: CreateCredentialBody, response: { 201: CreatedCredentialView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    const { credential, secret } = await credentials.add(caller, tenant, req.params.id, req.body);
    const body = view.credential(credential);
    return reply.status(201).send(secret === undefined ? body : { ...body, secret });
  });

  r.get('/tenants/:tenant/principals/:id/credentials', { schema: { tags, summary: 'List a principal\'s credentials (never their secrets)', params: PrincipalParams, response: { 200: Type.Object({ items: Type.Array(CredentialView) }), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return { items: (await credentials.list(tenant, req.params.id)).map(view.credential) };
  });

  r.get('/tenants/:tenant/credentials', { schema: { tags, summary: 'Credentials of every principal that expire within N days (already expired ones included), oldest first', params: TenantParams, querystring: ExpiringQuery, response: { 200: PageOf(CredentialView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const { expiringWithinDays, limit, cursor } = req.query;
    const page = await credentials.expiring(tenant, expiringWithinDays, { limit: limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(cursor) });
    return { items: page.items.map(view.credential), nextCursor: page.nextCursor };
  });

  r.delete('/tenants/:tenant/principals/:id/credentials/:credentialId', { schema: { tags, summary: 'Remove a credential', params: CredentialParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await credentials.remove(caller, tenant, req.params.id, req.params.credentialId);
    return reply.status(204).send(null);
  });
}
