import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { actorOf } from '../admin/caller.js';
import { errorResponses, TenantParams } from '../admin/schemas.js';
import { view } from '../admin/view.js';
import { SIGNING_ALGS } from '../config.js';
import { OneOf } from '../http/schema.js';
import type { Services } from '../services.js';

const Time = Type.Union([Type.String(), Type.Null()]);

export const SigningKeyView = Type.Object({
  kid: Type.String({ description: 'RFC 7638 thumbprint of the public key' }),
  alg: OneOf(SIGNING_ALGS),
  status: OneOf(['next', 'active', 'retired'], { description: 'next: published, signs nothing yet; active: signs; retired: published until its tokens expire' }),
  createdAt: Type.String(),
  activatedAt: Time,
  retiredAt: Time,
  expiresAt: Time,
});

export const RotationView = Type.Object({
  activated: Type.String({ description: 'kid of the key that signs from now on' }),
  retired: Type.Union([Type.String(), Type.Null()], { description: 'kid of the key that stopped signing' }),
});

export function registerSigningKeyRoutes(app: FastifyInstance, { tenants, keys }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['signing keys'];

  r.get('/tenants/:tenant/keys', { schema: { tags, summary: 'List the tenant\'s signing keys and their lifecycle (public parts only)', params: TenantParams, response: { 200: Type.Object({ items: Type.Array(SigningKeyView) }), ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return { items: (await keys.list(tenant.id)).map(view.signingKey) };
  });

  r.post('/tenants/:tenant/keys/rotate', { schema: { tags, summary: 'Rotate now: the published next key signs, the active key retires', params: TenantParams, response: { 200: RotationView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return keys.rotate(tenant.id, actorOf(caller));
  });
}
