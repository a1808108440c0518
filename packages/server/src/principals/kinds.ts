/**
 * Kind-specific rules, in one place. Everything that differs between people, services, managed
 * identities and agents is decided by this table, never by scattered `kind ===` checks.
 */
export const PRINCIPAL_KINDS = ['user', 'service', 'managed', 'agent'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export interface KindRules {
  /** May authenticate at the token endpoint as an OAuth client (client_credentials). */
  isClient: boolean;
  /** May hold a generated client secret. Managed identities never do: the platform holds their key. */
  mayHoldSecret: boolean;
  /** May hold a public key for private_key_jwt. */
  mayHoldKey: boolean;
  /** May be given application roles on a resource. */
  mayHoldRoles: boolean;
  /** Must name at least one active human sponsor. */
  requiresSponsor: boolean;
  /** May be named as another principal's sponsor. */
  maySponsor: boolean;
  /** Is created from a blueprint, which caps what it may ever hold and may lend it credentials. */
  fromBlueprint: boolean;
  /** Expires (SIGNET_AGENT_LIFETIME_DAYS) unless a sponsor extends it. */
  expires: boolean;
  /** May act for users through token exchange (RFC 8693) as the current actor of a delegation chain. */
  actsForUsers: boolean;
}

export const KIND_RULES: Record<PrincipalKind, KindRules> = {
  user: { isClient: false, mayHoldSecret: false, mayHoldKey: false, mayHoldRoles: false, requiresSponsor: false, maySponsor: true, fromBlueprint: false, expires: false, actsForUsers: false },
  service: { isClient: true, mayHoldSecret: true, mayHoldKey: true, mayHoldRoles: true, requiresSponsor: false, maySponsor: false, fromBlueprint: false, expires: false, actsForUsers: true },
  managed: { isClient: true, mayHoldSecret: false, mayHoldKey: true, mayHoldRoles: true, requiresSponsor: false, maySponsor: false, fromBlueprint: false, expires: false, actsForUsers: false },
  agent: { isClient: true, mayHoldSecret: true, mayHoldKey: true, mayHoldRoles: true, requiresSponsor: true, maySponsor: false, fromBlueprint: true, expires: true, actsForUsers: true },
};

export function rulesFor(kind: PrincipalKind): KindRules {
  return KIND_RULES[kind];
}
