import { Type, type Static } from 'typebox';
import { OneOf } from '../http/schema.js';

export type TenantStatus = 'active' | 'disabled';

/** Per-tenant policy. Each value is bounded by the install-wide caps in Config. */
export interface TenantSettings {
  /** Machine access-token lifetime in seconds; null = the install default. */
  accessTokenTtlSeconds: number | null;
  /** Whether principals of this tenant may hold client secrets at all. */
  allowSecrets: boolean;
  /** Lifetime of a new client secret when the request names none. */
  secretDefaultLifetimeDays: number;
  /** The longest lifetime a client secret may be given. */
  secretMaxLifetimeDays: number;
  /** Days audit events are kept; older sealed segments are deleted whole (src/audit/retention.ts). */
  auditRetentionDays: number;
  /** Every user must sign in with a second factor (TOTP or passkey); users without one enrol at sign-in. */
  requireMfa: boolean;
  /** A sign-in session unused for this long (seconds) ends. */
  sessionIdleSeconds: number;
  /** A sign-in session ends this long (seconds) after sign-in, however active. */
  sessionLifetimeSeconds: number;
  /** Longest life of a refresh-token family from its authorization code, in seconds. */
  refreshTokenLifetimeSeconds: number;
  /** A refresh token not used for this long (seconds) expires, with its family. */
  refreshTokenIdleSeconds: number;
  /** Days a user's (or an admin's) consent lasts before it must be given again. */
  consentLifetimeDays: number;
  /**
   * RFC 7591: applications (MCP clients, typically) may register themselves as public clients at
   * `/{tenant}/oauth2/register`, without an admin. Off by default; people see on the consent page
   * that such an application registered itself.
   */
  dynamicClientRegistration: boolean;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  accessTokenTtlSeconds: null,
  allowSecrets: true,
  secretDefaultLifetimeDays: 90,
  secretMaxLifetimeDays: 365,
  auditRetentionDays: 90,
  requireMfa: false,
  sessionIdleSeconds: 30 * 60,
  sessionLifetimeSeconds: 12 * 3600,
  refreshTokenLifetimeSeconds: 30 * 86400,
  refreshTokenIdleSeconds: 7 * 86400,
  consentLifetimeDays: 90,
  dynamicClientRegistration: false,
};

/** Every tenant is its own issuer: `{SIGNET_PUBLIC_URL}/{tenant name}`. */
export function issuerUrl(publicUrl: string, tenant: Pick<Tenant, 'name'>): string {
  return `${publicUrl}/${tenant.name}`;
}

export interface Tenant {
  id: string;
  name: string;
  displayName: string | null;
  status: TenantStatus;
  settings: TenantSettings;
  createdAt: number;
  updatedAt: number;
}

/**
 * Tenant names form the first path segment of issuer URLs, so they are URL-safe and cannot shadow
 * the server's own top-level routes.
 */
export const TENANT_NAME_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$';
export const RESERVED_TENANT_NAMES = new Set(['admin', 'healthz', 'readyz', 'metrics', 'well-known', 'static', 'api', 'oauth2', 'assets']);

export const TenantSettingsPatch = Type.Object(
  {
    accessTokenTtlSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 30 }), Type.Null()])),
    allowSecrets: Type.Optional(Type.Boolean()),
    secretDefaultLifetimeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    secretMaxLifetimeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    auditRetentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    requireMfa: Type.Optional(Type.Boolean()),
    sessionIdleSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400 })),
    sessionLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 300, maximum: 90 * 86400 })),
    refreshTokenLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 300, maximum: 365 * 86400 })),
    refreshTokenIdleSeconds: Type.Optional(Type.Integer({ minimum: 300, maximum: 365 * 86400 })),
    consentLifetimeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    dynamicClientRegistration: Type.Optional(Type.Boolean({ description: 'RFC 7591: applications may register themselves as public clients (default false)' })),
  },
  { additionalProperties: false },
);
export type TenantSettingsPatch = Static<typeof TenantSettingsPatch>;

export const CreateTenantBody = Type.Object(
  {
    name: Type.String({ pattern: TENANT_NAME_PATTERN, description: 'URL-safe name; the issuer is <public url>/<name>' }),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    settings: Type.Optional(TenantSettingsPatch),
  },
  { additionalProperties: false },
);
export type CreateTenantBody = Static<typeof CreateTenantBody>;

export const UpdateTenantBody = Type.Object(
  {
    displayName: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
    settings: Type.Optional(TenantSettingsPatch),
  },
  { additionalProperties: false },
);
export type UpdateTenantBody = Static<typeof UpdateTenantBody>;

export const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  status: OneOf(['active', 'disabled']),
  issuer: Type.String(),
  settings: Type.Object({
    accessTokenTtlSeconds: Type.Union([Type.Integer(), Type.Null()]),
    allowSecrets: Type.Boolean(),
    secretDefaultLifetimeDays: Type.Integer(),
    secretMaxLifetimeDays: Type.Integer(),
    auditRetentionDays: Type.Integer(),
    requireMfa: Type.Boolean(),
    sessionIdleSeconds: Type.Integer(),
    sessionLifetimeSeconds: Type.Integer(),
    refreshTokenLifetimeSeconds: Type.Integer(),
    refreshTokenIdleSeconds: Type.Integer(),
    consentLifetimeDays: Type.Integer(),
    dynamicClientRegistration: Type.Boolean(),
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type TenantView = Static<typeof TenantView>;
