import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../context.js';
import type { Services } from '../services.js';
import { registerAccountRoutes } from './account-routes.js';
import type { PeopleContext } from './context.js';
import { registerInvitationRoutes } from './invitation-routes.js';
import { registerLoginRoutes } from './login-routes.js';
import { sendErrorPage } from './page.js';
import { registerStepRoutes } from './step-routes.js';

/**
 * The browser pages people use: sign-in (and its steps), account, invitation. Errors here are HTML
 * pages; nothing internal is shown.
 */
export async function registerPeople(app: FastifyInstance, deps: Deps, services: Services): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendErrorPage(reply, status === 413 ? 413 : 400, 'Bad request', 'The request could not be understood.');
    }
    request.log.error({ err: error }, 'page request failed');
    return sendErrorPage(reply, 500, 'Something went wrong', 'The request could not be completed. Try again in a moment.');
  });
  const ctx: PeopleContext = { deps, services, checks: services.people.checks, accounts: services.people.accounts };
  registerLoginRoutes(app, ctx);
  registerStepRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerInvitationRoutes(app, ctx);
}
