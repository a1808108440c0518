import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { OAuthError, PageError, pageErrors } from '../errors.js';
import { sendErrorPage } from '../people/page.js';
import type { Services } from '../services.js';
import { decideConsent, showConsent } from './authorize/consent-page.js';
import { authorize } from './authorize/endpoint.js';
import { type FlowContext, pendingRequest, proceed } from './authorize/flow.js';
import { authorizationParams } from './authorize/params.js';
import { logout } from './end-session.js';

type TenantRequest = FastifyRequest<{ Params: { tenant: string } }>;

/**
 * The browser side of the authorization server: authorize, its continuation after sign-in, the
 * consent page and RP-initiated logout. Errors here are HTML pages; OAuth errors reach a client
 * only through its validated redirect URI (flow.ts).
 */
export async function registerBrowserFlows(app: FastifyInstance, deps: Deps, services: Services): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof PageError) return sendErrorPage(reply, error.status, error.title, error.message);
    if (error instanceof OAuthError && error.status === 404) return sendErrorPage(reply, 404, 'Not found', 'There is no such sign-in service.');
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return sendErrorPage(reply, 400, 'Bad request', 'The request is malformed.');
    request.log.error({ err: error }, 'browser flow failed');
    return sendErrorPage(reply, 500, 'Something went wrong', 'Try again in a moment.');
  });

  const context = async (request: TenantRequest, reply: FastifyReply): Promise<FlowContext> => {
    const tenant = await services.tenants.activeByName(request.params.tenant);
    if (!tenant) throw pageErrors.notFound();
    return { deps, services, tenant, issuer: services.tenants.issuer(tenant), request, reply };
  };

  const authorizeHandler = async (request: TenantRequest, reply: FastifyReply) => authorize(await context(request, reply), authorizationParams(request));
  app.get('/:tenant/oauth2/authorize', authorizeHandler);
  app.post('/:tenant/oauth2/authorize', authorizeHandler);

  app.get('/:tenant/oauth2/authorize/continue', async (request: TenantRequest, reply) => {
    const ctx = await context(request, reply);
    return proceed(ctx, await pendingRequest(ctx, (request.query as Record<string, unknown>).request));
  });

  app.get('/:tenant/oauth2/consent', async (request: TenantRequest, reply) => showConsent(await context(request, reply), (request.query as Record<string, unknown>).request));
  app.post('/:tenant/oauth2/consent', async (request: TenantRequest, reply) => decideConsent(await context(request, reply), (request.body ?? {}) as Record<string, unknown>));

  app.get('/:tenant/oauth2/logout', async (request: TenantRequest, reply) => logout(await context(request, reply), authorizationParams(request), false));
  app.post('/:tenant/oauth2/logout', async (request: TenantRequest, reply) => logout(await context(request, reply), authorizationParams(request), (request.body as Record<string, unknown> | undefined)?.confirm === 'yes'));
}
