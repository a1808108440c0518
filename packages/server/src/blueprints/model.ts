import { Type, type Static } from 'typebox';

/** What an agent of a blueprint may hold on one resource, at most. */
export interface BlueprintPermission {
  resourceId: string;
  /** Application roles (acting on its own). */
  roles: string[];
  /** Delegated scopes (acting for users through token exchange). */
  scopes: string[];
}

/**
 * The template a kind of agent is created from: the most its agents may ever hold, their token
 * lifetime and delegation-depth caps, how they may act, and whether their tokens must be
 * sender-constrained (RFC 9449 DPoP).
 */
export interface Blueprint {
  id: string;
  tenantId: string;
  /** Unique in the tenant; the admin API and CLI accept it wherever a blueprint id is expected. */
  name: string;
  description: string | null;
  permissions: BlueprintPermission[];
  /** Cap on every access token issued to its agents, in seconds. */
  accessTokenLifetimeSeconds: number;
  /** Most actors an `act` chain (RFC 8693 §4.1) may hold when one of its agents is the current actor. */
  maxDelegationDepth: number;
  /** Its agents may act on their own (client_credentials, application roles). */
  allowAppRoles: boolean;
  /** Its agents may act for users (token exchange, delegated scopes). */
  allowDelegation: boolean;
  /** Its agents' tokens must be DPoP-bound (RFC 9449). */
  requireDpop: boolean;
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_AGENT_TOKEN_LIFETIME_S = 300;
export const DEFAULT_MAX_DELEGATION_DEPTH = 1;

const PermissionName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
const PermissionBody = Type.Object(
  {
    resource: Type.String({ minLength: 1, maxLength: 500, description: 'Resource id or identifier' }),
    roles: Type.Optional(Type.Array(PermissionName, { maxItems: 200, uniqueItems: true })),
    scopes: Type.Optional(Type.Array(PermissionName, { maxItems: 200, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const Permissions = Type.Array(PermissionBody, { maxItems: 100 });
const Name = Type.String({ pattern: '^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$', description: 'Unique in the tenant (lower case, digits, . _ -)' });
const Lifetime = Type.Integer({ minimum: 30, maximum: 86400, description: `Access-token lifetime cap in seconds (default ${DEFAULT_AGENT_TOKEN_LIFETIME_S}); never above SIGNET_ACCESS_TOKEN_TTL_MAX` });
const Depth = Type.Integer({ minimum: 1, maximum: 10, description: `Most actors in a delegation chain with one of its agents acting (default ${DEFAULT_MAX_DELEGATION_DEPTH})` });

export const CreateBlueprintBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    permissions: Type.Optional(Permissions),
    accessTokenLifetimeSeconds: Type.Optional(Lifetime),
    maxDelegationDepth: Type.Optional(Depth),
    allowAppRoles: Type.Optional(Type.Boolean({ description: 'Agents may act on their own with application roles (default false)' })),
    allowDelegation: Type.Optional(Type.Boolean({ description: 'Agents may act for users with delegated scopes (default true)' })),
    requireDpop: Type.Optional(Type.Boolean({ description: 'Agents\' tokens must be DPoP-bound (default true)' })),
  },
  { additionalProperties: false },
);
export type CreateBlueprintBody = Static<typeof CreateBlueprintBody>;

export const UpdateBlueprintBody = Type.Object(
  {
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    permissions: Type.Optional(Permissions),
    accessTokenLifetimeSeconds: Type.Optional(Lifetime),
    maxDelegationDepth: Type.Optional(Depth),
    allowAppRoles: Type.Optional(Type.Boolean()),
    allowDelegation: Type.Optional(Type.Boolean()),
    requireDpop: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateBlueprintBody = Static<typeof UpdateBlueprintBody>;

export const BlueprintView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  permissions: Type.Array(
    Type.Object({ resource: Type.String({ description: 'Resource id' }), resourceIdentifier: Type.String(), roles: Type.Array(Type.String()), scopes: Type.Array(Type.String()) }),
  ),
  accessTokenLifetimeSeconds: Type.Integer(),
  maxDelegationDepth: Type.Integer(),
  allowAppRoles: Type.Boolean(),
  allowDelegation: Type.Boolean(),
  requireDpop: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type BlueprintView = Static<typeof BlueprintView>;
