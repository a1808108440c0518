import type { Deps } from '../../context.js';
import type { Tenant } from '../../tenants/model.js';
import type { AccessTokenClaims } from '../access-token.js';
import type { AuthenticatedClient } from '../client-auth/index.js';
import type { Params } from '../params.js';

/** What every grant handler receives: an authenticated client and the request parameters. */
export interface GrantContext {
  deps: Deps;
  tenant: Tenant;
  client: AuthenticatedClient;
  params: Params;
}

/** The claims a grant decided on; the token endpoint adds iss, times, ids and signs. */
export interface GrantResult {
  claims: Pick<AccessTokenClaims, 'sub' | 'aud'> & Partial<AccessTokenClaims>;
  /** `scope` for the response, when the granted scope is worth echoing (RFC 6749 §5.1). */
  scope: string | undefined;
}

export type GrantHandler = (ctx: GrantContext) => Promise<GrantResult>;
