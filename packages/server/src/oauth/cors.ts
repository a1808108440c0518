import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { oauthErrors } from '../errors.js';
import type { Services } from '../services.js';

/**
 * Cross-origin access for browser clients (single-page apps, browser-based MCP clients).
 *
 * - Discovery and the JWKS are public documents: any origin may read them.
 * - The token, revocation, PAR and userinfo endpoints answer a page only on an origin of one of the
 *   client's redirect URIs, the only origins an administrator has said the client runs on. A
 *   preflight cannot name the client (it has no body), so it is answered for any origin; the request
 *   itself is then checked once the client is known. A token, revocation or PAR request from any
 *   other origin is refused before it changes anything (a code stays unredeemed, a refresh token
 *   unrotated); userinfo, which changes nothing, just leaves the page unable to read its answer.
 * - Requests without `Origin` (servers, native apps, curl) and same-origin ones are not affected.
 */

/** The headers a browser client sends to these endpoints beyond the CORS-safelisted ones. */
const ALLOWED_HEADERS = 'authorization, content-type, dpop';
/** Response headers a page may read: RFC 9449 nonces and RFC 6750 challenges. */
const EXPOSED_HEADERS = 'dpop-nonce, www-authenticate';
const PREFLIGHT_MAX_AGE_S = 600;

/** The request's `Origin` when it comes from a page on another origin than `issuer`'s; undefined otherwise. */
function crossOrigin(request: FastifyRequest, issuer: string): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  return origin === new URL(issuer).origin ? undefined : origin;
}

/** The origins of a client's http(s) redirect URIs: where its pages run. */
async function clientOrigins(services: Services, tenantId: string, clientId: string): Promise<Set<string>> {
  const registration = await services.oauthClients.forProtocol(tenantId, clientId);
  const origins = new Set<string>();
  for (const uri of registration?.redirectUris ?? []) {
    if (!URL.canParse(uri)) continue;
    const url = new URL(uri);
    if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
  }
  return origins;
}

function allow(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS);
}

/**
 * For a request a client has made (its authentication done): lets a page on one of the client's
 * origins read the answer, success or error, and refuses a page on any other origin with
 * `invalid_request` before the request has any effect.
 */
export async function admitClientOrigin(services: Services, request: FastifyRequest, reply: FastifyReply, tenant: { id: string }, issuer: string, clientId: string): Promise<void> {
  const origin = crossOrigin(request, issuer);
  if (origin === undefined) return;
  reply.header('vary', 'origin');
  if (!(await clientOrigins(services, tenant.id, clientId)).has(origin)) {
    throw oauthErrors.invalidRequest(`requests from ${origin.slice(0, 200)} are not allowed for this client: none of its redirect URIs is on that origin`);
  }
  allow(reply, origin);
}

/** Userinfo: the page may read the answer only on an origin of the client the access token was issued to. */
export async function exposeToClientOrigin(services: Services, request: FastifyRequest, reply: FastifyReply, tenant: { id: string }, issuer: string, clientId: string): Promise<void> {
  const origin = crossOrigin(request, issuer);
  if (origin === undefined) return;
  reply.header('vary', 'origin');
  if ((await clientOrigins(services, tenant.id, clientId)).has(origin)) allow(reply, origin);
}

/** Public documents (discovery, JWKS): readable from any page. */
export function allowAnyOrigin(reply: FastifyReply): FastifyReply {
  return reply.header('access-control-allow-origin', '*');
}

/** Requests open to any page (dynamic client registration): readable from any origin, errors included. */
export function admitAnyOrigin(request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers.origin !== undefined) allowAnyOrigin(reply);
}

/** Answers preflights for endpoints whose requests are checked per client once they arrive. */
export function registerPreflights(app: FastifyInstance, routes: { url: string; methods: string }[]): void {
  for (const { url, methods } of routes) {
    app.options(url, async (request, reply) => {
      reply.header('vary', 'origin, access-control-request-method, access-control-request-headers');
      const origin = request.headers.origin;
      if (origin !== undefined && request.headers['access-control-request-method'] !== undefined) {
        reply
          .header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', methods)
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
      }
      return reply.status(204).send();
    });
  }
}
