import type { FastifyReply } from 'fastify';
import { randomToken } from '../../crypto/ids.js';
import { OAuthError } from '../../errors.js';
import { requestStore } from '../tokens/request-store.js';
import { type FlowContext, proceed, refuse, REQUEST_TTL_MS } from './flow.js';
import type { AuthorizationParams } from './params.js';
import { identifyClient, validateRequest } from './validate.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) as a list of checks:
 * client and redirect URI (errors on a page) → the request itself (errors to the client) →
 * store it server-side → sign-in → consent → code.
 */
export async function authorize(ctx: FlowContext, params: AuthorizationParams): Promise<FastifyReply> {
  const client = await identifyClient(ctx.deps, ctx.services, ctx.tenant, params);
  const state = params.repeated.has('state') ? null : (params.values.state ?? null);
  let fields;
  try {
    fields = await validateRequest(ctx.deps, ctx.tenant, params, client);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return refuse(ctx, { id: '', clientId: client.principal.id, redirectUri: client.redirectUri, state: state && state.length <= 2048 ? state : null, scope: [], resource: null }, error, null);
  }
  const now = ctx.deps.clock();
  const pending = { id: randomToken(), tenantId: ctx.tenant.id, clientId: client.principal.id, createdAt: now, expiresAt: now + REQUEST_TTL_MS, ...fields };
  await requestStore.insert(ctx.deps.db, pending);
  return proceed(ctx, pending);
}
