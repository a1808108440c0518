import { OAuthClientService } from './clients/service.js';
import { createPeople, type People } from './people/service.js';
import { ConsentService } from './consents/service.js';
import { BlueprintService } from './blueprints/service.js';
import { ReceiverService } from './ssf/service.js';
import type { Deps } from './context.js';
import { AccessTokenVerifier } from './oauth/verify-access-token.js';
import { consentRecords, type DelegationPolicy } from './policy/consent.js';
import { CredentialService } from './credentials/service.js';
import { GrantService } from './grants/service.js';
import { NodeService } from './nodes/service.js';
import { PrincipalService } from './principals/service.js';
import { ResourceService } from './resources/service.js';
import type { SigningKeyService } from './signing-keys/service.js';
import { TenantService } from './tenants/service.js';

/** Every domain service, wired once. */
export interface Services {
  tenants: TenantService;
  principals: PrincipalService;
  credentials: CredentialService;
  resources: ResourceService;
  grants: GrantService;
  keys: SigningKeyService;
  oauthClients: OAuthClientService;
  consents: ConsentService;
  people: People;
  nodes: NodeService;
  /** Verifies Signet's own access tokens (admin API, token-exchange subject tokens). */
  accessTokens: AccessTokenVerifier;
  /** Where delegated permission comes from (RFC 8693 exchange); see policy/consent.ts. */
  delegation: DelegationPolicy;
  blueprints: BlueprintService;
  receivers: ReceiverService;
}

export function createServices(deps: Deps): Services {
  const tenants = new TenantService(deps);
  const principals = new PrincipalService(deps);
  const resources = new ResourceService(deps);
  const blueprints = new BlueprintService(deps, resources);
  return {
    blueprints,
    receivers: new ReceiverService(deps),
    tenants,
    principals,
    resources,
    credentials: new CredentialService(deps, principals),
    grants: new GrantService(deps, principals, resources),
    keys: deps.keys,
    oauthClients: new OAuthClientService(deps, principals),
    consents: new ConsentService(deps, principals, resources),
    people: createPeople(deps),
    nodes: new NodeService(deps, principals),
    accessTokens: new AccessTokenVerifier(deps, tenants),
    delegation: consentRecords(deps),
  };
}
