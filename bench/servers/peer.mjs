// The peer: node-oidc-provider 9 configured for the same job as Signet's benchmark:
// one confidential client (client_secret_basic), one private_key_jwt client, client_credentials,
// RFC 9068 JWT access tokens through the resourceIndicators feature (audience = the resource),
// ES256, the default in-memory adapter. The claim set is made to match Signet's (extraTokenClaims
// adds nbf, tid, kind and roles).
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { ready, serverConfig } from './common.mjs';

const config = serverConfig();
const issuer = `http://127.0.0.1:${config.port}`;
const TTL = 600;
const resourceServer = {
  scope: config.role,
  audience: config.resource,
  accessTokenTTL: TTL,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'ES256' } },
};
const roles = { [config.secretClient.id]: [config.role], [config.keyClient.id]: [config.role] };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.secretClient.id,
      client_secret: config.secretClient.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: config.keyClient.id,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [config.keyClient.publicJwk] },
    },
  ],
  jwks: { keys: [config.signingJwk] },
  // The provider's only key is ES256: JWT access tokens default to the clients' ID token alg.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== config.resource) throw new errors.InvalidTarget();
        return resourceServer;
      },
    },
  },
  ttl: { ClientCredentials: TTL, AccessToken: TTL },
  extraTokenClaims: (_ctx, token) => {
    if (token.kind !== 'ClientCredentials') return undefined;
    const now = Math.floor(Date.now() / 1000);
    return { nbf: now, tid: config.tenantId, kind: 'service', roles: roles[token.clientId] ?? [] };
  },
  // Not used by client_credentials; set so the provider does not warn about its dev defaults.
  cookies: { keys: [Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')] },
  findAccount: () => undefined,
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(config.port, '127.0.0.1', () => ready(config.port));
