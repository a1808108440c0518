import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/model.js';
import type { Deps } from '../context.js';
import { isoTime } from '../db/json.js';
import { ApiError, OAuthError, oauthErrors } from '../errors.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { authenticateClient, type AuthenticatedClient } from './client-auth/index.js';
import type { ProvenCredential } from './client-auth/client.js';
import { endpointsFor } from './metadata.js';
import { formParams, type Params } from './params.js';
import { FailureThrottle } from './throttle.js';

/**
 * Self-service key rotation for private_key_jwt clients, with no admin and no gap:
 *   POST   {issuer}/oauth2/keys                  jwk=<public JWK as JSON>[&expires_at=<ISO 8601>]
 *   DELETE {issuer}/oauth2/keys/{credentialId}
 * Both are authenticated exactly like the token endpoint, but only by private_key_jwt: the
 * principal proves its current key to add the next one, then proves the next one to retire the
 * old. Errors are RFC 6749 §5.2 JSON.
 */
export function registerKeysEndpoint(app: FastifyInstance, deps: Deps, services: Services): void {
  const throttle = new FailureThrottle({ maxFailures: deps.config.clientAuthFailureLimit, windowMs: 60_000, clock: deps.clock });

  async function authenticate(request: FastifyRequest<{ Params: { tenant: string } }>, params: Params): Promise<{ tenant: Tenant; client: AuthenticatedClient & { credential: ProvenCredential } }> {
    const tenant = await services.tenants.activeByName(request.params.tenant);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    throttle.check(request.ip);
    try {
      const client = await authenticateClient({ deps, tenant, endpoints: endpointsFor(services.tenants.issuer(tenant)) }, request, params);
      const { credential } = client;
      if (client.method !== 'private_key_jwt' || !credential) throw oauthErrors.invalidClient(`${client.method} cannot manage keys; authenticate with private_key_jwt`);
      return { tenant, client: { ...client, credential } };
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_client') throttle.fail(request.ip);
      throw error;
    }
  }

  const actor = (request: FastifyRequest, tenant: Tenant, client: AuthenticatedClient): AuditActor => ({
    id: client.principal.id,
    jti: null,
    tenantId: tenant.id,
    source: { ip: request.ip, requestId: request.id },
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/keys', async (request, reply: FastifyReply) => {
    const params = formParams(request);
    const { tenant, client } = await authenticate(request, params);
    const jwk = parseJwk(params.jwk);
    const expiresAt = parseExpiry(params.expires_at);
    const credential = await asOAuth(() => services.credentials.addOwnKey(actor(request, tenant, client), tenant, client.principal, jwk, expiresAt));
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send({ id: credential.id, type: credential.type, thumbprint: credential.thumbprint, createdAt: isoTime(credential.createdAt), expiresAt: isoTime(credential.expiresAt) });
  });

  app.delete<{ Params: { tenant: string; credentialId: string } }>('/:tenant/oauth2/keys/:credentialId', async (request, reply) => {
    const params = formParams(request);
    const { tenant, client } = await authenticate(request, params);
    await asOAuth(() => services.credentials.retireOwnKey(actor(request, tenant, client), tenant, client.principal, request.params.credentialId, client.credential.id));
    return reply.status(204).header('cache-control', 'no-store').send();
  });
}

function parseJwk(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined) throw oauthErrors.invalidRequest('jwk is missing');
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw);
  } catch {
    throw oauthErrors.invalidRequest('jwk must be a JSON object');
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw oauthErrors.invalidRequest('jwk must be a JSON object');
  return jwk as Record<string, unknown>;
}

function parseExpiry(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const at = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(at)) throw oauthErrors.invalidRequest('expires_at must be an ISO 8601 date-time');
  return at;
}

/** The credential service speaks admin API errors; this endpoint answers in RFC 6749 §5.2 terms. */
async function asOAuth<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) throw new OAuthError('invalid_request', error.message, undefined, { status: error.status === 404 ? 404 : error.status === 409 ? 409 : 400 });
    throw error;
  }
}
