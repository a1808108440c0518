// Scenario 4: memory with a large directory (100,000 principals by default): Signet's resident
// set after start, after its first token, and after a token burst spread over many clients.
import { largeDirectory } from '../lib/directory.mjs';
import { basic, postForm, sleep } from '../lib/http.mjs';
import { runLoad } from '../lib/load.mjs';
import { startSignet, TOKEN_BODY } from '../lib/signet.mjs';

export async function memoryLargeDirectory(ctx) {
  const dir = await largeDirectory(ctx);
  const signet = await startSignet(ctx, { dataDir: dir.dataDir, name: 'signet-memory' });
  try {
    await sleep(500);
    const afterStart = signet.memory();
    const { secretClient } = dir.bench;
    const first = await postForm(signet.tokenEndpoint, TOKEN_BODY, { authorization: basic(secretClient.id, secretClient.secret) });
    if (first.status !== 200) throw new Error(`first token: ${first.status} ${JSON.stringify(first.body)}`);
    const afterFirstToken = signet.memory();

    const clients = [secretClient, ...dir.bench.extraClients];
    const { connections } = ctx.settings.load;
    const burst = await runLoad(ctx, {
      url: signet.tokenEndpoint,
      connections,
      warmupSeconds: 0,
      durationSeconds: ctx.settings.directory.burstSeconds,
      serverPid: signet.pid,
      request: { kind: 'rotate-basic', authorizations: clients.map((c) => basic(c.id, c.secret)), body: TOKEN_BODY },
    });
    const afterBurst = signet.memory();
    ctx.log(
      `  ${dir.totalPrincipals.toLocaleString('en')} principals: RSS ${afterStart.rssMB.toFixed(0)} MB after start, ${afterFirstToken.rssMB.toFixed(0)} after first token, ` +
        `${afterBurst.rssMB.toFixed(0)} after a ${burst.ok.toLocaleString('en')}-token burst over ${clients.length} clients (peak ${afterBurst.peakRssMB.toFixed(0)} MB)` +
        (burst.non2xx ? `  !! ${burst.non2xx} non-2xx ${JSON.stringify(burst.statusCounts)}` : ''),
    );
    return {
      principals: dir.totalPrincipals,
      population: { method: dir.method, inserted: dir.inserted, seconds: dir.insertSeconds, rowsPerSecond: dir.insertRowsPerSecond, apiSetupSeconds: dir.apiSetupSeconds, apiWrites: dir.apiWrites },
      afterStart,
      afterFirstToken,
      afterBurst,
      burst: { clients: clients.length, tokens: burst.ok, throughput: burst.throughput, p99Ms: burst.latencyMs.p99, non2xx: burst.non2xx + burst.errors + burst.timeouts, statusCounts: burst.statusCounts },
    };
  } finally {
    await signet.stop();
  }
}
