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
  /** May hold a public key for private_key_jwt. Managed identities never do: a key someone else holds would bypass the platform's. */
  mayHoldKey: boolean;
  /** May hold federated credentials (workload identity federation: external OIDC tokens). */
  mayHoldFederated: boolean;
  /** May be given application roles on a resource. */
  mayHoldRoles: boolean;
  /** Must name at least one active human sponsor. */
  requiresSponsor: boolean;
  /** May be named as another principal's sponsor. */
  maySponsor: boolean;
  /** A person who signs in through the browser (password, TOTP, passkey) and has a username and email. */
  signsIn: boolean;
  /** May register redirect URIs and have users sign in to it (authorization code flow). */
  maySignInUsers: boolean;
  /** May sign in to clients and consent to them acting with delegated scopes. */
  mayConsent: boolean;
  /** How the consent page names this kind of client, so a person knows what they are agreeing to. */
  consentLabel: string;
  /**
   * Signet generates and holds the principal's key pair (sealed, rotated at half its lifetime);
   * its tokens are fetched by `signet node` daemons it is assigned to.
   */
  platformHeldKey: boolean;
  /** Is created from a blueprint, which caps what it may ever hold and may lend it credentials. */
  fromBlueprint: boolean;
  /** Expires (SIGNET_AGENT_LIFETIME_DAYS) unless a sponsor extends it. */
  expires: boolean;
  /** May act for users through token exchange (RFC 8693) as the current actor of a delegation chain. */
  actsForUsers: boolean;
}

export const KIND_RULES: Record<PrincipalKind, KindRules> = {
  user: { isClient: false, mayHoldSecret: false, mayHoldKey: false, mayHoldFederated: false, mayHoldRoles: false, requiresSponsor: false, maySponsor: true, maySignInUsers: false, mayConsent: true, consentLabel: 'person', signsIn: true, platformHeldKey: false, fromBlueprint: false, expires: false, actsForUsers: false },
  service: { isClient: true, mayHoldSecret: true, mayHoldKey: true, mayHoldFederated: true, mayHoldRoles: true, requiresSponsor: false, maySponsor: false, maySignInUsers: true, mayConsent: false, consentLabel: 'application', signsIn: false, platformHeldKey: false, fromBlueprint: false, expires: false, actsForUsers: true },
  managed: { isClient: true, mayHoldSecret: false, mayHoldKey: false, mayHoldFederated: true, mayHoldRoles: true, requiresSponsor: false, maySponsor: false, maySignInUsers: false, mayConsent: false, consentLabel: 'managed workload', signsIn: false, platformHeldKey: true, fromBlueprint: false, expires: false, actsForUsers: false },
  agent: { isClient: true, mayHoldSecret: true, mayHoldKey: true, mayHoldFederated: true, mayHoldRoles: true, requiresSponsor: true, maySponsor: false, maySignInUsers: true, mayConsent: false, consentLabel: 'AI agent', signsIn: false, platformHeldKey: false, fromBlueprint: true, expires: true, actsForUsers: true },
};

export function rulesFor(kind: PrincipalKind): KindRules {
  return KIND_RULES[kind];
}

const MAY_HOLD = { secret: 'mayHoldSecret', key: 'mayHoldKey', federated: 'mayHoldFederated' } as const satisfies Record<string, keyof KindRules>;

/**
 * Whether a principal of this kind may hold (and so authenticate with) a credential of this type.
 * Checked when a credential is added and again when one is used, so a credential stored before a
 * rule tightened (a key on a managed identity) stops working too.
 */
export function mayHoldCredential(kind: PrincipalKind, type: keyof typeof MAY_HOLD): boolean {
  return KIND_RULES[kind][MAY_HOLD[type]];
}
