import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { registerAuditRoutes } from '../audit/routes.js';
import { registerOAuthClientRoutes } from '../clients/routes.js';
import { registerPeopleAdminRoutes } from '../people/admin-routes.js';
import { registerConsentRoutes } from '../consents/routes.js';
import type { Deps } from '../context.js';
import { registerCredentialRoutes } from '../credentials/routes.js';
import { registerGrantRoutes } from '../grants/routes.js';
import { registerManagedKeyRoutes } from '../managed-keys/routes.js';
import { registerNodeRoutes } from '../nodes/routes.js';
import { registerBlueprintRoutes } from '../blueprints/routes.js';
import { registerSsfRoutes } from '../ssf/routes.js';
import { registerPrincipalRoutes } from '../principals/routes.js';
import { registerResourceRoutes } from '../resources/routes.js';
import type { Services } from '../services.js';
import { registerSigningKeyRoutes } from '../signing-keys/routes.js';
import { registerTenantRoutes } from '../tenants/routes.js';
import { installAdminAuth } from './auth.js';
import { ErrorBody } from './schemas.js';

const OPENAPI_PATH = '/openapi.json';

/** The admin API under /admin/v1: every route but the OpenAPI document needs an admin token. */
export async function registerAdmin(app: FastifyInstance, deps: Deps, services: Services): Promise<void> {
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Signet admin API', version: '1', description: 'Directory of people, workloads and AI agents. Every call needs a Signet access token for urn:signet:admin.' },
      servers: [{ url: `${deps.config.publicUrl}/admin/v1` }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema, url: url.replace(/^\/admin\/v1/, '') }),
  });
  installAdminAuth(app, deps, services.accessTokens, new Set([`/admin/v1${OPENAPI_PATH}`]));

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  registerTenantRoutes(app, services);
  registerPrincipalRoutes(app, services);
  registerCredentialRoutes(app, services);
  registerResourceRoutes(app, services);
  registerGrantRoutes(app, services);
  registerBlueprintRoutes(app, services);
  registerSsfRoutes(app, services);
  registerSigningKeyRoutes(app, services);
  registerAuditRoutes(app, deps, services);
  registerPeopleAdminRoutes(app, services);
  registerOAuthClientRoutes(app, services);
  registerConsentRoutes(app, services);
  registerNodeRoutes(app, services);
  registerManagedKeyRoutes(app, deps, services);
}
