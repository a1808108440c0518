import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent, PageOf, PageQuery, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { CreateCredentialBody, CreatedCredentialView, CredentialView } from '../credentials/model.js';
import { isoTime } from '../db/json.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../db/page.js';
import type { ResourceService } from '../resources/service.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { type Blueprint, BlueprintView, CreateBlueprintBody, UpdateBlueprintBody } from './model.js';

const BlueprintParams = Type.Object(
  { tenant: TenantParams.properties.tenant, blueprint: Type.String({ minLength: 1, maxLength: 200, description: 'Blueprint id or name' }) },
  { additionalProperties: false },
);
const BlueprintCredentialParams = Type.Object(
  { ...BlueprintParams.properties, credentialId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

/** The API representation: resources named by id and identifier. */
async function blueprintView(resources: ResourceService, tenant: Tenant, b: Blueprint): Promise<BlueprintView> {
  const permissions = [];
  for (const p of b.permissions) {
    const identifier = await resources.resolve(tenant, p.resourceId).then((r) => r.identifier, () => '');
    permissions.push({ resource: p.resourceId, resourceIdentifier: identifier, roles: p.roles, scopes: p.scopes });
  }
  return {
    id: b.id,
    tenantId: b.tenantId,
    name: b.name,
    description: b.description,
    permissions,
    accessTokenLifetimeSeconds: b.accessTokenLifetimeSeconds,
    maxDelegationDepth: b.maxDelegationDepth,
    allowAppRoles: b.allowAppRoles,
    allowDelegation: b.allowDelegation,
    requireDpop: b.requireDpop,
    createdAt: isoTime(b.createdAt) as string,
    updatedAt: isoTime(b.updatedAt) as string,
  };
}

export function registerBlueprintRoutes(app: FastifyInstance, { tenants, blueprints, resources }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['blueprints'];
  const base = '/tenants/:tenant/blueprints';

  r.post(base, { schema: { tags, summary: 'Create a blueprint: the most its agents may hold, their token lifetime and delegation caps, DPoP', params: TenantParams, body: CreateBlueprintBody, response: { 201: BlueprintView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return reply.status(201).send(await blueprintView(resources, tenant, await blueprints.create(caller, tenant, req.body)));
  });

  r.get(base, { schema: { tags, summary: 'List blueprints', params: TenantParams, querystring: PageQuery, response: { 200: PageOf(BlueprintView), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const page = await blueprints.list(tenant, { limit: req.query.limit ?? DEFAULT_PAGE_SIZE, cursor: decodeCursor(req.query.cursor) });
    const items = [];
    for (const b of page.items) items.push(await blueprintView(resources, tenant, b));
    return { items, nextCursor: page.nextCursor };
  });

  r.get(`${base}/:blueprint`, { schema: { tags, summary: 'Get a blueprint', params: BlueprintParams, response: { 200: BlueprintView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return blueprintView(resources, tenant, await blueprints.resolve(tenant, req.params.blueprint));
  });

  r.patch(`${base}/:blueprint`, { schema: { tags, summary: 'Change a blueprint; narrowing applies to every agent of it at their next token', params: BlueprintParams, body: UpdateBlueprintBody, response: { 200: BlueprintView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return blueprintView(resources, tenant, await blueprints.update(caller, tenant, req.params.blueprint, req.body));
  });

  r.delete(`${base}/:blueprint`, { schema: { tags, summary: 'Delete a blueprint that no live agent was created from', params: BlueprintParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await blueprints.delete(caller, tenant, req.params.blueprint);
    return reply.status(204).send(null);
  });

  r.post(`${base}/:blueprint/credentials`, { schema: { tags, summary: 'Add a credential the blueprint lends its agents (they authenticate with it and their own client_id)', params: BlueprintParams, body: CreateCredentialBody, response: { 201: CreatedCredentialView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    const { credential, secret } = await blueprints.addCredential(caller, tenant, req.params.blueprint, req.body);
    const body = view.credential(credential);
    return reply.status(201).send(secret === undefined ? body : { ...body, secret });
  });

  r.get(`${base}/:blueprint/credentials`, { schema: { tags, summary: 'List a blueprint\'s credentials (never their secrets)', params: BlueprintParams, response: { 200: Type.Object({ items: Type.Array(CredentialView) }), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return { items: (await blueprints.credentials(tenant, req.params.blueprint)).map(view.credential) };
  });

  r.delete(`${base}/:blueprint/credentials/:credentialId`, { schema: { tags, summary: 'Remove a blueprint credential: none of its agents can use it any more', params: BlueprintCredentialParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await blueprints.removeCredential(caller, tenant, req.params.blueprint, req.params.credentialId);
    return reply.status(204).send(null);
  });
}
