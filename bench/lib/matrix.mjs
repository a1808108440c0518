// Alternating load runs: round 1 = A, B, C; round 2 = A, B, C; … so drift (thermal, other load,
// background work on the box) hits every server alike. Each run has its own warm-up.
import { sleep } from './http.mjs';
import { runLoad } from './load.mjs';
import { machineBusySeconds } from './procs.mjs';
import { aggregateRounds } from './stats.mjs';

export async function alternate(ctx, servers, requestFor) {
  const { rounds, warmupSeconds, durationSeconds, connections } = ctx.settings.load;
  const byServer = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      await waitForQuiet(ctx);
      const result = await runLoad(ctx, {
        url: server.tokenEndpoint,
        connections,
        warmupSeconds,
        durationSeconds,
        serverPid: server.pid,
        request: requestFor(server),
      });
      byServer[server.name].push(result);
      const bad = result.non2xx + result.errors + result.timeouts;
      ctx.log(
        `  round ${round}/${rounds} ${server.name.padEnd(14)} ${fmt(result.throughput, 0).padStart(7)} req/s  p50 ${fmt(result.latencyMs.p50, 2)} ms  p99 ${fmt(result.latencyMs.p99, 2)} ms  ` +
          `${fmt(result.serverCpuUsPerRequest, 0)} µs CPU/req  server CPU ${fmt(result.serverCpuUtilisation * 100, 0)}%  load-gen CPU ${fmt(result.loadCpuUtilisation * 100, 0)}%  other ${fmt(result.otherCpuUtilisation * 100, 0)}%` +
          (bad ? `  !! ${result.non2xx} non-2xx ${JSON.stringify(result.statusCounts)}, ${result.errors} errors` : ''),
      );
    }
  }
  const summary = {};
  for (const server of servers) {
    summary[server.name] = { ...aggregateRounds(byServer[server.name]), memory: server.memory(), perRound: byServer[server.name] };
  }
  return summary;
}

export function fmt(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/**
 * On a shared machine, waits (within a per-run budget) until nothing else is using more than
 * `maxBusy` of a core, measured over one second while all of our own processes are idle. Waiting
 * is reported; it never fails the run.
 */
export async function waitForQuiet(ctx, maxBusy = 0.25) {
  const state = ctx.quiet;
  if (state.budgetMs <= 0) return;
  const started = Date.now();
  for (;;) {
    const a = machineBusySeconds().all;
    await sleep(1000);
    const busy = machineBusySeconds().all - a;
    if (busy <= maxBusy) break;
    if (Date.now() - started > state.budgetMs) {
      ctx.log(`  (machine still busy: ${fmt(busy * 100, 0)} % of a core used by other processes; measuring anyway, and without waiting from now on)`);
      state.waitedMs += Date.now() - started - 1000;
      state.budgetMs = 0;
      return;
    }
    if (Date.now() - started < 1500) ctx.log(`  (waiting for other processes to go quiet: ${fmt(busy * 100, 0)} % of a core busy)`);
  }
  const waited = Date.now() - started - 1000;
  state.budgetMs -= Math.max(0, waited);
  state.waitedMs += Math.max(0, waited);
}

/**
 * Latency at a fixed offered rate, the same for every server, sent open-loop at a steady pace
 * (lib/load-worker.mjs `paced`): with a closed loop of N connections latency is N / throughput by
 * construction, so p99 at a rate every server can sustain says more about tail latency than p99
 * at saturation.
 */
export async function atFixedRate(ctx, servers, requestFor, rate) {
  const { connections, rateSeconds } = ctx.settings.load;
  const out = {};
  for (const server of servers) {
    await waitForQuiet(ctx);
    const r = await runLoad(ctx, { url: server.tokenEndpoint, connections, warmupSeconds: 1, durationSeconds: rateSeconds, serverPid: server.pid, request: requestFor(server), overallRate: rate });
    out[server.name] = { rate, achieved: r.throughput, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, p999Ms: r.latencyMs.p999, cpuUsPerRequest: r.serverCpuUsPerRequest, serverCpuUtilisation: r.serverCpuUtilisation, non2xx: r.non2xx, errors: r.errors + r.timeouts, otherCpuUtilisation: r.otherCpuUtilisation };
    ctx.log(`  at ${rate} req/s  ${server.name.padEnd(14)} achieved ${fmt(r.throughput, 0)}  p50 ${fmt(r.latencyMs.p50, 2)} ms  p99 ${fmt(r.latencyMs.p99, 2)} ms  server CPU ${fmt(r.serverCpuUtilisation * 100, 0)}%` + (r.non2xx + r.errors ? `  !! ${r.non2xx} non-2xx, ${r.errors} errors` : ''));
  }
  return out;
}

/** Half the slowest server's saturated throughput, rounded down to 50 req/s (at least 50). */
export function comfortableRate(summary) {
  const slowest = Math.min(...Object.values(summary).map((s) => s.throughput));
  return Math.max(50, Math.floor(slowest / 2 / 50) * 50);
}
