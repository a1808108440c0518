import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthClient } from '../clients/model.js';
import { redirectUriProblem } from '../clients/redirect-uri.js';
import { oauthClientStore } from '../clients/store.js';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { changeDirectory } from '../db/directory-change.js';
import { OAuthError, oauthErrors } from '../errors.js';
import type { Principal } from '../principals/model.js';
import { principalStore } from '../principals/store.js';
import type { Services } from '../services.js';
import { admitAnyOrigin } from './cors.js';
import { FailureThrottle } from './throttle.js';

/** Registrations allowed per source address per hour. */
const REGISTRATIONS_PER_HOUR = 10;
const MAX_REDIRECT_URIS = 10;
const MAX_NAME = 100;
const GRANT_TYPES = ['authorization_code', 'refresh_token'];

const metadataError = (description: string) => new OAuthError('invalid_client_metadata', description);

/** The client metadata Signet acts on (RFC 7591 §2); everything else sent is ignored and not echoed. */
interface Registration {
  redirectUris: string[];
  name: string | null;
  grantTypes: string[];
}

function parseRegistration(body: unknown): Registration {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw metadataError('the request body must be a JSON object of client metadata');
  const m = body as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every((u) => typeof u === 'string' && u.length <= 2000)) {
    throw new OAuthError('invalid_redirect_uri', `redirect_uris must be an array of 1 to ${MAX_REDIRECT_URIS} URIs`);
  }
  for (const uri of uris as string[]) {
    const problem = redirectUriProblem(uri, 'public');
    if (problem) throw new OAuthError('invalid_redirect_uri', `redirect URI "${uri.slice(0, 200)}" ${problem}`);
  }
  // Only public clients register themselves: a secret handed to anyone who asks proves nothing. A
  // client asking for another method gets "none" in the answer (RFC 7591 §3.2.1 lets the server
  // replace a requested value) and no secret, which clients read as "use PKCE alone".
  if (m.token_endpoint_auth_method !== undefined && typeof m.token_endpoint_auth_method !== 'string') throw metadataError('token_endpoint_auth_method must be a string');
  const grantTypes = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grantTypes) || grantTypes.length === 0 || !grantTypes.every((g) => typeof g === 'string' && GRANT_TYPES.includes(g))) {
    throw metadataError(`grant_types may hold only ${GRANT_TYPES.join(' and ')}`);
  }
  const responseTypes = m.response_types ?? ['code'];
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== 'code') throw metadataError('response_types must be ["code"]');
  const name = m.client_name;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME)) throw metadataError(`client_name must be 1 to ${MAX_NAME} characters`);
  return { redirectUris: [...new Set(uris as string[])], name: typeof name === 'string' ? name.trim() : null, grantTypes: [...new Set(grantTypes as string[])] };
}

/**
 * RFC 7591 dynamic client registration, for applications that find Signet on their own (MCP
 * clients, typically): off unless the tenant turns it on (`dynamicClientRegistration`). A
 * registration creates a `service` principal with public-client sign-in settings (PKCE, exact
 * redirect URIs) marked as self-registered, which the consent page tells people. It gets nothing
 * without a person's consent, and an admin can disable or delete it like any other. Audited as
 * `principal.created` and `oauth_client.updated`, the client itself named as the actor.
 */
export function registrationEndpoint(deps: Deps, services: Services) {
  const throttle = new FailureThrottle({ maxFailures: REGISTRATIONS_PER_HOUR, windowMs: 3_600_000, clock: deps.clock, counted: 'client registrations' });
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const tenant = await services.tenants.activeByName(request.params.tenant);
    if (!tenant) throw oauthErrors.notFound('unknown issuer');
    // Browser-based clients register from their own page; the registration grants nothing by itself.
    admitAnyOrigin(request, reply);
    if (!tenant.settings.dynamicClientRegistration) {
      throw new OAuthError('access_denied', 'this tenant does not allow applications to register themselves; ask an admin to register the application', undefined, { status: 403 });
    }
    throttle.check(request.ip);
    const registration = parseRegistration(request.body);
    const now = deps.clock();
    const id = newId();
    const principal: Principal = {
      id,
      tenantId: tenant.id,
      kind: 'service',
      displayName: registration.name ?? 'Unnamed application',
      description: `Registered itself (RFC 7591 dynamic client registration) from ${request.ip}`,
      status: 'active',
      sponsors: [],
      requireDpop: false,
      blueprintId: null,
      expiresAt: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      username: null,
      email: null,
    };
    const client: OAuthClient = { tenantId: tenant.id, principalId: id, clientType: 'public', redirectUris: registration.redirectUris, postLogoutRedirectUris: [], requiredScopes: [], selfRegistered: true, createdAt: now, updatedAt: now };
    const actor = { id, jti: null, tenantId: tenant.id, source: { ip: request.ip, requestId: request.id } };
    await changeDirectory(deps, tenant.id, async (trx) => {
      await principalStore.insert(trx, principal);
      await oauthClientStore.put(trx, client);
      await deps.audit.recordInTransaction(trx, [
        { tenantId: tenant.id, type: 'principal.created', actor, target: { type: 'principal', id }, after: principal },
        { tenantId: tenant.id, type: 'oauth_client.updated', actor, target: { type: 'principal', id }, after: client },
      ]);
    });
    throttle.fail(request.ip);
    return reply.status(201).header('cache-control', 'no-store').send({
      client_id: id,
      client_id_issued_at: Math.floor(now / 1000),
      client_name: principal.displayName,
      redirect_uris: client.redirectUris,
      grant_types: registration.grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  };
}
