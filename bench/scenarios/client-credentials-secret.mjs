// Scenario 1: client_credentials with client_secret_basic — Signet, node-oidc-provider, limit server,
// and Signet with token events dropped (SIGNET_AUDIT_WRITES=off-for-benchmarks) to show the audit's cost.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { compareShapes, probeToken } from '../lib/check.mjs';
import { basic } from '../lib/http.mjs';
import { alternate, atFixedRate, comfortableRate } from '../lib/matrix.mjs';
import { startComparison } from '../lib/peers.mjs';
import { setupBench, startSignet, TOKEN_BODY } from '../lib/signet.mjs';
import { decodeJwt } from '../lib/jwt.mjs';
import { postForm } from '../lib/http.mjs';

const NO_AUDIT = 'signet-noaudit';

export async function clientCredentialsSecret(ctx) {
  const signet = await startSignet(ctx, { dataDir: ctx.tempDir('cc-secret'), name: 'signet' });
  const servers = [signet];
  try {
    const bench = await setupBench(signet);
    const auth = new Map([[signet.name, basic(bench.secretClient.id, bench.secretClient.secret)]]);
    // What the audit trail costs: the same Signet with token events dropped (the build must know
    // SIGNET_AUDIT_WRITES=off-for-benchmarks; it says so loudly at start, which is checked here).
    const noAudit = await startSignet(ctx, { dataDir: ctx.tempDir('cc-secret-noaudit'), name: NO_AUDIT, env: { SIGNET_AUDIT_WRITES: 'off-for-benchmarks' } });
    servers.push(noAudit);
    let auditOffNote = null;
    if (ctx.logTail(NO_AUDIT, 50).includes('SIGNET_AUDIT_WRITES=off-for-benchmarks')) {
      const b = await setupBench(noAudit);
      auth.set(NO_AUDIT, basic(b.secretClient.id, b.secretClient.secret));
      // Accepted is not enough: no token event may reach the database.
      const res = await postForm(noAudit.tokenEndpoint, TOKEN_BODY, { authorization: auth.get(NO_AUDIT) });
      if (res.status !== 200) throw new Error(`${NO_AUDIT}: token request → ${res.status}`);
      const written = countTokenEvents(ctx.signetDir, noAudit.dataDir);
      if (written > 0) auditOffNote = `this build accepts SIGNET_AUDIT_WRITES=off-for-benchmarks but still wrote ${written} token event(s), so the switch is not wired through; the audit-off comparison was skipped`;
    } else {
      auditOffNote = 'this build has no SIGNET_AUDIT_WRITES=off-for-benchmarks; the audit-off comparison was skipped';
    }
    if (auditOffNote) {
      ctx.log(`  (${auditOffNote})`);
      servers.pop();
      await noAudit.stop();
    }
    const tenantId = await tenantIdOf(signet, bench);
    servers.push(await startComparison(ctx, 'peer', bench, tenantId));
    servers.push(await startComparison(ctx, 'limit', bench, tenantId));
    for (const s of servers) if (!auth.has(s.name)) auth.set(s.name, auth.get(signet.name));

    const probes = await Promise.all(servers.map(async (s) => [s.name, await probeToken(s, { headers: { authorization: auth.get(s.name) }, body: TOKEN_BODY })]));
    const shapes = compareShapes(Object.fromEntries(probes));
    if (shapes.problems.length) ctx.log(`  !! token shape: ${shapes.problems.join('; ')}`);
    else ctx.log(`  tokens verified; same header and claims on all ${servers.length}: ${shapes.probes.signet.claimNames.join(' ')}`);

    const requestFor = (server) => ({ kind: 'static', headers: { authorization: auth.get(server.name) }, body: TOKEN_BODY });
    const results = await alternate(ctx, servers, requestFor);
    const fixedRate = await atFixedRate(ctx, servers, requestFor, comfortableRate(results));
    return { request: `POST ${TOKEN_BODY}, client_secret_basic`, shapes, servers: results, fixedRate, auditOffNote };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** token.issued events in a (running) Signet's SQLite file, read-only. */
function countTokenEvents(signetDir, dataDir) {
  const Database = createRequire(join(signetDir, 'package.json'))('better-sqlite3');
  const db = new Database(join(dataDir, 'signet.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT count(*) AS n FROM audit_events WHERE type = 'token.issued'").get().n;
  } finally {
    db.close();
  }
}

/** The default tenant's id, read from a token Signet issued (the `tid` claim). */
export async function tenantIdOf(signet, bench) {
  const res = await postForm(signet.tokenEndpoint, TOKEN_BODY, { authorization: basic(bench.secretClient.id, bench.secretClient.secret) });
  if (res.status !== 200) throw new Error(`Signet refused the bench client: ${res.status} ${JSON.stringify(res.body)}`);
  return decodeJwt(res.body.access_token).payload.tid;
}
