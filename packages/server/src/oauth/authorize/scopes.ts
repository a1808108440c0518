import { IDENTITY_RESOURCE, IDENTITY_SCOPE_DESCRIPTIONS, IDENTITY_SCOPES, type IdentityScope } from '../../consents/model.js';
import type { Consent } from '../../consents/model.js';
import { oauthErrors } from '../../errors.js';
import type { Resource } from '../../resources/model.js';

/** RFC 6749 §3.3 scope-token syntax. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;

export const isIdentityScope = (scope: string): scope is IdentityScope => (IDENTITY_SCOPES as readonly string[]).includes(scope);

/** The resource a scope is consented on: the identity pseudo-resource, or the requested resource. */
export function consentResourceOf(scope: string, resource: string | null): string {
  return isIdentityScope(scope) || resource === null ? IDENTITY_RESOURCE : resource;
}

/**
 * Splits `scope` into OpenID Connect identity scopes and scopes of the one requested resource
 * (RFC 8707 `resource`). Every resource scope must be one the resource offers.
 */
export function parseScopes(scope: string | undefined, resource: Resource | null): string[] {
  if (scope === undefined) throw oauthErrors.invalidScope('scope is missing');
  const scopes = [...new Set(scope.split(' ').filter((s) => s !== ''))];
  if (scopes.some((s) => !SCOPE_TOKEN.test(s))) throw oauthErrors.invalidScope('scope is malformed');
  const resourceScopes = scopes.filter((s) => !isIdentityScope(s));
  if (resourceScopes.length > 0 && resource === null) throw oauthErrors.invalidScope(`name the resource (RFC 8707 resource parameter) that offers ${resourceScopes.join(' ').slice(0, 200)}`);
  if (resource) {
    const unknown = resourceScopes.filter((s) => !resource.scopes.some((offered) => offered.name === s));
    if (unknown.length > 0) throw oauthErrors.invalidScope(`resource "${resource.identifier}" offers no scope ${unknown.join(' ').slice(0, 200)}`);
    if (resourceScopes.length === 0) throw oauthErrors.invalidScope(`ask for at least one scope of "${resource.identifier}"`);
  }
  if (scopes.length === 0) throw oauthErrors.invalidScope('scope is empty');
  return scopes;
}

/** Scope descriptions for the consent page. */
export function describeScope(scope: string, resource: Resource | null): string {
  if (isIdentityScope(scope)) return IDENTITY_SCOPE_DESCRIPTIONS[scope];
  return resource?.scopes.find((s) => s.name === scope)?.description ?? scope;
}

/** Which requested scopes live consents already cover, and the consents that cover them. */
export function coverage(requested: readonly string[], resource: string | null, consents: readonly Consent[]): { covered: string[]; missing: string[]; consentIds: string[] } {
  const covered: string[] = [];
  const missing: string[] = [];
  const consentIds = new Set<string>();
  for (const scope of requested) {
    const where = consentResourceOf(scope, resource);
    const consent = consents.find((c) => c.resource === where && c.scopes.includes(scope));
    if (consent) {
      covered.push(scope);
      consentIds.add(consent.id);
    } else {
      missing.push(scope);
    }
  }
  return { covered, missing, consentIds: [...consentIds] };
}
