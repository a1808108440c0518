import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../admin/caller.js';
import { callerOf } from '../admin/auth.js';
import { errorResponses } from '../admin/schemas.js';
import type { Deps } from '../context.js';
import { isoTime } from '../db/json.js';
import { apiErrors } from '../errors.js';
import { rulesFor } from '../principals/kinds.js';
import { PrincipalParams } from '../principals/routes.js';
import type { Services } from '../services.js';
import { type ManagedKey, ManagedKeyView } from './model.js';
import type { ManagedKeyService } from './service.js';

function keyView(service: ManagedKeyService, k: ManagedKey) {
  return {
    kid: k.id,
    generation: k.generation,
    alg: k.alg,
    publicJwk: k.publicJwk as Record<string, unknown>,
    createdAt: isoTime(k.createdAt) as string,
    rotatesAt: isoTime(service.rotatesAt(k)) as string,
    expiresAt: isoTime(k.expiresAt) as string,
  };
}

/** A managed identity's platform-held keys: public parts and times only, and a forced rotation. */
export function registerManagedKeyRoutes(app: FastifyInstance, deps: Deps, { tenants, principals }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['managed identities'];
  const managedPrincipal = async (tenantName: string, id: string, access: 'read' | 'write', req: Parameters<typeof callerOf>[0]) => {
    const tenant = await tenants.forCaller(callerOf(req), tenantName, access);
    const principal = await principals.getLive(tenant, id);
    if (!rulesFor(principal.kind).platformHeldKey) throw apiErrors.invalid(`principals of kind "${principal.kind}" have no platform-held key`);
    return { tenant, principal };
  };

  r.get('/tenants/:tenant/principals/:id/managed-keys', { schema: { tags, summary: "A managed identity's platform-held keys (public parts only; the private keys never leave Signet)", params: PrincipalParams, response: { 200: Type.Object({ items: Type.Array(ManagedKeyView) }), ...errorResponses } } }, async (req) => {
    const { tenant, principal } = await managedPrincipal(req.params.tenant, req.params.id, 'read', req);
    return { items: (await deps.managedKeys.list(tenant.id, principal.id)).map((k) => keyView(deps.managedKeys, k)) };
  });

  r.post('/tenants/:tenant/principals/:id/managed-keys/rotate', { schema: { tags, summary: 'Create the next key now (the current key stays valid until it expires)', params: PrincipalParams, response: { 200: ManagedKeyView, ...errorResponses } } }, async (req) => {
    const { tenant, principal } = await managedPrincipal(req.params.tenant, req.params.id, 'write', req);
    const key = (await deps.managedKeys.rotate(tenant.id, principal.id, actorOf(callerOf(req)), 'forced')) ?? (await deps.managedKeys.list(tenant.id, principal.id))[0];
    if (!key) throw apiErrors.conflict('the key could not be rotated; retry');
    return keyView(deps.managedKeys, key);
  });
}
