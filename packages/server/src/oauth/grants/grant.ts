import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../context.js';
import type { Tenant } from '../../tenants/model.js';
import type { AccessTokenClaims } from '../access-token.js';
import type { AuthenticatedClient } from '../client-auth/index.js';
import type { DelegationPolicy } from '../../policy/consent.js';
import type { DpopProof } from '../dpop.js';
import type { Params } from '../params.js';
import type { AccessTokenVerifier } from '../verify-access-token.js';

/** What every grant handler receives: an authenticated client and the request parameters. */
export interface GrantContext {
  deps: Deps;
  tenant: Tenant;
  client: AuthenticatedClient;
  params: Params;
  request: FastifyRequest;
  /** The tenant's issuer URL. */
  issuer: string;
  /** The verified DPoP proof sent with the request (RFC 9449), if any. */
  dpop: DpopProof | undefined;
  /** Verifies Signet access tokens presented as grants (token-exchange subject tokens). */
  accessTokens: AccessTokenVerifier;
  /** Where delegated permission comes from. */
  delegation: DelegationPolicy;
  /** Tells the audit trail whom a delegated request is about as soon as that is known, so refusals name the chain too. */
  noteDelegation(subjectId: string, delegation: string[]): void;
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
  /** Most seconds the token may live (e.g. a blueprint's cap); null or absent = tenant and install limits only. */
  ttlCapSeconds?: number | null;
  /** The token expires no later than this (epoch seconds), e.g. the subject token's own `exp`. */
  notAfter?: number;
  /** Extra response members (RFC 8693 §2.2.1 `issued_token_type`). */
  response?: Record<string, string>;
  /** The audit event for the issued token, when not `token.issued`. */
  audit?: { type: string; delegation: string[]; data: Record<string, unknown> };
}

export type GrantHandler = (ctx: GrantContext) => Promise<GrantResult>;

export interface GrantType {
  handle: GrantHandler;
  /** Whether public clients (no client authentication, RFC 6749 §2.1) may use it. */
  publicClients: boolean;
}
