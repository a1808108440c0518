import { decodeJwt } from 'jose';
import { oauthErrors } from '../../errors.js';
import { verifyNodeAssertion } from '../../nodes/assertion.js';
import { nodeStore } from '../../nodes/store.js';
import { rulesFor } from '../../principals/kinds.js';
import type { Params } from '../params.js';
import { type AuthenticatedClient, type ClientAuthContext, loadClient } from './client.js';

/**
 * Client assertion type for a managed identity's token fetched by `signet node`: the assertion is
 * signed by the node's key, `iss` = the node id, `sub` = the managed identity (the OAuth client).
 */
export const NODE_ASSERTION_TYPE = 'urn:signet:params:oauth:client-assertion-type:node-jwt';

/**
 * A managed identity authenticated through the node it runs on. The checks, in order: the node's
 * assertion verifies (active node, live node key, audience, lifetime, single-use jti); the named
 * principal is an active client whose kind has a platform-held key; it is assigned to that node;
 * and Signet proves it holds the identity's current key (the credential the token is issued under).
 */
export async function authenticateThroughNode(ctx: ClientAuthContext, params: Params): Promise<AuthenticatedClient> {
  const assertion = params.client_assertion;
  if (!assertion) throw oauthErrors.invalidRequest('client_assertion is missing');
  let claimed: unknown;
  try {
    claimed = decodeJwt(assertion).sub;
  } catch {
    throw oauthErrors.invalidClient('client_assertion is not a JWT');
  }
  if (typeof claimed !== 'string') throw oauthErrors.invalidClient('node assertion has no sub (the managed identity)');
  if (params.client_id !== undefined && params.client_id !== claimed) throw oauthErrors.invalidClient('client_id does not match the assertion subject');

  const { node } = await verifyNodeAssertion(ctx.deps, ctx.tenant, assertion, [ctx.endpoints.issuer, ctx.endpoints.token]);
  const principal = await loadClient(ctx, claimed);
  if (!rulesFor(principal.kind).platformHeldKey) throw oauthErrors.invalidClient(`principals of kind ${principal.kind} have no platform-held key`);
  if (!(await nodeStore.isAssigned(ctx.deps.db, ctx.tenant.id, node.id, principal.id))) {
    throw oauthErrors.invalidClient(`managed identity ${principal.id} is not assigned to node ${node.id}`);
  }
  const key = await ctx.deps.managedKeys.use(ctx.tenant.id, principal.id);
  return { principal, credential: { id: key.id, type: 'managed' }, method: 'node_assertion', node: node.id };
}
