import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { createPrincipal, expectStatus, grant, startAdmin, type Admin } from '../admin/helpers.js';
import { addKey, createResource, decodeParts, secretClient, type SecretClient } from './helpers.js';

/**
 * The acceptance test: an off-the-shelf OAuth client (openid-client v6) discovers a Signet tenant,
 * gets client-credentials tokens with a secret and with private_key_jwt, and a resource server
 * (jose) verifies them against the published JWKS, across a key rotation.
 */
describe('interoperability: openid-client obtains tokens that jose verifies', () => {
  const RESOURCE = 'api://orders';
  let a: Admin;
  let issuer: string;
  let secretHolder: SecretClient;
  let keyHolder: { id: string; privateKey: CryptoKey };

  const discover = (clientId: string, auth: client.ClientAuth) =>
    client.discovery(new URL(issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
  const verifyWith = (jwks: ReturnType<typeof createRemoteJWKSet>, token: string) =>
    jwtVerify(token, jwks, { typ: 'at+jwt', issuer, audience: RESOURCE, algorithms: ['ES256'] });

  before(async () => {
    a = await startAdmin();
    issuer = `${a.s.url}/default`;
    await createResource(a, 'default', RESOURCE, ['orders.read', 'orders.write']);
    secretHolder = await secretClient(a, 'default', RESOURCE, ['orders.read', 'orders.write']);

    const pair = await generateKeyPair('ES256');
    const principal = await createPrincipal(a, 'default', { kind: 'service', displayName: 'private_key_jwt client' });
    await addKey(a, 'default', principal.id, await exportJWK(pair.publicKey));
    await grant(a, 'default', principal.id, RESOURCE, 'orders.read');
    keyHolder = { id: principal.id, privateKey: pair.privateKey };
  });
  after(() => a.close());

  it('discovery yields the tenant\'s issuer and endpoints', async () => {
    const config = await discover(secretHolder.id, client.ClientSecretBasic(secretHolder.secret));
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, issuer);
    assert.equal(metadata.token_endpoint, `${issuer}/oauth2/token`);
    assert.equal(metadata.jwks_uri, `${issuer}/.well-known/jwks.json`);
  });

  it('client_secret_basic: clientCredentialsGrant with scope <resource>/.default gets a token jose verifies', async () => {
    const config = await discover(secretHolder.id, client.ClientSecretBasic(secretHolder.secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: `${RESOURCE}/.default` });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    // The response's own field: expiresIn() counts down from receipt and reads 599 a second later.
    assert.equal(tokens.expires_in, 600);
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri as string));
    const { payload } = await verifyWith(jwks, tokens.access_token);
    assert.equal(payload.sub, secretHolder.id);
    assert.equal(payload.client_id, secretHolder.id);
    assert.deepEqual([...(payload.roles as string[])].sort(), ['orders.read', 'orders.write']);
  });

  it('client_secret_post: resource + scope=<role> gets only that role', async () => {
    const config = await discover(secretHolder.id, client.ClientSecretPost(secretHolder.secret));
    const tokens = await client.clientCredentialsGrant(config, { resource: RESOURCE, scope: 'orders.write' });
    const { payload } = await verifyWith(createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), tokens.access_token);
    assert.deepEqual(payload.roles, ['orders.write']);
  });

  it('private_key_jwt: a second principal authenticates with its ES256 key', async () => {
    const config = await discover(keyHolder.id, client.PrivateKeyJwt(keyHolder.privateKey));
    const tokens = await client.clientCredentialsGrant(config, { scope: `${RESOURCE}/.default` });
    const { payload } = await verifyWith(createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), tokens.access_token);
    assert.equal(payload.sub, keyHolder.id);
    assert.deepEqual(payload.roles, ['orders.read']);
    // Each grant signs a fresh assertion (new jti), so a second request is not a replay.
    await client.clientCredentialsGrant(config, { scope: `${RESOURCE}/.default` });
  });

  it('an error from Signet surfaces in openid-client: the OAuth error code, or the Basic challenge for invalid_client', async () => {
    const config = await discover(secretHolder.id, client.ClientSecretBasic(secretHolder.secret));
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'api://unknown/.default' }), (error: unknown) => {
      assert.ok(error instanceof client.ResponseBodyError, String(error));
      assert.equal(error.error, 'invalid_scope');
      assert.equal(error.status, 400);
      return true;
    });
    const wrong = await discover(secretHolder.id, client.ClientSecretBasic('sgn_wrong'));
    // RFC 6749 §5.2: a 401 invalid_client carries a WWW-Authenticate challenge, which openid-client reports as such.
    await assert.rejects(client.clientCredentialsGrant(wrong, { scope: `${RESOURCE}/.default` }), (error: unknown) => {
      assert.ok(error instanceof client.WWWAuthenticateChallengeError, String(error));
      assert.equal(error.status, 401);
      assert.equal(error.cause[0]?.scheme, 'basic');
      return true;
    });
  });

  it('tokens from before and after a forced key rotation both verify against the JWKS', async () => {
    const secretConfig = await discover(secretHolder.id, client.ClientSecretBasic(secretHolder.secret));
    const keyConfig = await discover(keyHolder.id, client.PrivateKeyJwt(keyHolder.privateKey));
    const jwksUri = new URL(secretConfig.serverMetadata().jwks_uri as string);
    // A resource server that fetched the JWKS before the rotation and keeps its cache.
    const cachedJwks = createRemoteJWKSet(jwksUri, { cooldownDuration: 60_000, cacheMaxAge: 600_000 });

    const before = [
      (await client.clientCredentialsGrant(secretConfig, { scope: `${RESOURCE}/.default` })).access_token,
      (await client.clientCredentialsGrant(keyConfig, { scope: `${RESOURCE}/.default` })).access_token,
    ];
    for (const token of before) await verifyWith(cachedJwks, token);
    const oldKid = decodeParts(before[0] as string).header.kid;

    const rotation = expectStatus(await a.call<{ activated: string; retired: string | null }>('POST', '/tenants/default/keys/rotate'), 200);
    assert.equal(rotation.retired, oldKid);

    const afterwards = [
      (await client.clientCredentialsGrant(secretConfig, { scope: `${RESOURCE}/.default` })).access_token,
      (await client.clientCredentialsGrant(keyConfig, { scope: `${RESOURCE}/.default` })).access_token,
    ];
    for (const token of afterwards) assert.equal(decodeParts(token).header.kid, rotation.activated);

    // The new signing key was published before the rotation: even the cached key set knows it.
    for (const token of afterwards) await verifyWith(cachedJwks, token);
    // A resource server fetching the JWKS now still finds the retired key for older tokens.
    const freshJwks = createRemoteJWKSet(jwksUri);
    for (const token of [...before, ...afterwards]) await verifyWith(freshJwks, token);
  });
});
