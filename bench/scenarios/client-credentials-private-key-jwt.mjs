// Scenario 2: client_credentials with private_key_jwt (RFC 7523) — Signet and node-oidc-provider.
// Every request carries a fresh ES256 assertion with a unique jti, signed in the load generator
// (node:crypto, ≈ 30 µs each on the load generator's own core).
import { compareShapes, probeToken } from '../lib/check.mjs';
import { assertionFactory } from '../lib/jwt.mjs';
import { alternate } from '../lib/matrix.mjs';
import { startComparison } from '../lib/peers.mjs';
import { setupBench, startSignet, TOKEN_BODY } from '../lib/signet.mjs';
import { createPrivateKey } from 'node:crypto';
import { tenantIdOf } from './client-credentials-secret.mjs';

const ASSERTION_TYPE = encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

export async function clientCredentialsPrivateKeyJwt(ctx) {
  const signet = await startSignet(ctx, { dataDir: ctx.tempDir('cc-pkjwt'), name: 'signet' });
  const servers = [signet];
  try {
    const bench = await setupBench(signet);
    const tenantId = await tenantIdOf(signet, bench);
    servers.push(await startComparison(ctx, 'peer', bench, tenantId));

    const { keyClient } = bench;
    const probeFor = (server) => {
      const next = assertionFactory({ clientId: keyClient.id, audience: server.tokenEndpoint, privateKey: createPrivateKey(keyClient.privateKeyPem), kid: keyClient.kid });
      return { headers: {}, body: `${TOKEN_BODY}&client_assertion_type=${ASSERTION_TYPE}&client_assertion=${next()}` };
    };
    const shapes = compareShapes(Object.fromEntries(await Promise.all(servers.map(async (s) => [s.name, await probeToken(s, probeFor(s))]))));
    if (shapes.problems.length) ctx.log(`  !! token shape: ${shapes.problems.join('; ')}`);
    else ctx.log('  tokens verified; same header and claims on both');

    const results = await alternate(ctx, servers, (server) => ({
      kind: 'assertion',
      clientId: keyClient.id,
      audience: server.tokenEndpoint,
      privateKeyPem: keyClient.privateKeyPem,
      kid: keyClient.kid,
      body: TOKEN_BODY,
    }));
    return { request: `POST ${TOKEN_BODY}, private_key_jwt (ES256 assertion, unique jti per request)`, shapes, servers: results };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
