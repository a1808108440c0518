import { isoTime } from '../db/json.js';
import type { Credential } from '../credentials/model.js';
import type { Grant } from '../grants/model.js';
import type { Principal } from '../principals/model.js';
import type { Resource } from '../resources/model.js';
import type { SigningKey } from '../signing-keys/model.js';
import type { Tenant } from '../tenants/model.js';

/** Admin API representations: ISO 8601 times, never secrets or digests. */
export const view = {
  tenant: (t: Tenant, issuer: string) => ({
    id: t.id,
    name: t.name,
    displayName: t.displayName,
    status: t.status,
    issuer,
    settings: t.settings,
    createdAt: isoTime(t.createdAt) as string,
    updatedAt: isoTime(t.updatedAt) as string,
  }),
  principal: (p: Principal) => ({
    id: p.id,
    tenantId: p.tenantId,
    kind: p.kind,
    displayName: p.displayName,
    description: p.description,
    status: p.status,
    sponsors: p.sponsors,
    blueprintId: p.blueprintId,
    expiresAt: isoTime(p.expiresAt),
    requireDpop: p.requireDpop,
    createdAt: isoTime(p.createdAt) as string,
    updatedAt: isoTime(p.updatedAt) as string,
    deletedAt: isoTime(p.deletedAt),
    username: p.username,
    email: p.email,
  }),
  credential: (c: Credential) => ({
    id: c.id,
    principalId: c.principalId,
    type: c.type,
    description: c.description,
    thumbprint: c.thumbprint,
    publicJwk: c.publicJwk as Record<string, unknown> | null,
    createdAt: isoTime(c.createdAt) as string,
    expiresAt: isoTime(c.expiresAt),
    lastUsedAt: isoTime(c.lastUsedAt),
    ...(c.federation
      ? { issuer: c.federation.issuer, audience: c.federation.audience, subject: c.federation.subject, claims: c.federation.claims, jwks: c.federation.jwks as { keys: Record<string, unknown>[] } | null }
      : {}),
  }),
  resource: (r: Resource) => ({
    id: r.id,
    tenantId: r.tenantId,
    identifier: r.identifier,
    displayName: r.displayName,
    description: r.description,
    scopes: r.scopes,
    roles: r.roles,
    builtin: r.builtin,
    createdAt: isoTime(r.createdAt) as string,
    updatedAt: isoTime(r.updatedAt) as string,
  }),
  grant: (g: Grant, resourceIdentifier: string) => ({
    id: g.id,
    tenantId: g.tenantId,
    principal: g.principalId,
    resource: g.resourceId,
    resourceIdentifier,
    role: g.role,
    createdAt: isoTime(g.createdAt) as string,
  }),
  signingKey: (k: SigningKey) => ({
    kid: k.id,
    alg: k.alg,
    status: k.status,
    createdAt: isoTime(k.createdAt) as string,
    activatedAt: isoTime(k.activatedAt),
    retiredAt: isoTime(k.retiredAt),
    expiresAt: isoTime(k.expiresAt),
  }),
};
