/**
 * Audit events, named `<resource>.<past-tense verb>` (`principal.disabled`, `credential.added`).
 * Directory changes are recorded in the same transaction as the change itself.
 */
export interface AuditActor {
  /** Principal that made the change (null for the system itself, e.g. bootstrap or rotation). */
  id: string | null;
  /** `jti` of the access token the change was made with. */
  jti: string | null;
  /** Tenant the actor belongs to (an install admin acts across tenants). */
  tenantId: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { id: null, jti: null, tenantId: null };

export interface DirectoryEvent {
  tenantId: string;
  type: string;
  actor: AuditActor;
  target: { type: string; id: string };
  /** Values before and after the change; never secrets. */
  before?: unknown;
  after?: unknown;
}

export interface AuditRecord {
  id: string;
  tenantId: string;
  time: number;
  type: string;
  outcome: 'success' | 'failure';
  actorId: string | null;
  actorJti: string | null;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
}
