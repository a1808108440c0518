import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Deps } from '../context.js';
import type { Metrics } from './metrics.js';

/** Liveness, readiness (the database answers) and Prometheus metrics. */
export async function registerOps(app: FastifyInstance, deps: Deps, metrics: Metrics): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return reply.status(503).send({ status: 'unavailable', reason: 'database' });
    }
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
