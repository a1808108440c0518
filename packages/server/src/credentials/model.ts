import { Type, type Static } from 'typebox';
import type { JWK } from 'jose';
import { OneOf } from '../http/schema.js';

export const CREDENTIAL_TYPES = ['secret', 'key', 'federated'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export interface Credential {
  id: string;
  tenantId: string;
  principalId: string;
  /** Set when a blueprint holds the credential and lends it to each of its agents; `principalId` is then the blueprint id. */
  blueprintId?: string;
  type: CredentialType;
  description: string | null;
  /** Keyed digest of a generated secret (type secret); the secret itself is never stored. */
  secretDigest: string | null;
  /** Public key (type key). */
  publicJwk: JWK | null;
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  thumbprint: string | null;
  /** PEM certificate the key came from, when it came from one. */
  certificate: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** Workload identity federation (type federated); null or absent for other types. */
  federation?: Federation | null;
}

/** Which external tokens a federated credential accepts. */
export interface Federation {
  /** The external issuer (`iss`), exactly. */
  issuer: string;
  /** The audience the external token must carry (`aud`). */
  audience: string;
  /** An exact `sub`; null when `claims` decides. */
  subject: string | null;
  /** A claims expression (see federation/expression.ts); null when `subject` decides. */
  claims: string | null;
  /** Keys configured on the credential (clusters without public discovery); null = OIDC discovery. */
  jwks: { keys: JWK[] } | null;
}

const Description = Type.Optional(Type.String({ maxLength: 500 }));
const ExpiresAt = Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 instant' }));

export const CreateCredentialBody = Type.Union([
  Type.Object(
    { type: Type.Literal('secret'), description: Description, expiresAt: ExpiresAt },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('federated'),
      description: Description,
      expiresAt: ExpiresAt,
      issuer: Type.String({ minLength: 1, maxLength: 500, description: 'External issuer URL (https), exactly as in the token\'s iss' }),
      audience: Type.String({ minLength: 1, maxLength: 500, description: 'Audience the external token must carry (aud)' }),
      subject: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Exact sub; give subject or claims' })),
      claims: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Claims expression, e.g. repository == "acme/api" && ref matches "refs/heads/release/*"' })),
      jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 20 }) }, { additionalProperties: false, description: 'Verify with these public keys instead of OIDC discovery' })),
      keys: Type.Optional(Type.Array(Type.String({ maxLength: 20000 }), { minItems: 1, maxItems: 20, description: 'PEM public keys to verify with instead of OIDC discovery' })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('key'),
      description: Description,
      expiresAt: ExpiresAt,
      jwk: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Public JWK (RSA ≥ 2048, EC P-256/P-384/P-521, Ed25519)' })),
      certificate: Type.Optional(Type.String({ maxLength: 20000, description: 'PEM X.509 certificate' })),
    },
    { additionalProperties: false },
  ),
]);
export type CreateCredentialBody = Static<typeof CreateCredentialBody>;

export const CredentialView = Type.Object({
  id: Type.String(),
  principalId: Type.String(),
  type: OneOf(CREDENTIAL_TYPES),
  description: Type.Union([Type.String(), Type.Null()]),
  thumbprint: Type.Union([Type.String(), Type.Null()]),
  publicJwk: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  issuer: Type.Optional(Type.String()),
  audience: Type.Optional(Type.String()),
  subject: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  claims: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  jwks: Type.Optional(Type.Union([Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }), Type.Null()])),
});
export type CredentialView = Static<typeof CredentialView>;

/** Returned once, when a secret is created. */
export const CreatedCredentialView = Type.Intersect([
  CredentialView,
  Type.Object({ secret: Type.Optional(Type.String({ description: 'Shown exactly once; store it now' })) }),
]);
