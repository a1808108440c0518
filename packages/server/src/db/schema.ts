/**
 * Table shapes shared by every backend. Timestamps are epoch milliseconds (bigint in PostgreSQL,
 * parsed to number); JSON is stored as text so one set of migrations serves both dialects.
 */
export interface TenantsTable {
  id: string;
  name: string;
  display_name: string | null;
  status: string;
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface PrincipalsTable {
  id: string;
  tenant_id: string;
  kind: string;
  display_name: string;
  description: string | null;
  status: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** Users only: sign-in name, unique per tenant. */
  username?: string | null;
  /** Users only: lower-cased, unique per tenant. */
  email?: string | null;
  /** Agents: the blueprint the agent was created from. */
  blueprint_id: string | null;
  /** Agents: after this instant the agent gets no token until a sponsor extends it. */
  expires_at: number | null;
  /** 1: every token issued to this principal must be DPoP-bound (RFC 9449). */
  require_dpop: number;
}

export interface PrincipalSponsorsTable {
  tenant_id: string;
  principal_id: string;
  sponsor_id: string;
  created_at: number;
}

/** The columns every credential row has, whoever holds it (a principal, or a blueprint lending it). */
export interface CredentialColumns {
  id: string;
  tenant_id: string;
  type: string;
  description: string | null;
  secret_digest: string | null;
  public_jwk: string | null;
  thumbprint: string | null;
  certificate: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

export interface CredentialsTable extends CredentialColumns {
  principal_id: string;
  /** Federated credentials (0004_federation): external issuer, audience, exact subject or claims expression, optional JWKS. */
  issuer: string | null;
  audience: string | null;
  subject: string | null;
  claims: string | null;
  jwks: string | null;
}

export interface ResourcesTable {
  id: string;
  tenant_id: string;
  identifier: string;
  display_name: string;
  description: string | null;
  scopes: string;
  roles: string;
  builtin: number;
  created_at: number;
  updated_at: number;
}

export interface GrantsTable {
  id: string;
  tenant_id: string;
  principal_id: string;
  resource_id: string;
  role: string;
  created_at: number;
}

export interface SigningKeysTable {
  id: string;
  tenant_id: string;
  alg: string;
  status: string;
  public_jwk: string;
  private_key: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** After this instant no token signed by the key can still be valid: it leaves the JWKS. */
  expires_at: number | null;
}

export interface UsedJtisTable {
  tenant_id: string;
  client_id: string;
  jti: string;
  expires_at: number;
}

export interface AuditChainsTable {
  id: string;
  tenant_id: string;
  writer_id: string;
  created_at: number;
  head_seq: number;
  head_hash: string;
  /** Events up to this seq are in the principal and credential lookups (audit/indexer.ts). */
  indexed_seq: number;
}

export interface AuditEventsTable {
  id: string;
  tenant_id: string;
  chain_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
  time: number;
  type: string;
  outcome: string;
  actor_id: string | null;
  actor_kind: string | null;
  subject_id: string | null;
  client_id: string | null;
  credential_id: string | null;
  credential_type: string | null;
  resource: string | null;
  jti: string | null;
  target_type: string | null;
  target_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data: string;
}

export interface AuditEventPrincipalsTable {
  tenant_id: string;
  principal_id: string;
  event_id: string;
}

export interface AuditEventCredentialsTable {
  tenant_id: string;
  credential_id: string;
  event_id: string;
}

export interface AuditCheckpointsTable {
  id: string;
  writer_id: string;
  time: number;
  /** Canonical JSON of the checkpoint (what is hashed and signed). */
  body: string;
  hash: string;
  /** Compact JWS (EdDSA, audit key) whose payload is `body`. */
  signature: string;
}

export interface AuditKeysTable {
  id: string;
  public_jwk: string;
  private_key: string;
  created_at: number;
}

export interface OAuthClientsTable {
  tenant_id: string;
  principal_id: string;
  client_type: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  required_scopes: string;
  /** 1 when the application registered itself (RFC 7591); 0 when an admin set it up. */
  self_registered: number;
  created_at: number;
  updated_at: number;
}

export interface AuthorizationRequestsTable {
  id: string;
  tenant_id: string;
  client_id: string;
  params: string;
  created_at: number;
  expires_at: number;
}

export interface ManagedKeysTable {
  id: string;
  tenant_id: string;
  principal_id: string;
  generation: number;
  alg: string;
  public_jwk: string;
  /** PKCS#8 private key sealed by the master-key envelope; never leaves the server. */
  private_key: string;
  created_at: number;
  expires_at: number;
}

export interface TokenFamiliesTable {
  id: string;
  tenant_id: string;
  client_id: string;
  user_id: string;
  consent_ids: string;
  resource: string | null;
  scope: string;
  auth_time: number;
  amr: string;
  acr: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  /** RFC 9449: a public client's refresh tokens are bound to this DPoP key thumbprint. */
  dpop_jkt: string | null;
}

export interface AuthorizationCodesTable {
  digest: string;
  tenant_id: string;
  client_id: string;
  user_id: string;
  grant: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  family_id: string | null;
  access_token_jti: string | null;
}

export interface RefreshTokensTable {
  digest: string;
  tenant_id: string;
  family_id: string;
  created_at: number;
  idle_expires_at: number;
  used_at: number | null;
}

export interface ConsentsTable {
  id: string;
  tenant_id: string;
  /** Null: an admin consented for every user of the tenant. */
  user_id: string | null;
  client_id: string;
  resource: string;
  scopes: string;
  granted_by: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

export interface PeoplePasswordsTable {
  tenant_id: string;
  user_id: string;
  /** argon2id PHC string. */
  hash: string;
  must_change: number;
  updated_at: number;
}

export interface PeopleFactorsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  /** totp | passkey */
  type: string;
  name: string;
  confirmed: number;
  /** TOTP secret sealed with the master key. */
  secret: string | null;
  /** TOTP: the last accepted time step (a code is never accepted twice). */
  last_step: number | null;
  credential_id: string | null;
  public_key: string | null;
  counter: number | null;
  transports: string | null;
  device_type: string | null;
  created_at: number;
  last_used_at: number | null;
}

export interface PeopleRecoveryCodesTable {
  tenant_id: string;
  user_id: string;
  digest: string;
  created_at: number;
  used_at: number | null;
}

export interface PeopleInvitationsTable {
  digest: string;
  tenant_id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface PeopleSessionsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  token_digest: string;
  /** active | mfa | password_change | mfa_enroll (sign-in in progress unless active). */
  state: string;
  amr: string;
  acr: string;
  auth_time: number;
  return_to: string | null;
  require_mfa: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  source_ip: string | null;
  user_agent: string | null;
}

export interface PeopleWebauthnChallengesTable {
  id: string;
  tenant_id: string;
  user_id: string | null;
  purpose: string;
  challenge: string;
  expires_at: number;
}

export interface NodesTable {
  id: string;
  tenant_id: string;
  name: string;
  status: string;
  created_at: number;
  updated_at: number;
  last_seen_at: number | null;
}

export interface NodeKeysTable {
  id: string;
  tenant_id: string;
  node_id: string;
  public_jwk: string;
  created_at: number;
  expires_at: number;
}

export interface NodeJoinTokensTable {
  id: string;
  tenant_id: string;
  name: string | null;
  /** Keyed digest of the join token; the token itself is shown once and never stored. */
  digest: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  node_id: string | null;
}

export interface NodeAssignmentsTable {
  tenant_id: string;
  node_id: string;
  principal_id: string;
  created_at: number;
}

export interface BlueprintsTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  /** JSON: [{ resourceId, roles[], scopes[] }] — the most an agent of the blueprint may hold. */
  permissions: string;
  access_token_lifetime_seconds: number;
  max_delegation_depth: number;
  allow_app_roles: number;
  allow_delegation: number;
  require_dpop: number;
  created_at: number;
  updated_at: number;
}

export interface BlueprintCredentialsTable extends CredentialColumns {
  blueprint_id: string;
}

export interface RevokedTokensTable {
  tenant_id: string;
  jti: string;
  /** The token's own `exp` (ms): after it the entry is useless and is removed. */
  expires_at: number;
  revoked_at: number;
}

export interface SsfReceiversTable {
  id: string;
  tenant_id: string;
  endpoint_url: string;
  /** `aud` of the Security Event Tokens sent to this receiver. */
  audience: string;
  /** Sealed (envelope) Authorization header value sent with each push, or null. */
  authorization: string | null;
  description: string | null;
  created_at: number;
}

export interface SsfOutboxTable {
  id: string;
  tenant_id: string;
  receiver_id: string;
  /** JSON of the event to sign and push (the SET is signed at delivery). */
  event: string;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  last_error: string | null;
  created_at: number;
}

export interface DirectoryVersionsTable {
  tenant_id: string;
  /** Bumped by every directory change of the tenant, in the change's transaction. */
  version: number;
  changed_at: number;
}

export interface Database {
  tenants: TenantsTable;
  principals: PrincipalsTable;
  principal_sponsors: PrincipalSponsorsTable;
  credentials: CredentialsTable;
  resources: ResourcesTable;
  grants: GrantsTable;
  signing_keys: SigningKeysTable;
  used_jtis: UsedJtisTable;
  audit_chains: AuditChainsTable;
  audit_events: AuditEventsTable;
  audit_event_principals: AuditEventPrincipalsTable;
  audit_event_credentials: AuditEventCredentialsTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_keys: AuditKeysTable;
  oauth_clients: OAuthClientsTable;
  authorization_requests: AuthorizationRequestsTable;
  token_families: TokenFamiliesTable;
  authorization_codes: AuthorizationCodesTable;
  refresh_tokens: RefreshTokensTable;
  consents: ConsentsTable;
  people_passwords: PeoplePasswordsTable;
  people_factors: PeopleFactorsTable;
  people_recovery_codes: PeopleRecoveryCodesTable;
  people_invitations: PeopleInvitationsTable;
  people_sessions: PeopleSessionsTable;
  people_webauthn_challenges: PeopleWebauthnChallengesTable;
  managed_keys: ManagedKeysTable;
  nodes: NodesTable;
  node_keys: NodeKeysTable;
  node_join_tokens: NodeJoinTokensTable;
  node_assignments: NodeAssignmentsTable;
  blueprints: BlueprintsTable;
  blueprint_credentials: BlueprintCredentialsTable;
  revoked_tokens: RevokedTokensTable;
  ssf_receivers: SsfReceiversTable;
  ssf_outbox: SsfOutboxTable;
  directory_versions: DirectoryVersionsTable;
}
