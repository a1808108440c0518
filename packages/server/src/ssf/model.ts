import { Type, type Static } from 'typebox';

/** A Shared Signals receiver of one tenant: where Security Event Tokens are pushed (RFC 8935). */
export interface Receiver {
  id: string;
  tenantId: string;
  endpointUrl: string;
  /** `aud` of every SET sent to it. */
  audience: string;
  /** Sealed Authorization header value sent with each push, or null. */
  authorization: string | null;
  description: string | null;
  createdAt: number;
}

/** CAEP event types Signet transmits (OpenID CAEP 1.0 §3). */
export const CAEP = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
} as const;

/** RFC 9493 subject identifier, `iss_sub` format: the principal id under the tenant's issuer. */
export interface SubjectId {
  format: 'iss_sub';
  iss: string;
  sub: string;
}

/** One stop, as queued in the outbox: the SET is built and signed at delivery. */
export interface StopSignal {
  type: (typeof CAEP)[keyof typeof CAEP];
  subject: SubjectId;
  /** Event members (CAEP §2 and the event's own), e.g. event_timestamp, initiating_entity, reason_admin. */
  event: Record<string, unknown>;
}

export const CreateReceiverBody = Type.Object(
  {
    endpointUrl: Type.String({ minLength: 1, maxLength: 2000, description: 'RFC 8935 push endpoint; https on a public address' }),
    audience: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'aud of the SETs (default: the endpoint URL)' })),
    authorization: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'Authorization header value sent with each push (stored sealed, never shown)' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateReceiverBody = Static<typeof CreateReceiverBody>;

export const ReceiverView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  endpointUrl: Type.String(),
  audience: Type.String(),
  hasAuthorization: Type.Boolean(),
  description: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  pending: Type.Integer({ description: 'Signals queued for this receiver and not yet accepted' }),
});
export type ReceiverView = Static<typeof ReceiverView>;
