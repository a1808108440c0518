import type { FastifyInstance } from 'fastify';
import type { Deps } from '../context.js';
import { oauthErrors } from '../errors.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { assignedIdentities, join, rotateNodeKey } from './protocol.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * What `signet node` calls, under each tenant's issuer, with RFC 6749-style JSON errors:
 * join (join token + first public key), key rotation and the list of assigned identities.
 * Tokens themselves come from the token endpoint (client assertion type node-jwt).
 */
export function registerNodeProtocol(app: FastifyInstance, deps: Deps, services: Services): void {
  const tenantOf = async (name: string): Promise<{ tenant: Tenant; issuer: string }> => {
    const tenant = await services.tenants.activeByName(name);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    return { tenant, issuer: services.tenants.issuer(tenant) };
  };
  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };

  app.post<{ Params: { tenant: string } }>('/:tenant/nodes/join', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const { tenant, issuer } = await tenantOf(req.params.tenant);
    const { node, key } = await join(deps, tenant, issuer, req);
    return reply.status(201).headers(noStore).send({ node_id: node.id, name: node.name, tenant: tenant.name, issuer, kid: key.id, key_expires_at: seconds(key.expiresAt) });
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/nodes/keys', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const { tenant, issuer } = await tenantOf(req.params.tenant);
    const { key, previous } = await rotateNodeKey(deps, tenant, issuer, req);
    return reply.headers(noStore).send({ kid: key.id, key_expires_at: seconds(key.expiresAt), previous_kid: previous.id, previous_key_expires_at: seconds(previous.expiresAt) });
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/nodes/identities', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const { tenant, issuer } = await tenantOf(req.params.tenant);
    const identities = await assignedIdentities(deps, tenant, issuer, req);
    return reply.headers(noStore).send({ identities: identities.map((i) => ({ client_id: i.id, object_id: i.id, display_name: i.displayName })) });
  });
}
