import type { FastifyReply } from 'fastify';
import { randomToken } from '../../crypto/ids.js';
import { OAuthError } from '../../errors.js';
import { requestStore } from '../tokens/request-store.js';
import { type FlowContext, proceed, refuse, REQUEST_TTL_MS } from './flow.js';
import type { AuthorizationParams } from './params.js';
import { takePushedRequest } from './pushed.js';
import { identifyClient, validateRequest } from './validate.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) as a list of checks:
 * client and redirect URI (errors on a page) → the request itself (errors to the client) →
 * store it server-side → sign-in → consent → code. A pushed request (RFC 9126, pushed.ts) skips
 * the checks it passed when it was pushed.
 */
export async function authorize(ctx: FlowContext, params: AuthorizationParams): Promise<FastifyReply> {
  // RFC 9126: the request was pushed and checked already; the browser brings only its request_uri.
  if (params.values.request_uri !== undefined) {
    const pushed = await takePushedRequest(ctx.deps, ctx.services, ctx.tenant, params);
    await requestStore.insert(ctx.deps.db, pushed);
    return proceed(ctx, pushed);
  }
  const client = await identifyClient(ctx.deps, ctx.services, ctx.tenant, params);
  const state = params.repeated.has('state') ? null : (params.values.state ?? null);
  let fields;
  try {
    fields = await validateRequest(ctx.deps, ctx.tenant, params, client);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    // The response mode asked for applies to errors too, when it is one this server knows.
    const responseMode = params.values.response_mode === 'form_post' ? 'form_post' : 'query';
    return refuse(ctx, { id: '', clientId: client.principal.id, redirectUri: client.redirectUri, responseMode, state: state && state.length <= 2048 ? state : null, scope: [], resource: null }, error, null);
  }
  const now = ctx.deps.clock();
  const pending = { id: randomToken(), tenantId: ctx.tenant.id, clientId: client.principal.id, createdAt: now, expiresAt: now + REQUEST_TTL_MS, ...fields };
  await requestStore.insert(ctx.deps.db, pending);
  return proceed(ctx, pending);
}
