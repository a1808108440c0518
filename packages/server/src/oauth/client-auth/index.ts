import type { FastifyRequest } from 'fastify';
import { oauthErrors } from '../../errors.js';
import type { Params } from '../params.js';
import type { AuthenticatedClient, ClientAuthContext } from './client.js';
import { authenticateWithSecret, parseBasic } from './client-secret.js';
import { authenticateWithFederatedAssertion, isExternalAssertion } from './federated-jwt.js';
import { authenticateThroughNode, NODE_ASSERTION_TYPE } from './node-assertion.js';
import { authenticateWithAssertion } from './private-key-jwt.js';
import { authenticatePublicClient } from './public-client.js';

export type { AuthenticatedClient, ClientAuthContext, ClientAuthMethod } from './client.js';

/**
 * Authenticates the client with exactly one method (RFC 6749 §2.3: a client MUST NOT use more
 * than one): client_secret_basic, client_secret_post, private_key_jwt, or a client assertion from
 * an external issuer (workload identity federation, `federated-jwt.ts`).
 */
export async function authenticateClient(ctx: ClientAuthContext, request: FastifyRequest, params: Params, options: { allowPublic: boolean } = { allowPublic: false }): Promise<AuthenticatedClient> {
  const authorization = request.headers.authorization;
  const basic = authorization !== undefined && /^basic /i.test(authorization);
  const post = params.client_secret !== undefined;
  const assertion = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  const used = [basic, post, assertion].filter(Boolean).length;
  if (used > 1) throw oauthErrors.invalidRequest('use exactly one client authentication method');

  if (basic) {
    const { clientId, secret } = parseBasic(authorization);
    if (params.client_id !== undefined && params.client_id !== clientId) throw oauthErrors.invalidRequest('client_id does not match the Authorization header');
    return authenticateWithSecret(ctx, clientId, secret, 'client_secret_basic');
  }
  if (post) {
    if (params.client_id === undefined) throw oauthErrors.invalidClient('client_id is missing');
    return authenticateWithSecret(ctx, params.client_id, params.client_secret as string, 'client_secret_post');
  }
  if (assertion && params.client_assertion_type === NODE_ASSERTION_TYPE) return authenticateThroughNode(ctx, params);
  if (assertion) return isExternalAssertion(params) ? authenticateWithFederatedAssertion(ctx, params) : authenticateWithAssertion(ctx, params);
  if (options.allowPublic && params.client_id !== undefined) return authenticatePublicClient(ctx, params.client_id);
  throw oauthErrors.invalidClient('no client authentication was presented');
}
