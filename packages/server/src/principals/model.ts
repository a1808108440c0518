import { Type, type Static } from 'typebox';
import { OneOf } from '../http/schema.js';
import { PRINCIPAL_KINDS, type PrincipalKind } from './kinds.js';

/** `suspended`: an agent whose last active sponsor went away; set by Signet, lifted by an admin's enable. */
export type PrincipalStatus = 'active' | 'disabled' | 'suspended' | 'deleted';
export const PRINCIPAL_STATUSES = ['active', 'disabled', 'suspended', 'deleted'] as const;

export interface Principal {
  id: string;
  tenantId: string;
  kind: PrincipalKind;
  displayName: string;
  description: string | null;
  status: PrincipalStatus;
  /** Sponsors (user principal ids); only kinds whose rules require one have any. */
  sponsors: string[];
  /** Agents: the blueprint the agent was created from (its ceiling). */
  blueprintId: string | null;
  /** Agents: no token is issued after this instant until a sponsor extends it. */
  expiresAt: number | null;
  /** Every token issued to it must be DPoP-bound (RFC 9449 §5.2). */
  requireDpop: boolean;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  /** Users only: the name they sign in with, unique per tenant. */
  username: string | null;
  /** Users only: lower-cased; also a sign-in name, unique per tenant. */
  email: string | null;
}

const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2000 });
/** Sign-in names: letters, digits and `._-@+`; compared case-insensitively (stored lower-cased). */
export const Username = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$', description: 'Users only: sign-in name, unique per tenant (case-insensitive)' });
export const Email = Type.String({ format: 'email', maxLength: 254, description: 'Users only: email address, unique per tenant (case-insensitive); also a sign-in name' });
const RequireDpop = Type.Boolean({ description: 'Every token issued to this client must be DPoP-bound (RFC 9449); default false' });
const Sponsors = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20, uniqueItems: true });

export const CreatePrincipalBody = Type.Object(
  {
    kind: OneOf(PRINCIPAL_KINDS),
    displayName: DisplayName,
    description: Type.Optional(Description),
    sponsors: Type.Optional(Sponsors),
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    requireDpop: Type.Optional(RequireDpop),
    blueprint: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Agents: blueprint id or name (required for agents)' })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Agents: ISO 8601 expiry (default and maximum: SIGNET_AGENT_LIFETIME_DAYS from now)' })),
  },
  { additionalProperties: false },
);
export type CreatePrincipalBody = Static<typeof CreatePrincipalBody>;

export const UpdatePrincipalBody = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    description: Type.Optional(Type.Union([Description, Type.Null()])),
    sponsors: Type.Optional(Sponsors),
    username: Type.Optional(Type.Union([Username, Type.Null()])),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    requireDpop: Type.Optional(RequireDpop),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePrincipalBody = Static<typeof UpdatePrincipalBody>;

export const ExtendPrincipalBody = Type.Object(
  { expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'New expiry (default and latest: SIGNET_AGENT_LIFETIME_DAYS from now)' })) },
  { additionalProperties: false },
);
export type ExtendPrincipalBody = Static<typeof ExtendPrincipalBody>;

export const ListPrincipalsQuery = Type.Object(
  {
    kind: Type.Optional(OneOf(PRINCIPAL_KINDS)),
    status: Type.Optional(OneOf(PRINCIPAL_STATUSES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListPrincipalsQuery = Static<typeof ListPrincipalsQuery>;

export const PrincipalView = Type.Object({
  id: Type.String({ description: 'Also the OAuth client_id' }),
  tenantId: Type.String(),
  kind: OneOf(PRINCIPAL_KINDS),
  displayName: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: OneOf(PRINCIPAL_STATUSES),
  sponsors: Type.Array(Type.String()),
  blueprintId: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  requireDpop: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  deletedAt: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
});
export type PrincipalView = Static<typeof PrincipalView>;
