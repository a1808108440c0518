import { OAuthClientService } from './clients/service.js';
import { createPeople, type People } from './people/service.js';
import { ConsentService } from './consents/service.js';
import type { Deps } from './context.js';
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
}

export function createServices(deps: Deps): Services {
  const tenants = new TenantService(deps);
  const principals = new PrincipalService(deps);
  const resources = new ResourceService(deps);
  return {
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
  };
}
