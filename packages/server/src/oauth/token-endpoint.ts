import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { OAuthError, oauthErrors } from '../errors.js';
import type { Metrics } from '../http/metrics.js';
import type { Services } from '../services.js';
import { signAccessToken, type AccessTokenClaims } from './access-token.js';
import { authenticateClient } from './client-auth/index.js';
import { admitClientOrigin } from './cors.js';
import { deriveKey } from '../crypto/envelope.js';
import { DpopNonces } from './dpop-nonce.js';
import { dpopRequirement, tokenRequestProof } from './dpop-token-request.js';
import { authenticateActor } from './grants/actor-token.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { TOKEN_EXCHANGE, tokenExchangeGrant } from './grants/token-exchange.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import type { GrantType } from './grants/grant.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { endpointsFor } from './metadata.js';
import { formParams } from './params.js';
import { FailureThrottle } from './throttle.js';
import { issuedEvent, refusedEvent, type TokenDecision } from './token-audit.js';
import type { AuditEventInput } from '../audit/model.js';
import { AuditUnavailable } from '../audit/writer.js';

/**
 * One handler per grant type; anything else is `unsupported_grant_type`. There is no implicit and
 * no password grant (RFC 9700 §2.1.2, §2.4). Public clients may use only grants bound to a secret
 * they hold for that exchange: the PKCE verifier, or a rotated refresh token.
 */
const GRANTS: Readonly<Record<string, GrantType>> = {
  client_credentials: { handle: clientCredentialsGrant, publicClients: false },
  authorization_code: { handle: authorizationCodeGrant, publicClients: true },
  refresh_token: { handle: refreshTokenGrant, publicClients: true },
  [TOKEN_EXCHANGE]: { handle: tokenExchangeGrant, publicClients: false },
};

/** Grants whose actor may also authenticate another way than client authentication. */
const AUTHENTICATE: Readonly<Record<string, typeof authenticateClient>> = {
  [TOKEN_EXCHANGE]: authenticateActor,
};

/**
 * The token endpoint (RFC 6749 §3.2) as a list of checks: tenant → parameters → grant type →
 * client authentication → the page's origin (cors.ts) → DPoP proof (RFC 9449) → grant rules → DPoP
 * requirement → sign.
 */
export function tokenEndpoint(deps: Deps, services: Services, metrics: Metrics) {
  const throttle = new FailureThrottle({ maxFailures: deps.config.clientAuthFailureLimit, windowMs: 60_000, clock: deps.clock });
  const nonces = new DpopNonces(deriveKey(deps.config.masterKey, 'dpop nonce'), deps.clock);
  return async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    let decision: TokenDecision | undefined;
    try {
      const tenant = await services.tenants.activeByName(request.params.tenant);
      if (!tenant) throw oauthErrors.notFound('unknown issuer');
      decision = { tenantId: tenant.id, grantType: 'unknown', params: {} };
      decision.params = formParams(request);
      const { params } = decision;
      if (!params.grant_type) throw oauthErrors.invalidRequest('grant_type is missing');
      const grant = GRANTS[params.grant_type];
      if (!grant) throw oauthErrors.unsupportedGrantType(params.grant_type);
      decision.grantType = params.grant_type;

      const issuer = services.tenants.issuer(tenant);
      throttle.check(request.ip);
      const endpoints = endpointsFor(issuer);
      const authenticate = AUTHENTICATE[params.grant_type] ?? authenticateClient;
      const client = await authenticate({ deps, tenant, endpoints }, request, params, { allowPublic: grant.publicClients }).catch((error: unknown) => {
        if (error instanceof OAuthError && error.error === 'invalid_client') throttle.fail(request.ip);
        throw error;
      });
      decision.client = client;
      await admitClientOrigin(services, request, reply, tenant, issuer, client.principal.id);
      const dpop = await tokenRequestProof(deps, { tenant, request, reply, tokenUrl: endpoints.token, nonces });
      const dpopRequired = await dpopRequirement(deps, tenant.id, client.principal);
      if (dpopRequired && !dpop) throw oauthErrors.invalidRequest(`a DPoP proof is required: ${dpopRequired}`);
      const noted = decision;
      const noteDelegation = (subjectId: string, delegation: string[]) => Object.assign(noted, { subjectId, delegation });
      const result = await grant.handle({ deps, tenant, client, params, request, issuer, dpop, accessTokens: services.accessTokens, delegation: services.delegation, noteDelegation });

      const now = Math.floor(deps.clock() / 1000);
      const ttlCaps = [tenant.settings.accessTokenTtlSeconds ?? deps.config.accessTokenTtlSeconds, deps.config.accessTokenTtlMaxSeconds, result.ttlCapSeconds ?? Infinity];
      const exp = Math.min(now + Math.min(...ttlCaps), result.notAfter ?? Infinity);
      const claims: AccessTokenClaims = {
        ...result.claims,
        iss: issuer,
        iat: now,
        nbf: now,
        exp,
        jti: newId(),
        client_id: client.principal.id,
        tid: tenant.id,
        kind: result.claims.kind ?? client.principal.kind,
        ...(dpop ? { cnf: { jkt: dpop.jkt } } : {}),
      };
      const accessToken = signAccessToken(claims, await deps.keys.signer(tenant.id));
      const extra = result.complete ? await result.complete({ accessToken, claims }) : {};
      // Fail closed: no token leaves unless its event is durable.
      await recordOrRefuse(deps, issuedEvent(request, decision, claims, result.audit));
      metrics.tokenRequests.inc({ grant_type: decision.grantType, outcome: 'issued' });
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({
          access_token: accessToken,
          // RFC 9449 §5: a bound token's type is DPoP.
          token_type: dpop ? 'DPoP' : 'Bearer',
          expires_in: exp - now,
          ...(result.scope ? { scope: result.scope } : {}),
          ...result.response,
          ...extra,
        });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      metrics.tokenRequests.inc({ grant_type: decision?.grantType ?? 'unknown', outcome: error.error });
      request.log.info({ oauthError: error.error, detail: error.detail, grantType: decision?.grantType }, 'token request refused');
      // 503 means the audit store itself failed: there is nothing to record into.
      if (decision && error.status !== 503) await recordOrRefuse(deps, refusedEvent(request, decision, error));
      throw error;
    } finally {
      metrics.tokenDuration.observe({ grant_type: decision?.grantType ?? 'unknown' }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/** Waits for the event to be durable; when the audit store cannot write, the request gets 503 instead. */
async function recordOrRefuse(deps: Deps, event: AuditEventInput): Promise<void> {
  try {
    await deps.audit.record(event);
  } catch (error) {
    if (error instanceof AuditUnavailable) throw oauthErrors.temporarilyUnavailable('audit store unavailable');
    throw error;
  }
}
