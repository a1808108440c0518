import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../context.js';
import { OAuthError, oauthErrors } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import type { Services } from '../services.js';
import { registerNodeProtocol } from '../nodes/protocol-routes.js';
import { endpointsFor, serverMetadata } from './metadata.js';
import { registerBrowserFlows } from './browser-routes.js';
import { registerKeysEndpoint } from './keys-endpoint.js';
import { pushedAuthorizationEndpoint } from './authorize/pushed.js';
import { registrationEndpoint } from './register.js';
import { allowAnyOrigin, registerPreflights } from './cors.js';
import { tokenEndpoint } from './token-endpoint.js';
import { userinfoEndpoint } from './userinfo.js';
import { introspectionEndpoint } from './introspect.js';
import { accessTokenRevoker, revocationEndpoint } from './revoke.js';
import { refreshTokenRevoker } from './revoke-refresh.js';

/** Maps any error on a protocol endpoint to RFC 6749 §5.2 JSON; never a stack trace. */
function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  const e = error as { statusCode?: number; validation?: unknown };
  if (e.validation) return oauthErrors.invalidRequest('the request is malformed');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new OAuthError('invalid_request', 'the request is malformed', undefined, { status: e.statusCode === 413 ? 413 : 400 });
  }
  return new OAuthError('server_error', 'internal error');
}

/** Per-tenant protocol endpoints: discovery, JWKS, token. */
export async function registerOAuth(app: FastifyInstance, deps: Deps, services: Services, metrics: Metrics): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.setErrorHandler((error, request, reply) => {
    const oauthError = toOAuthError(error);
    if (oauthError.status >= 500) request.log.error({ err: error }, 'protocol request failed');
    reply.status(oauthError.status).header('cache-control', 'no-store').header('pragma', 'no-cache');
    if (oauthError.retryAfter !== undefined) reply.header('retry-after', String(oauthError.retryAfter));
    if (oauthError.error === 'invalid_client') {
      reply.header('www-authenticate', `Basic realm="${services.tenants.issuer({ name: (request.params as { tenant?: string }).tenant ?? '' })}"`);
    }
    return reply.send(oauthError.toJSON());
  });

  const metadata = async (name: string) => {
    const tenant = await services.tenants.activeByName(name);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    const signer = await deps.keys.signer(tenant.id);
    return serverMetadata(tenant, endpointsFor(services.tenants.issuer(tenant)), [signer.alg]);
  };
  const cacheFor = (seconds: number) => `public, max-age=${seconds}`;

  app.get<{ Params: { tenant: string } }>('/:tenant/.well-known/openid-configuration', async (req, reply) =>
    allowAnyOrigin(reply).header('cache-control', cacheFor(300)).send(await metadata(req.params.tenant)),
  );
  app.get<{ Params: { tenant: string } }>('/:tenant/.well-known/oauth-authorization-server', async (req, reply) =>
    allowAnyOrigin(reply).header('cache-control', cacheFor(300)).send(await metadata(req.params.tenant)),
  );
  // RFC 8414 §3.1: for issuers with a path, the well-known segment goes between host and path.
  app.get<{ Params: { tenant: string } }>('/.well-known/oauth-authorization-server/:tenant', async (req, reply) =>
    allowAnyOrigin(reply).header('cache-control', cacheFor(300)).send(await metadata(req.params.tenant)),
  );
  app.get<{ Params: { tenant: string } }>('/:tenant/.well-known/jwks.json', async (req, reply) => {
    const tenant = await services.tenants.activeByName(req.params.tenant);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    // Short cache: a next key is published a whole rotation period before it signs.
    return allowAnyOrigin(reply).header('cache-control', cacheFor(60)).header('content-type', 'application/jwk-set+json').send(await deps.keys.jwks(tenant.id));
  });
  app.post('/:tenant/oauth2/token', tokenEndpoint(deps, services, metrics));
  app.get('/:tenant/oauth2/userinfo', userinfoEndpoint(deps, services));
  app.post('/:tenant/oauth2/userinfo', userinfoEndpoint(deps, services));
  await app.register(async (browser) => registerBrowserFlows(browser, deps, services));
  registerKeysEndpoint(app, deps, services);
  registerNodeProtocol(app, deps, services);
  const verifier = services.accessTokens;
  app.post('/:tenant/oauth2/introspect', introspectionEndpoint(deps, services, verifier));
  app.post('/:tenant/oauth2/revoke', revocationEndpoint(deps, services, [accessTokenRevoker(verifier), refreshTokenRevoker]));
  app.post('/:tenant/oauth2/par', pushedAuthorizationEndpoint(deps, services));
  app.post('/:tenant/oauth2/register', registrationEndpoint(deps, services));
  // Browser clients: their requests are checked per client when they arrive (cors.ts).
  registerPreflights(app, [
    { url: '/:tenant/oauth2/token', methods: 'POST' },
    { url: '/:tenant/oauth2/revoke', methods: 'POST' },
    { url: '/:tenant/oauth2/par', methods: 'POST' },
    { url: '/:tenant/oauth2/register', methods: 'POST' },
    { url: '/:tenant/oauth2/userinfo', methods: 'GET, POST' },
  ]);
}
