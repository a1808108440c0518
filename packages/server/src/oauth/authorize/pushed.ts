import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../context.js';
import { randomToken } from '../../crypto/ids.js';
import { oauthErrors, PageError, pageErrors } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Tenant } from '../../tenants/model.js';
import { clientRequest } from '../client-request.js';
import { admitClientOrigin } from '../cors.js';
import { FailureThrottle } from '../throttle.js';
import { type PendingAuthorization, requestStore } from '../tokens/request-store.js';
import { REQUEST_TTL_MS } from './flow.js';
import { type AuthorizationParams, authorizationParams } from './params.js';
import { identifyClient, validateRequest } from './validate.js';

/** RFC 9126 §2.2: the request_uri prefix; what follows names the pushed request. */
const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** Pushed requests are told apart from the authorization endpoint's own pending ones by this id prefix. */
const PUSHED_ID_PREFIX = 'par_';
/** RFC 9126 §2.2: short-lived; the client sends the browser on at once. */
const PUSHED_REQUEST_TTL_S = 60;

/**
 * RFC 9126 pushed authorization requests: the client sends the authorization request's parameters
 * directly to Signet, authenticated as at the token endpoint (public clients with `client_id`), and
 * gets a one-time `request_uri` to send the browser with instead. The request is checked exactly as
 * the authorization endpoint checks it, but every error is JSON to the client: nothing has gone
 * through the browser, so nothing can have been tampered with there.
 */
export function pushedAuthorizationEndpoint(deps: Deps, services: Services) {
  const throttle = new FailureThrottle({ maxFailures: deps.config.clientAuthFailureLimit, windowMs: 60_000, clock: deps.clock });
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const { tenant, client } = await clientRequest(deps, services, throttle, request, { allowPublic: true });
    await admitClientOrigin(services, request, reply, tenant, services.tenants.issuer(tenant), client.principal.id);
    const pushed = authorizationParams(request);
    if (pushed.values.request_uri !== undefined) throw oauthErrors.invalidRequest('request_uri cannot be pushed (RFC 9126 §2.1)');
    const clientId = pushed.values.client_id;
    if (clientId !== undefined && clientId !== client.principal.id) throw oauthErrors.invalidRequest('client_id does not name the authenticated client');
    const params: AuthorizationParams = { values: { ...pushed.values, client_id: client.principal.id }, repeated: pushed.repeated };
    let identified;
    try {
      identified = await identifyClient(deps, services, tenant, params);
    } catch (error) {
      if (error instanceof PageError) throw oauthErrors.invalidRequest(error.message);
      throw error;
    }
    const fields = await validateRequest(deps, tenant, params, identified);
    const now = deps.clock();
    const id = PUSHED_ID_PREFIX + randomToken();
    await requestStore.insert(deps.db, { id, tenantId: tenant.id, clientId: client.principal.id, createdAt: now, expiresAt: now + PUSHED_REQUEST_TTL_S * 1000, ...fields });
    return reply.status(201).header('cache-control', 'no-store').send({ request_uri: REQUEST_URI_PREFIX + id, expires_in: PUSHED_REQUEST_TTL_S });
  };
}

/**
 * At the authorization endpoint, a `request_uri` from a pushed request (RFC 9126 §4): with the
 * same `client_id`, unexpired, and used once. The other parameters of the browser's request are
 * ignored; the pushed ones are already validated. The client must still be allowed to sign users
 * in. Returns the request to go on with, under a fresh id with the authorization endpoint's lifetime.
 */
export async function takePushedRequest(deps: Deps, services: Services, tenant: Tenant, params: AuthorizationParams): Promise<PendingAuthorization> {
  const uri = params.values.request_uri ?? '';
  const clientId = params.values.client_id;
  if (params.repeated.has('request_uri') || params.repeated.has('client_id')) throw pageErrors.badClient('The request repeats client_id or request_uri.');
  if (clientId === undefined) throw pageErrors.badClient('The request names no application (client_id is missing).');
  const id = uri.startsWith(REQUEST_URI_PREFIX) ? uri.slice(REQUEST_URI_PREFIX.length) : '';
  if (!id.startsWith(PUSHED_ID_PREFIX)) throw pageErrors.requestGone();
  const now = deps.clock();
  const stored = await requestStore.get(deps.db, tenant.id, id, now);
  if (!stored || stored.clientId !== clientId) throw pageErrors.requestGone();
  // One use: a second authorization request with this request_uri finds nothing.
  if (!(await requestStore.delete(deps.db, tenant.id, id))) throw pageErrors.requestGone();
  await identifyClient(deps, services, tenant, { values: { client_id: clientId, redirect_uri: stored.redirectUri }, repeated: new Set() });
  const { id: _pushed, createdAt: _created, expiresAt: _expires, ...request } = stored;
  return { ...request, id: randomToken(), createdAt: now, expiresAt: now + REQUEST_TTL_MS };
}

