import type { FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { OAuthError, oauthErrors } from '../errors.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { type AuthenticatedClient, authenticateClient } from './client-auth/index.js';
import { endpointsFor } from './metadata.js';
import { formParams, type Params } from './params.js';
import type { FailureThrottle } from './throttle.js';

export interface ClientRequest {
  tenant: Tenant;
  params: Params;
  client: AuthenticatedClient;
}

/**
 * The common start of client-authenticated endpoints other than token (introspection RFC 7662 §2.1,
 * revocation RFC 7009 §2.1): an active tenant, a form body, and exactly one client authentication,
 * failures counted by the brute-force throttle. Public clients (`none`) only where the caller allows
 * them: RFC 7009 lets a public client revoke its own refresh tokens.
 */
export async function clientRequest(
  deps: Deps,
  services: Services,
  throttle: FailureThrottle,
  request: FastifyRequest<{ Params: { tenant: string } }>,
  options: { allowPublic: boolean } = { allowPublic: false },
): Promise<ClientRequest> {
  const tenant = await services.tenants.activeByName(request.params.tenant);
  if (!tenant) throw oauthErrors.notFound('unknown issuer');
  const params = formParams(request);
  throttle.check(request.ip);
  const client = await authenticateClient({ deps, tenant, endpoints: endpointsFor(services.tenants.issuer(tenant)) }, request, params, options).catch((error: unknown) => {
    if (error instanceof OAuthError && error.error === 'invalid_client') throttle.fail(request.ip);
    throw error;
  });
  return { tenant, params, client };
}
