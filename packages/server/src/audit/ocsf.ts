import type { AuditRecord } from './model.js';

/**
 * Audit events as OCSF 1.3.0 events (category 3, Identity & Access Management), one JSON object
 * per event, for SIEMs. The mapping is a table per class; anything without an OCSF home goes to
 * `unmapped`, so nothing recorded is lost.
 *
 * - `token.*` → Authentication (3002), activity Authentication Ticket (3): a client asked for
 *   an access token (`token.exchanged`: for a user, through RFC 8693 token exchange). `user` is the principal the token is for (the subject of a delegated token,
 *   else the client), `service` the resource, `auth_protocol` OAuth 2.0.
 *   `token.revoked` (RFC 7009) is Logoff (2), the token's session ends; `token.introspected` (recorded
 *   only for inactive tokens) is Other (99).
 * - `principal.*`, `credential.*` → Account Change (3001). OCSF has no activity for adding or
 *   removing a credential; both are Password Change (3), the account's authentication secret
 *   changed; `principal.updated` is Other (99).
 * - `principal.suspended` (an agent lost its last active sponsor) is Disable (5), like
 *   `principal.disabled`; `principal.extended` (an agent's expiry moved) is Other (99).
 * - `session.*` (people signing in and out) → Authentication (3002): `signed_in` and
 *   `sign_in_failed` are Logon (1), `signed_out` Logoff (2); `is_mfa` when two factors were shown,
 *   `auth_protocol` Other ("Signet sign-in": password, TOTP, WebAuthn), reason in `status_detail`.
 * - `mfa.*`, `password.*`, `invitation.*`, `recovery_codes.*` → Account Change (3001):
 *   MFA Factor Enable (10) / Disable (11), Password Change (3), Password Reset (4), else Other.
 * - everything else (tenants, resources, grants, signing keys, OAuth client settings, managed
 *   identity keys, nodes, blueprints, SSF receivers) → Entity Management (3004); a node joining
 *   is Create, (un)assigning an identity Update.
 *
 * The actor is `actor.user` (an admin for directory changes, the authenticated client for
 * tokens). A delegation chain (`data.delegation`, outermost actor first) is kept whole in
 * `unmapped.delegation`; `actor.invoked_by` names the principal the current actor acts for.
 */
export const OCSF_VERSION = '1.3.0';

export interface OcsfUser {
  uid?: string;
  name?: string;
  type: string;
  type_id: number;
}

export interface OcsfEvent {
  category_uid: 3;
  category_name: 'Identity & Access Management';
  class_uid: number;
  class_name: string;
  activity_id: number;
  activity_name: string;
  type_uid: number;
  type_name: string;
  time: number;
  severity_id: number;
  severity: string;
  status_id: 1 | 2;
  status: 'Success' | 'Failure';
  status_detail?: string;
  message?: string;
  metadata: {
    product: { name: 'Signet'; vendor_name: 'Signet' };
    version: typeof OCSF_VERSION;
    uid: string;
    event_code: string;
    log_name: 'audit';
    correlation_uid?: string;
  };
  actor?: { user: OcsfUser; invoked_by?: string };
  /** Authentication: the account the token is for; Account Change: the account changed. */
  user?: OcsfUser;
  /** Authentication: the resource the token was asked for. */
  service?: { name: string };
  auth_protocol_id?: 6 | 99;
  auth_protocol?: 'OAUTH 2.0' | 'Signet sign-in';
  /** Authentication: a sign-in that used two factors. */
  is_mfa?: boolean;
  /** Entity Management: what was managed. */
  entity?: { uid: string; type: string; data?: unknown };
  src_endpoint?: { ip: string };
  http_request?: { user_agent?: string; uid?: string };
  unmapped: Record<string, unknown>;
}

type Activity = readonly [id: number, name: string];
const OTHER: Activity = [99, 'Other'];

const CLASSES = {
  authentication: {
    uid: 3002,
    name: 'Authentication',
    activities: {
      issued: [3, 'Authentication Ticket'],
      exchanged: [3, 'Authentication Ticket'],
      refused: [3, 'Authentication Ticket'],
      granted: [3, 'Authentication Ticket'],
      reused: [3, 'Authentication Ticket'],
      revoked: [2, 'Logoff'],
      introspected: [99, 'Other'],
    },
  },
  accountChange: {
    uid: 3001,
    name: 'Account Change',
    activities: { created: [1, 'Create'], enabled: [2, 'Enable'], disabled: [5, 'Disable'], deleted: [6, 'Delete'], added: [3, 'Password Change'], removed: [3, 'Password Change'], granted: [7, 'Attach Policy'], revoked: [8, 'Detach Policy'], suspended: [5, 'Disable'], extended: [99, 'Other'] },
  },
  entityManagement: {
    uid: 3004,
    name: 'Entity Management',
    activities: { created: [1, 'Create'], added: [1, 'Create'], updated: [3, 'Update'], rotated: [3, 'Update'], deleted: [4, 'Delete'], removed: [4, 'Delete'], enabled: [8, 'Enable'], disabled: [9, 'Disable'], joined: [1, 'Create'], assigned: [3, 'Update'], unassigned: [3, 'Update'] },
  },
} as const satisfies Record<string, { uid: number; name: string; activities: Record<string, Activity> }>;
type OcsfClass = (typeof CLASSES)[keyof typeof CLASSES];

/**
 * Token decisions, authorization codes (`authorization.granted|refused`) and reuse of a spent code
 * or refresh token are Authentication events; a user's consent attaches a policy to (or detaches
 * it from) their account (Account Change: Attach/Detach Policy).
 */
const AUTHENTICATION_RESOURCES = new Set(['token', 'authorization', 'authorization_code', 'refresh_token', 'session']);
const ACCOUNT_RESOURCES = new Set(['principal', 'credential', 'consent', 'mfa', 'password', 'invitation', 'recovery_codes']);

/** Event types whose activity is not the one their verb names in their class. */
const TYPE_ACTIVITIES: Record<string, Activity> = {
  'session.signed_in': [1, 'Logon'],
  'session.sign_in_failed': [1, 'Logon'],
  'session.signed_out': [2, 'Logoff'],
  'mfa.enrolled': [10, 'MFA Factor Enable'],
  'mfa.removed': [11, 'MFA Factor Disable'],
  'password.changed': [3, 'Password Change'],
  'password.reset': [4, 'Password Reset'],
  'invitation.accepted': [3, 'Password Change'],
  'invitation.created': OTHER,
};

/** The OCSF class and activity of a Signet event type (`<resource>.<verb>`). */
export function ocsfClassOf(type: string): { cls: OcsfClass; activity: Activity } {
  const dot = type.indexOf('.');
  const resource = type.slice(0, dot);
  const verb = type.slice(dot + 1);
  const cls = AUTHENTICATION_RESOURCES.has(resource) ? CLASSES.authentication : ACCOUNT_RESOURCES.has(resource) ? CLASSES.accountChange : CLASSES.entityManagement;
  const activities: Record<string, Activity> = cls.activities;
  return { cls, activity: TYPE_ACTIVITIES[type] ?? activities[verb] ?? OTHER };
}

const SEVERITY = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' } as const;

/**
 * Informational for what succeeded; a failed client authentication is Medium, other refusals Low;
 * reuse of a spent code or refresh token (a sign of theft, RFC 9700 §4.14) is High.
 */
function severityOf(e: AuditRecord): keyof typeof SEVERITY {
  if (e.type.endsWith('.reused')) return 4;
  if (e.outcome === 'success') return 1;
  return e.data.error === 'invalid_client' ? 3 : 2;
}

const KIND_NAMES: Record<string, string> = { service: 'Service', managed: 'Managed identity', agent: 'Agent' };

/** OCSF user types: 1 User, 2 Admin, 3 System, 99 Other (the Signet kind as its caption), 0 Unknown. */
function userOf(uid: string, kind: string | null | undefined): OcsfUser {
  if (kind === 'user') return { uid, type: 'User', type_id: 1 };
  if (kind && KIND_NAMES[kind]) return { uid, type: KIND_NAMES[kind], type_id: 99 };
  return { uid, type: 'Unknown', type_id: 0 };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const field = (value: unknown, name: string): unknown => (value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined);

function actorOf(e: AuditRecord, directoryChange: boolean, delegation: string[]): OcsfEvent['actor'] {
  const invokedBy = delegation[1];
  if (e.actorId === null) return directoryChange ? { user: { name: 'signet', type: 'System', type_id: 3 } } : undefined;
  const user = directoryChange ? { uid: e.actorId, type: 'Admin', type_id: 2 } : userOf(e.actorId, e.actorKind);
  return invokedBy ? { user, invoked_by: invokedBy } : { user };
}

/** Maps one audit event to its OCSF 1.3.0 form. */
export function toOcsf(e: AuditRecord): OcsfEvent {
  const { cls, activity } = ocsfClassOf(e.type);
  const [activityId, activityName] = activity;
  const { delegation: rawDelegation, ...data } = e.data;
  const delegation = Array.isArray(rawDelegation) ? rawDelegation.filter((d): d is string => typeof d === 'string') : [];
  const severity = severityOf(e);
  const event: OcsfEvent = {
    category_uid: 3,
    category_name: 'Identity & Access Management',
    class_uid: cls.uid,
    class_name: cls.name,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${activityName}`,
    time: e.time,
    severity_id: severity,
    severity: SEVERITY[severity],
    status_id: e.outcome === 'success' ? 1 : 2,
    status: e.outcome === 'success' ? 'Success' : 'Failure',
    metadata: { product: { name: 'Signet', vendor_name: 'Signet' }, version: OCSF_VERSION, uid: e.id, event_code: e.type, log_name: 'audit' },
    unmapped: {
      tenantId: e.tenantId,
      chain: { id: e.chainId, seq: e.seq, prevHash: e.prevHash, hash: e.hash },
      ...(e.jti ? { jti: e.jti } : {}),
      ...(e.credentialId ? { credential: { id: e.credentialId, type: e.credentialType } } : {}),
      ...(e.targetType && e.targetId ? { target: { type: e.targetType, id: e.targetId } } : {}),
      ...(delegation.length > 0 ? { delegation } : {}),
      data,
    },
  };
  if (e.requestId) event.metadata.correlation_uid = e.requestId;

  const actor = actorOf(e, cls !== CLASSES.authentication, delegation);
  if (actor) event.actor = actor;
  if (cls === CLASSES.authentication) {
    const signIn = e.type.startsWith('session.');
    event.auth_protocol_id = signIn ? 99 : 6;
    event.auth_protocol = signIn ? 'Signet sign-in' : 'OAUTH 2.0';
    if (signIn && Array.isArray(data.amr)) event.is_mfa = data.amr.includes('mfa');
    const reason = signIn ? str(data.reason) : undefined;
    if (reason) event.status_detail = reason;
    const userId = e.subjectId ?? e.clientId ?? e.actorId ?? str(data.claimedClientId);
    event.user = userId === undefined ? { type: 'Unknown', type_id: 0 } : e.subjectId ? userOf(userId, null) : userOf(userId, e.actorKind);
    if (e.resource) event.service = { name: e.resource };
    const error = str(data.error);
    if (error) event.status_detail = error;
    const description = str(data.description);
    if (description) event.message = description;
  } else if (cls === CLASSES.accountChange) {
    const state = field(data, 'after') ?? field(data, 'before');
    const account = e.targetType === 'principal' ? e.targetId : (str(field(state, 'principalId')) ?? str(field(state, 'userId')));
    event.user = account ? userOf(account, str(field(state, 'kind'))) : { type: 'Unknown', type_id: 0 };
  } else if (e.targetType && e.targetId) {
    event.entity = { uid: e.targetId, type: e.targetType };
  }
  if (e.sourceIp) event.src_endpoint = { ip: e.sourceIp };
  if (e.userAgent || e.requestId) {
    event.http_request = {};
    if (e.userAgent) event.http_request.user_agent = e.userAgent;
    if (e.requestId) event.http_request.uid = e.requestId;
  }
  return event;
}
