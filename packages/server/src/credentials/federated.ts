import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { FederationConfig } from '../config.js';
import { apiErrors } from '../errors.js';
import { describeExpressionError, ExpressionError, parseExpression } from '../federation/expression.js';
import { parsePublicJwk } from './keys.js';
import type { CreateCredentialBody, Federation } from './model.js';

type FederatedBody = Extract<CreateCredentialBody, { type: 'federated' }>;

/** The issuer of a federated credential: an https URL (http only for allowed origins), no query or fragment. */
function checkIssuer(issuer: string, config: Pick<FederationConfig, 'allowHttpOrigins'>): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw apiErrors.invalid('issuer must be a URL');
  }
  if (url.search || url.hash || url.username || url.password) throw apiErrors.invalid('issuer must not have a query, fragment or credentials');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && config.allowHttpOrigins.includes(url.origin))) {
    throw apiErrors.invalid('issuer must be an https URL (plain http only for origins in SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS)');
  }
}

/** Public JWKs from `jwks` or PEM `keys`, each validated like a client key (no private or symmetric keys). */
async function configuredKeys(body: FederatedBody): Promise<{ keys: JWK[] } | null> {
  if (body.jwks !== undefined && body.keys !== undefined) throw apiErrors.invalid('give jwks or keys, not both');
  if (body.jwks !== undefined) return { keys: await Promise.all(body.jwks.keys.map(async (k) => (await parsePublicJwk(k)).jwk)) };
  if (body.keys === undefined) return null;
  const keys: JWK[] = [];
  for (const [i, pem] of body.keys.entries()) {
    let exported: Record<string, unknown>;
    try {
      exported = createPublicKey(pem).export({ format: 'jwk' }) as Record<string, unknown>;
    } catch {
      throw apiErrors.invalid(`keys[${i}] is not a PEM public key`);
    }
    keys.push((await parsePublicJwk(exported)).jwk);
  }
  return { keys };
}

/**
 * Validates a federated credential: issuer, audience, exactly one of subject or claims, and a
 * claims expression that parses (the message points at the error: `claims: … at position N`).
 */
export async function parseFederation(body: FederatedBody, config: Pick<FederationConfig, 'allowHttpOrigins'>): Promise<Federation> {
  checkIssuer(body.issuer, config);
  if ((body.subject === undefined) === (body.claims === undefined)) throw apiErrors.invalid('a federated credential needs exactly one of subject or claims');
  if (body.claims !== undefined) {
    try {
      parseExpression(body.claims);
    } catch (error) {
      if (error instanceof ExpressionError) throw apiErrors.invalid(describeExpressionError(body.claims, error), { position: error.position, reason: error.reason });
      throw error;
    }
  }
  return { issuer: body.issuer, audience: body.audience, subject: body.subject ?? null, claims: body.claims ?? null, jwks: await configuredKeys(body) };
}
