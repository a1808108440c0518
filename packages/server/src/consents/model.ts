import { Type, type Static } from 'typebox';

/**
 * The identity scopes of OpenID Connect (Core §5.4, §11) are consented to as if they were scopes of
 * one resource: the user's own sign-in identity at this tenant.
 */
export const IDENTITY_RESOURCE = 'urn:signet:identity';
export const IDENTITY_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export type IdentityScope = (typeof IDENTITY_SCOPES)[number];
export const IDENTITY_SCOPE_DESCRIPTIONS: Record<IdentityScope, string> = {
  openid: 'Sign you in and know your user id',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay signed in and act for you while you are away (refresh tokens)',
};

/** A user's (or, with userId null, a tenant admin's for every user) consent for a client on one resource. */
export interface Consent {
  id: string;
  tenantId: string;
  /** Null: an admin consented for every user of the tenant. */
  userId: string | null;
  clientId: string;
  /** A resource identifier, or IDENTITY_RESOURCE for the OpenID Connect scopes. */
  resource: string;
  scopes: string[];
  /** The principal who gave the consent (the user, or the admin). */
  grantedBy: string;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
}

export const AdminConsentBody = Type.Object(
  {
    client: Type.String({ minLength: 1, maxLength: 64, description: 'Client principal id (service or agent)' }),
    resource: Type.String({ minLength: 1, maxLength: 500, description: `Resource id or identifier, or ${IDENTITY_RESOURCE} for OpenID Connect scopes` }),
    scopes: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Consent for this user only; omitted = for every user of the tenant (admin consent)' })),
  },
  { additionalProperties: false },
);
export type AdminConsentBody = Static<typeof AdminConsentBody>;

export const ListConsentsQuery = Type.Object(
  {
    user: Type.Optional(Type.String({ maxLength: 64, description: 'Only this user\'s consents' })),
    client: Type.Optional(Type.String({ maxLength: 64 })),
    allUsers: Type.Optional(Type.Boolean({ description: 'Only admin consents given for every user' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListConsentsQuery = Static<typeof ListConsentsQuery>;

export const ConsentView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  user: Type.Union([Type.String(), Type.Null()], { description: 'Null: admin consent for every user' }),
  client: Type.String(),
  resource: Type.String(),
  scopes: Type.Array(Type.String()),
  grantedBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  expiresAt: Type.String(),
});
export type ConsentView = Static<typeof ConsentView>;
