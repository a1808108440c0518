import type { FastifyRequest } from 'fastify';
import { OAuthError, oauthErrors } from '../../errors.js';
import { authenticateClient, type AuthenticatedClient, type ClientAuthContext } from '../client-auth/index.js';
import { authenticateWithAssertion, JWT_BEARER_ASSERTION } from '../client-auth/private-key-jwt.js';
import type { Params } from '../params.js';
import { TOKEN_TYPE } from './subject-token.js';

function presentsClientAuth(request: FastifyRequest, params: Params): boolean {
  const authorization = request.headers.authorization;
  return (authorization !== undefined && /^basic /i.test(authorization)) || params.client_secret !== undefined || params.client_assertion !== undefined || params.client_assertion_type !== undefined;
}

/**
 * Who acts in a token exchange (RFC 8693 §2.1): the authenticated client, or the principal an
 * `actor_token` proves. An actor token is a JWT the actor signs with one of its registered keys,
 * checked exactly like a private_key_jwt client assertion (iss = sub = actor, aud = issuer or token
 * endpoint, at most 5 minutes, single-use jti). With both, they must name the same principal.
 */
export async function authenticateActor(ctx: ClientAuthContext, request: FastifyRequest, params: Params): Promise<AuthenticatedClient> {
  if (params.actor_token === undefined) {
    if (params.actor_token_type !== undefined) throw oauthErrors.invalidRequest('actor_token_type without actor_token');
    return authenticateClient(ctx, request, params);
  }
  if (params.actor_token_type !== TOKEN_TYPE.jwt) throw oauthErrors.invalidRequest(`actor_token_type must be ${TOKEN_TYPE.jwt}`);
  const client = presentsClientAuth(request, params) ? await authenticateClient(ctx, request, params) : undefined;
  const actor = await authenticateWithAssertion(ctx, {
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: params.actor_token,
    ...(client === undefined && params.client_id !== undefined ? { client_id: params.client_id } : {}),
  }).catch((error: unknown) => {
    // RFC 8693 §2.2.2: an invalid actor_token is invalid_request, not a client authentication failure.
    if (client !== undefined && error instanceof OAuthError && error.error === 'invalid_client') throw oauthErrors.invalidRequest('actor_token is invalid', error.detail);
    throw error;
  });
  if (client !== undefined && client.principal.id !== actor.principal.id) throw oauthErrors.invalidRequest('actor_token names another principal than the authenticated client');
  return client ?? actor;
}
