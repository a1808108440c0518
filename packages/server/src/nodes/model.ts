import type { JWK } from 'jose';
import { Type, type Static } from 'typebox';
import { OneOf } from '../http/schema.js';

export const NODE_STATUSES = ['active', 'disabled', 'deleted'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** A machine running `signet node`: it holds its own key and fetches tokens for the managed identities assigned to it. */
export interface Node {
  id: string;
  tenantId: string;
  name: string;
  status: NodeStatus;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number | null;
}

/** A node's public key; the private half exists only on the node, encrypted at rest. */
export interface NodeKey {
  /** RFC 7638 thumbprint (the assertion's `kid`). */
  id: string;
  tenantId: string;
  nodeId: string;
  publicJwk: JWK;
  createdAt: number;
  expiresAt: number;
}

export interface JoinToken {
  id: string;
  tenantId: string;
  name: string | null;
  digest: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  nodeId: string | null;
}

const Time = Type.String();
const OptionalTime = Type.Union([Type.String(), Type.Null()]);

export const CreateJoinTokenBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Name the node gets when it joins' })),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400, description: 'Lifetime (default SIGNET_NODE_JOIN_TOKEN_TTL)' })),
  },
  { additionalProperties: false },
);
export type CreateJoinTokenBody = Static<typeof CreateJoinTokenBody>;

export const JoinTokenView = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  token: Type.String({ description: 'Shown exactly once; single use' }),
  createdAt: Time,
  expiresAt: Time,
});

export const NodeKeyView = Type.Object({
  kid: Type.String(),
  publicJwk: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Time,
  expiresAt: Time,
});

export const NodeView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  status: OneOf(NODE_STATUSES),
  identities: Type.Array(Type.String(), { description: 'Managed identities assigned to the node' }),
  keys: Type.Array(NodeKeyView),
  createdAt: Time,
  updatedAt: Time,
  lastSeenAt: OptionalTime,
});

export const NodeParams = Type.Object(
  { tenant: Type.String({ minLength: 1, maxLength: 100 }), nodeId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const AssignmentParams = Type.Object(
  { ...NodeParams.properties, principalId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const UpdateNodeBody = Type.Object({ status: OneOf(['active', 'disabled'] as const) }, { additionalProperties: false });
export type UpdateNodeBody = Static<typeof UpdateNodeBody>;
