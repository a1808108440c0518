import { Type, type Static } from 'typebox';
import { OneOf } from '../http/schema.js';

/** RFC 6749 §2.1: confidential clients authenticate; public (native, browser) clients cannot keep a secret. */
export const CLIENT_TYPES = ['confidential', 'public'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

/** How a service or agent principal is set up for users to sign in to it. */
export interface OAuthClient {
  tenantId: string;
  principalId: string;
  clientType: ClientType;
  /** Exact redirect URIs (RFC 9700 §2.1); loopback ports may vary for public clients only. */
  redirectUris: string[];
  /** Where RP-initiated logout may send the browser afterwards (exact match). */
  postLogoutRedirectUris: string[];
  /** Scopes the user cannot decline on the consent page; every other requested scope is optional. */
  requiredScopes: string[];
  /** Registered by the application itself (RFC 7591), not by an admin: nobody has checked who runs it. */
  selfRegistered: boolean;
  createdAt: number;
  updatedAt: number;
}

const Uri = Type.String({ minLength: 1, maxLength: 2000 });
const ScopeName = Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}$' });

export const PutOAuthClientBody = Type.Object(
  {
    clientType: OneOf(CLIENT_TYPES),
    redirectUris: Type.Array(Uri, { minItems: 1, maxItems: 20, uniqueItems: true }),
    postLogoutRedirectUris: Type.Optional(Type.Array(Uri, { maxItems: 20, uniqueItems: true })),
    requiredScopes: Type.Optional(Type.Array(ScopeName, { maxItems: 50, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type PutOAuthClientBody = Static<typeof PutOAuthClientBody>;

export const OAuthClientView = Type.Object({
  principalId: Type.String({ description: 'Also the client_id' }),
  clientType: OneOf(CLIENT_TYPES),
  redirectUris: Type.Array(Type.String()),
  postLogoutRedirectUris: Type.Array(Type.String()),
  requiredScopes: Type.Array(Type.String()),
  selfRegistered: Type.Boolean({ description: 'Registered by the application itself (RFC 7591 dynamic client registration)' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type OAuthClientView = Static<typeof OAuthClientView>;
