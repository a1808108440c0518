// Scenario 7: workload identity federation — client_credentials with an external workload token
// (ES256, GitHub Actions–shaped, unique jti) as client_assertion, no client_id, against
// principals holding 1,000 federated credentials each:
//   indexed — 1,000 claims expressions `repository == "acme/repo-N" && ref matches … && …`
//             (a required equality: found through the candidate index);
//   scanned — 1,000 expressions `repository in ["acme/repo-N"] && …` (no required equality:
//             every one is evaluated for every token, the worst case);
//   subject — 1,000 exact-subject credentials.
// The token matches the LAST credential created in each set. Plus an in-process measurement of
// the matching step alone (matches per second over the 1,000 candidates, from the built code).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { alternate } from '../lib/matrix.mjs';
import { parallel, postForm } from '../lib/http.mjs';
import { externalTokenFactory } from '../lib/jwt.mjs';
import { startBenchIssuer } from '../lib/oidc-issuer.mjs';
import { adminSession, BENCH_RESOURCE, BENCH_ROLE, startSignet, TOKEN_BODY } from '../lib/signet.mjs';
import { createPrivateKey } from 'node:crypto';

export const CREDENTIALS = 1000;
const T = '/tenants/default';
const ASSERTION_TYPE = encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

const VARIANTS = {
  indexed: (i) => ({ claims: `repository == "acme/repo-${i}" && ref matches "refs/heads/release/*" && environment == "prod"` }),
  scanned: (i) => ({ claims: `repository in ["acme/repo-${i}"] && ref matches "refs/heads/release/*" && environment == "prod"` }),
  subject: (i) => ({ subject: `repo:acme/repo-${i}:environment:prod` }),
};

function claimsFor(i) {
  return {
    sub: `repo:acme/repo-${i}:environment:prod`,
    repository: `acme/repo-${i}`,
    repository_owner: 'acme',
    ref: 'refs/heads/release/2026.11',
    environment: 'prod',
    event_name: 'push',
    run_id: '987654321',
    runner_environment: 'github-hosted',
  };
}

export async function federation(ctx) {
  const issuer = await startBenchIssuer();
  const signet = await startSignet(ctx, {
    dataDir: ctx.tempDir('federation'),
    name: 'signet',
    env: { SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: issuer.url, SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32' },
  });
  try {
    const admin = await adminSession(signet);
    await admin.post(`${T}/resources`, { identifier: BENCH_RESOURCE, displayName: 'Bench API', roles: [{ name: BENCH_ROLE, description: 'Read the bench API' }] });
    const started = Date.now();
    for (const [variant, body] of Object.entries(VARIANTS)) {
      const principal = await admin.post(`${T}/principals`, { kind: 'service', displayName: `bench-federated-${variant}` });
      await admin.post(`${T}/grants`, { principal: principal.id, resource: BENCH_RESOURCE, role: BENCH_ROLE });
      await parallel(Array.from({ length: CREDENTIALS - 1 }, (_, i) => i), 4, (i) =>
        admin.post(`${T}/principals/${principal.id}/credentials`, { type: 'federated', issuer: issuer.url, audience: `api://bench-${variant}`, ...body(i) }),
      );
      // The matching credential is the newest one.
      await admin.post(`${T}/principals/${principal.id}/credentials`, { type: 'federated', issuer: issuer.url, audience: `api://bench-${variant}`, ...body(CREDENTIALS - 1) });
    }
    ctx.log(`  ${Object.keys(VARIANTS).length} × ${CREDENTIALS} federated credentials created in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const privateKey = createPrivateKey(issuer.privateKeyPem);
    for (const variant of Object.keys(VARIANTS)) {
      const token = externalTokenFactory({ issuer: issuer.url, audience: `api://bench-${variant}`, claims: claimsFor(CREDENTIALS - 1), privateKey, kid: issuer.kid })();
      const res = await postForm(signet.tokenEndpoint, `${TOKEN_BODY}&client_assertion_type=${ASSERTION_TYPE}&client_assertion=${token}`);
      if (res.status !== 200) throw new Error(`federated probe (${variant}): ${res.status} ${JSON.stringify(res.body)}`);
    }
    ctx.log('  a federated token is issued for each set');

    const targets = Object.keys(VARIANTS).map((variant) => ({ ...signet, name: `federated-${variant}`, variant }));
    const servers = await alternate(ctx, targets, (target) => ({
      kind: 'federated',
      issuer: issuer.url,
      audience: `api://bench-${target.variant}`,
      claims: claimsFor(CREDENTIALS - 1),
      privateKeyPem: issuer.privateKeyPem,
      kid: issuer.kid,
      body: TOKEN_BODY,
    }));
    return {
      request: `POST ${TOKEN_BODY}, client_assertion = external ES256 workload token (unique jti), no client_id; ${CREDENTIALS} federated credentials per set`,
      credentials: CREDENTIALS,
      issuerFetches: { ...issuer.hits },
      matching: await measureMatching(ctx),
      servers,
    };
  } finally {
    await signet.stop();
    await issuer.close();
  }
}

/** The matching step alone, in this process, from the built code: matches per second over 1,000 candidates. */
async function measureMatching(ctx) {
  const { CandidateIndex } = await import(pathToFileURL(join(ctx.signetDir, 'dist', 'federation', 'candidates.js')).href);
  const out = {};
  for (const [variant, body] of Object.entries(VARIANTS)) {
    const credentials = Array.from({ length: CREDENTIALS }, (_, i) => ({
      id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
      principalId: 'p',
      expiresAt: null,
      federation: { issuer: 'https://i', audience: 'a', subject: body(i).subject ?? null, claims: body(i).claims ?? null, jwks: null },
    }));
    const index = new CandidateIndex(credentials);
    const claims = claimsFor(CREDENTIALS - 1);
    if (index.match(claims).length !== 1) throw new Error(`matching (${variant}) did not find exactly one credential`);
    for (let i = 0; i < 200; i++) index.match(claims);
    const rounds = variant === 'scanned' ? 2000 : 200_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) index.match(claims);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    out[variant] = { matchesPerSecond: rounds / seconds, microsPerMatch: (seconds * 1e6) / rounds };
  }
  ctx.log(`  matching alone: ${Object.entries(out).map(([k, v]) => `${k} ${Math.round(v.matchesPerSecond).toLocaleString('en')}/s`).join(', ')}`);
  return out;
}
