import type { Deps } from '../../context.js';
import { oauthErrors } from '../../errors.js';
import type { Resource } from '../../resources/model.js';
import { resourceStore } from '../../resources/store.js';
import type { Tenant } from '../../tenants/model.js';
import type { Params } from '../params.js';

const DEFAULT_SUFFIX = '/.default';
/** RFC 6749 §3.3 scope-token syntax: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 8707 §2: an absolute URI without a fragment. */
const RESOURCE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/;

/** What a token request asks for: one resource, and either named roles/scopes or everything granted. */
export interface Target {
  resource: Resource;
  /** Named permissions; null = everything granted (`<resource>/.default`, or `resource` without `scope`). */
  requested: string[] | null;
}

/**
 * Resolves `resource` (RFC 8707) and `scope` to one protected resource of the tenant.
 * `scope=<identifier>/.default` asks for everything granted on that resource; otherwise `resource`
 * names it and `scope` lists permission names.
 */
export async function resolveTarget({ db, cache }: Pick<Deps, 'db' | 'cache'>, tenant: Tenant, params: Params): Promise<Target> {
  const scopes = params.scope === undefined ? [] : params.scope.split(' ');
  if (scopes.some((s) => !SCOPE_TOKEN.test(s))) throw oauthErrors.invalidScope('scope is malformed');
  const defaults = scopes.filter((s) => s.endsWith(DEFAULT_SUFFIX));
  if (defaults.length > 0 && scopes.length > 1) throw oauthErrors.invalidScope(`"${DEFAULT_SUFFIX}" cannot be combined with other scopes`);

  const fromScope = defaults[0]?.slice(0, -DEFAULT_SUFFIX.length);
  const fromParam = params.resource;
  if (fromParam !== undefined && !RESOURCE_URI.test(fromParam)) throw oauthErrors.invalidTarget('resource must be an absolute URI without a fragment');
  if (fromParam !== undefined && fromScope !== undefined && fromParam !== fromScope) {
    throw oauthErrors.invalidTarget('resource and the scope\'s /.default resource differ');
  }
  const identifier = fromParam ?? fromScope;
  if (identifier === undefined) {
    throw oauthErrors.invalidScope('name the resource: scope=<resource>/.default, or resource=<resource> with optional scope');
  }
  const resource = await cache.get(tenant.id, `resource:${identifier}`, () => resourceStore.byIdentifier(db, tenant.id, identifier));
  if (!resource) {
    throw fromParam !== undefined ? oauthErrors.invalidTarget(`unknown resource "${identifier.slice(0, 200)}"`) : oauthErrors.invalidScope(`unknown resource "${identifier.slice(0, 200)}"`);
  }
  return { resource, requested: fromScope !== undefined || scopes.length === 0 ? null : [...new Set(scopes)] };
}
