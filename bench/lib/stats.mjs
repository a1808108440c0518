export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export const sum = (values) => values.reduce((a, b) => a + b, 0);

/** Combines the rounds of one server: medians of rounds for rates and latencies, totals for counts. */
export function aggregateRounds(rounds) {
  const ok = sum(rounds.map((r) => r.ok));
  return {
    rounds: rounds.length,
    throughput: median(rounds.map((r) => r.throughput)),
    throughputMin: Math.min(...rounds.map((r) => r.throughput)),
    throughputMax: Math.max(...rounds.map((r) => r.throughput)),
    p50Ms: median(rounds.map((r) => r.latencyMs.p50)),
    p99Ms: median(rounds.map((r) => r.latencyMs.p99)),
    p99MsWorst: Math.max(...rounds.map((r) => r.latencyMs.p99)),
    cpuUsPerRequest: ok > 0 ? (sum(rounds.map((r) => r.serverCpuS)) * 1e6) / ok : NaN,
    serverCpuUtilisation: median(rounds.map((r) => r.serverCpuUtilisation)),
    loadCpuUtilisation: Math.max(...rounds.map((r) => r.loadCpuUtilisation)),
    otherCpuUtilisation: Math.max(...rounds.map((r) => r.otherCpuUtilisation)),
    requests: ok,
    non2xx: sum(rounds.map((r) => r.non2xx)) + sum(rounds.map((r) => warmupNon2xx(r))),
    errors: sum(rounds.map((r) => r.errors + r.timeouts + (r.warmup?.errors ?? 0))),
    statusCounts: mergeCounts(rounds.map((r) => r.statusCounts)),
  };
}

function warmupNon2xx(r) {
  return Object.entries(r.warmup?.statusCounts ?? {}).reduce((acc, [s, c]) => acc + (s >= 200 && s < 300 ? 0 : c), 0);
}

function mergeCounts(list) {
  const out = {};
  for (const counts of list) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}
