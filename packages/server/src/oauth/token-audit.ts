import type { FastifyRequest } from 'fastify';
import type { AuditEventInput } from '../audit/model.js';
import type { OAuthError } from '../errors.js';
import { FederationRefusal } from '../federation/verify.js';
import type { AccessTokenClaims } from './access-token.js';
import type { AuthenticatedClient } from './client-auth/index.js';
import type { Params } from './params.js';

/** What the token endpoint learned about a request, as far as it got. */
export interface TokenDecision {
  tenantId: string;
  grantType: string;
  params: Params;
  client?: AuthenticatedClient;
  /** Delegated requests: the user the token is about, once known. */
  subjectId?: string | undefined;
  /** Delegated requests: every actor, outermost (current) first, once known. */
  delegation?: string[] | undefined;
}

function source(request: FastifyRequest) {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : undefined, requestId: request.id };
}

function clientFields(d: TokenDecision): Partial<AuditEventInput> {
  if (!d.client) return {};
  return {
    actorId: d.client.principal.id,
    actorKind: d.client.principal.kind,
    clientId: d.client.principal.id,
    credentialId: d.client.credential?.id ?? null,
    credentialType: d.client.credential?.type ?? null,
  };
}

/** Workload identity federation: which federated credential matched, and the external token's issuer, subject and jti. */
function federationData(d: TokenDecision): Record<string, unknown> {
  const federated = d.client?.federated;
  return federated ? { federation: { credentialId: d.client?.credential?.id, issuer: federated.issuer, subject: federated.subject, ...(federated.jti === undefined ? {} : { jti: federated.jti }) } } : {};
}

/**
 * `token.issued`: who got which token, for what, with which credential; `token.exchanged` (RFC 8693)
 * names the user as subject and every actor of the chain, so a query for any of them finds it.
 */
export function issuedEvent(request: FastifyRequest, d: TokenDecision, claims: AccessTokenClaims, grant?: { type: string; delegation: string[]; data: Record<string, unknown> }): AuditEventInput {
  return {
    tenantId: d.tenantId,
    type: grant?.type ?? 'token.issued',
    outcome: 'success',
    ...clientFields(d),
    subjectId: claims.sub === claims.client_id ? null : claims.sub,
    resource: claims.aud,
    jti: claims.jti,
    source: source(request),
    data: {
      grantType: d.grantType,
      authMethod: d.client?.method ?? null,
      ...(d.client?.node ? { node: d.client.node } : {}),
      roles: claims.roles ?? null,
      scope: claims.scope ?? null,
      expiresAt: claims.exp,
      ...federationData(d),
      ...(claims.cnf ? { cnfJkt: claims.cnf.jkt } : {}),
      ...grant?.data,
    },
    ...(grant ? { delegation: grant.delegation } : {}),
  };
}

/** `token.refused`: the exact OAuth error sent, and the internal reason. */
export function refusedEvent(request: FastifyRequest, d: TokenDecision, error: OAuthError): AuditEventInput {
  // A client id the request claimed but did not prove is recorded as data, never as the actor.
  const claimed = d.client ? undefined : (d.params.client_id ?? undefined);
  return {
    tenantId: d.tenantId,
    type: 'token.refused',
    outcome: 'failure',
    ...clientFields(d),
    ...(d.subjectId ? { subjectId: d.subjectId } : {}),
    ...(d.delegation ? { delegation: d.delegation } : {}),
    resource: d.params.resource ?? d.params.audience ?? null,
    source: source(request),
    data: {
      grantType: d.grantType,
      error: error.error,
      description: error.description,
      reason: error.detail ?? null,
      scope: d.params.scope ?? null,
      ...(claimed ? { claimedClientId: claimed.slice(0, 100) } : {}),
      ...(error.cause instanceof FederationRefusal ? { federationCheck: error.cause.check } : {}),
    },
  };
}
