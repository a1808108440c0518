import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { ApiError, API_ERROR_STATUS, type ApiErrorCode } from '../errors.js';
import type { Services } from '../services.js';
import { registerAdmin } from '../admin/routes.js';
import { registerOAuth } from '../oauth/routes.js';
import { registerPeople } from '../people/routes.js';
import { Metrics } from './metrics.js';
import { registerOps } from './ops.js';
import { compileValidator } from './validation.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function codeForStatus(status: number): ApiErrorCode {
  const match = (Object.entries(API_ERROR_STATUS) as [ApiErrorCode, number][]).find(([, s]) => s === status);
  return match ? match[0] : status >= 500 ? 'internal_error' : 'invalid_request';
}

/**
 * Maps any error to the admin API's `{code, message}` shape. Client mistakes keep Fastify's own
 * status (400 bad JSON, 413 too large, 415 media type); anything unexpected is a bare 500 and the
 * detail goes only to the log.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const e = error as { validation?: { instancePath?: string; message?: string; params?: unknown }[]; validationContext?: string; statusCode?: number; message?: string; code?: string };
  if (e.validation) {
    const first = e.validation[0];
    const where = `${e.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    const extra = first?.params && typeof first.params === 'object' && 'additionalProperty' in first.params ? ` (${String((first.params as { additionalProperty: unknown }).additionalProperty)})` : '';
    return new ApiError('invalid_request', `${where} ${first?.message ?? 'is invalid'}${extra}`, { errors: e.validation.map((v) => ({ path: v.instancePath, message: v.message })) });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const message = e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the body is not valid JSON' : (e.message ?? 'bad request');
    return new ApiError(codeForStatus(e.statusCode), message);
  }
  return new ApiError('internal_error', 'internal error');
}

/** Builds the HTTP application: protocol endpoints, admin API, operations endpoints. */
export async function buildApp(deps: Deps, services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({
        disableRequestLogging: deps.config.logLevel !== 'debug' && deps.config.logLevel !== 'trace',
    }),
    // One validator for every route and plugin context, including those that add schemas.
    schemaController: { compilersFactory: { buildValidator: () => compileValidator } },
    bodyLimit: 1024 * 1024,
    trustProxy: deps.config.trustProxy.length > 0 ? deps.config.trustProxy : false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    },
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 500 },
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(apiError.status).header('cache-control', 'no-store').send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(new ApiError('not_found', `no route for ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`).toJSON()),
  );

  const metrics = new Metrics();
  await registerOps(app, deps, metrics);
  await app.register(async (admin) => registerAdmin(admin, deps, services), { prefix: '/admin/v1' });
  await app.register(async (oauth) => registerOAuth(oauth, deps, services, metrics));
  await app.register(async (people) => registerPeople(people, deps, services));
  return app;
}
