import type { FastifyRequest } from 'fastify';
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
  request: FastifyRequest;
  /** The tenant's issuer URL. */
  issuer: string;
}

/** The claims a grant decided on; the token endpoint adds iss, times, ids and signs. */
export interface GrantResult {
  claims: Pick<AccessTokenClaims, 'sub' | 'aud'> & Partial<AccessTokenClaims>;
  /** `scope` for the response, when the granted scope is worth echoing (RFC 6749 §5.1). */
  scope: string | undefined;
  /**
   * Runs once the access token is signed, before its event is recorded: stores what the grant must
   * remember and returns further response members (`refresh_token`, `id_token`).
   */
  complete?: (issued: { accessToken: string; claims: AccessTokenClaims }) => Promise<Record<string, unknown>>;
}

export type GrantHandler = (ctx: GrantContext) => Promise<GrantResult>;

export interface GrantType {
  handle: GrantHandler;
  /** Whether public clients (no client authentication, RFC 6749 §2.1) may use it. */
  publicClients: boolean;
}
