// Scenario 3: cold start to first token. Spawn Signet on a fresh data dir (so the start includes
// migrations, the home tenant, its signing keys and the bootstrap admin) and time from spawn to the
// first 200 from the token endpoint, using the bootstrap admin's credentials as soon as they exist.
// Then the same on the existing data dir (a restart). Median of `ctx.settings.coldStart.runs`.
import { basic, postForm, sleep } from '../lib/http.mjs';
import { median } from '../lib/stats.mjs';
import { adminCredentials, startSignet } from '../lib/signet.mjs';

const POLL_MS = 2;

/** Spawns Signet on `dataDir` and times spawn → first 200 token response; stops it. */
export async function timeToFirstToken(ctx, dataDir, name, { nodeArgs = [] } = {}) {
  const started = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - started) / 1e6;
  const signet = await startSignet(ctx, { dataDir, name, waitReady: false, nodeArgs });
  let listeningMs;
  try {
    for (;;) {
      if (signet.child.exitCode !== null || signet.child.signalCode !== null) throw new Error(`Signet exited during start; log: ${ctx.logFile(name)}\n${ctx.logTail(name)}`);
      if (since() > 30_000) throw new Error('no token within 30 s');
      const creds = adminCredentials(dataDir);
      if (creds) {
        try {
          const res = await postForm(signet.tokenEndpoint, { grant_type: 'client_credentials', scope: creds.scope }, { authorization: basic(creds.client_id, creds.client_secret) });
          listeningMs ??= since();
          if (res.status === 200) return { firstTokenMs: since(), listeningMs };
        } catch {
          /* not listening yet */
        }
      }
      await sleep(POLL_MS);
    }
  } finally {
    await signet.stop();
  }
}

export async function coldStart(ctx) {
  const { runs } = ctx.settings.coldStart;
  const fresh = [];
  const restart = [];
  for (let i = 1; i <= runs; i++) {
    const dataDir = ctx.tempDir(`cold-start-${i}`);
    const first = await timeToFirstToken(ctx, dataDir, `signet-cold-${i}`);
    fresh.push(first);
    const again = await timeToFirstToken(ctx, dataDir, `signet-restart-${i}`);
    restart.push(again);
    ctx.log(`  run ${i}/${runs}: fresh data dir ${first.firstTokenMs.toFixed(0)} ms to first token; restart ${again.firstTokenMs.toFixed(0)} ms`);
  }
  return {
    runs,
    freshMedianMs: median(fresh.map((r) => r.firstTokenMs)),
    freshListeningMedianMs: median(fresh.map((r) => r.listeningMs)),
    restartMedianMs: median(restart.map((r) => r.firstTokenMs)),
    fresh,
    restart,
  };
}
