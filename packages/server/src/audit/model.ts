/**
 * Audit events, named `<resource>.<past-tense verb>` (`principal.disabled`, `token.issued`).
 *
 * Directory changes are recorded in the same transaction as the change. Token decisions are
 * group-committed: the response waits until its event is durable. Every event sits in a hash chain
 * (one per tenant per writer) that signed checkpoints seal.
 */
import type { PrincipalKind } from '../principals/kinds.js';

/** Where a request came from. */
export interface RequestSource {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface AuditActor {
  /** Principal that made the change (null for the system itself, e.g. bootstrap or rotation). */
  id: string | null;
  /** `jti` of the access token the change was made with. */
  jti: string | null;
  /** Tenant the actor belongs to (an install admin acts across tenants). */
  tenantId: string | null;
  source?: RequestSource | undefined;
}

export const SYSTEM_ACTOR: AuditActor = { id: null, jti: null, tenantId: null };

/** A directory change, as services describe it. */
export interface DirectoryEvent {
  tenantId: string;
  type: string;
  actor: AuditActor;
  target: { type: string; id: string };
  /** Values before and after the change; never secrets. */
  before?: unknown;
  after?: unknown;
}

export type AuditOutcome = 'success' | 'failure';

/** One event as a caller describes it; the writer adds id, time and its place in the chain. */
export interface AuditEventInput {
  tenantId: string;
  type: string;
  outcome: AuditOutcome;
  /** The principal acting: the authenticated client, or the admin making a change. */
  actorId?: string | null;
  actorKind?: PrincipalKind | null;
  /** The principal the event is about, when it is not the actor (e.g. the user in a delegated token). */
  subjectId?: string | null;
  clientId?: string | null;
  credentialId?: string | null;
  /** secret, key, federated, managed. */
  credentialType?: string | null;
  /** Resource identifier (token audience). */
  resource?: string | null;
  /** For token events the issued token's jti; for directory changes the actor's token jti. */
  jti?: string | null;
  target?: { type: string; id: string } | null;
  source?: RequestSource | undefined;
  /** Every actor in the delegation chain, outermost (current) first. */
  delegation?: string[];
  /** Everything else: roles, scopes, expiry, OAuth error and reason, before/after values. */
  data?: Record<string, unknown>;
}

/** A stored event. */
export interface AuditRecord {
  id: string;
  tenantId: string;
  chainId: string;
  seq: number;
  prevHash: string;
  hash: string;
  time: number;
  type: string;
  outcome: AuditOutcome;
  actorId: string | null;
  actorKind: string | null;
  subjectId: string | null;
  clientId: string | null;
  credentialId: string | null;
  credentialType: string | null;
  resource: string | null;
  jti: string | null;
  targetType: string | null;
  targetId: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

/** The head of a chain at a point in time: what checkpoints seal. */
export interface ChainHead {
  chain: string;
  tenant: string;
  seq: number;
  hash: string;
}

/** What a checkpoint signs. */
export interface CheckpointBody {
  v: 1;
  id: string;
  writer: string;
  time: number;
  /** The checkpoint before this one (any writer), so deleting checkpoints is detectable too. */
  prev: { id: string; hash: string } | null;
  /** Heads of every chain that grew since this writer's previous checkpoint. */
  heads: ChainHead[];
}

export function directoryEventInput(event: DirectoryEvent): AuditEventInput {
  return {
    tenantId: event.tenantId,
    type: event.type,
    outcome: 'success',
    actorId: event.actor.id,
    jti: event.actor.jti,
    target: event.target,
    source: event.actor.source,
    data: { actorTenantId: event.actor.tenantId, before: event.before ?? null, after: event.after ?? null },
  };
}
