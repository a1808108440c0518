// The load generator: a separate process (pinned to its own core by the harness) that runs
// autocannon against one server (or, for a fixed rate, its own steady open-loop pacer) — a
// warm-up, then the measured run — and reads the server's CPU
// time from /proc around the measured run only. Latencies are recorded per response with
// sub-millisecond resolution (autocannon's own histogram keeps whole milliseconds).
import { createPrivateKey } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import { assertionFactory, externalTokenFactory } from './jwt.mjs';
import { cpuSeconds, machineBusySeconds } from './procs.mjs';
import { assertLoopback } from './http.mjs';

/** private_key_jwt assertions (`assertion`) or external workload tokens (`federated`), each with a unique jti. */
function assertions(spec) {
  const privateKey = createPrivateKey(spec.privateKeyPem);
  if (spec.kind === 'federated') return externalTokenFactory({ issuer: spec.issuer, audience: spec.audience, claims: spec.claims, privateKey, kid: spec.kid });
  return assertionFactory({ clientId: spec.clientId, audience: spec.audience, privateKey, kid: spec.kid });
}

function requestSpec(spec) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(spec.headers ?? {}) };
  if (spec.kind === 'static') return { method: 'POST', headers, body: spec.body };
  if (spec.kind === 'rotate-basic') {
    let i = 0;
    const auths = spec.authorizations;
    return {
      method: 'POST',
      headers,
      body: spec.body,
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: auths[i++ % auths.length] } }) }],
    };
  }
  if (spec.kind === 'assertion' || spec.kind === 'federated') {
    const next = assertions(spec);
    const prefix = `${spec.body}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=`;
    return {
      method: 'POST',
      headers,
      body: `${prefix}${next()}`,
      requests: [{ setupRequest: (req) => ({ ...req, body: `${prefix}${next()}` }) }],
    };
  }
  throw new Error(`unknown request kind ${spec.kind}`);
}

/** The same requests as `requestSpec`, one at a time: () => { headers, body }. */
function requestSource(spec) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(spec.headers ?? {}) };
  if (spec.kind === 'static') return () => ({ headers, body: spec.body });
  if (spec.kind === 'rotate-basic') {
    let i = 0;
    return () => ({ headers: { ...headers, authorization: spec.authorizations[i++ % spec.authorizations.length] }, body: spec.body });
  }
  if (spec.kind === 'assertion' || spec.kind === 'federated') {
    const next = assertions(spec);
    const prefix = `${spec.body}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=`;
    return () => ({ headers, body: `${prefix}${next()}` });
  }
  throw new Error(`unknown request kind ${spec.kind}`);
}

/**
 * Open-loop load at a steady rate: request i is due at start + i / rate, whatever happened to
 * the others (autocannon's own rate limit sends each connection's quota in a burst at the start
 * of every second). Latency counts from when a request was due, so waiting for a free connection
 * counts too (no coordinated omission). At most `connections` requests are in flight.
 */
function paced(job, seconds, onResponse) {
  const next = requestSource(job.request);
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const total = Math.floor(job.overallRate * seconds);
  const intervalNs = 1e9 / job.overallRate;
  let sent = 0;
  let done = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const fire = (dueNs) => {
      const { headers, body } = next();
      const req = httpRequest({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          onResponse?.(null, res.statusCode, 0, Number(process.hrtime.bigint() - dueNs) / 1e6);
          finish();
        });
      });
      req.on('error', () => {
        errors += 1;
        finish();
      });
      req.end(body);
    };
    const finish = () => {
      done += 1;
      if (done === total) {
        agent.destroy();
        resolve({ errors, timeouts: 0 });
      }
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total && start + BigInt(Math.round(sent * intervalNs)) <= now) {
        fire(start + BigInt(Math.round(sent * intervalNs)));
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 0);
    };
    tick();
  });
}

function run(opts, duration, onResponse) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...opts, duration, timeout: 10 }, (error, result) => (error ? reject(error) : resolve(result)));
    if (onResponse) instance.on('response', onResponse);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function main(job) {
  assertLoopback(job.url);
  const opts = { url: job.url, connections: job.connections, pipelining: 1, ...requestSpec(job.request) };
  const warm = { statusCounts: {}, errors: 0 };
  if (job.warmupSeconds > 0) {
    const count = (_c, status) => {
      warm.statusCounts[status] = (warm.statusCounts[status] ?? 0) + 1;
    };
    const result = job.overallRate ? await paced(job, job.warmupSeconds, count) : await run(opts, job.warmupSeconds, count);
    warm.errors = result.errors;
  }

  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const statusCounts = {};
  const onResponse = (_client, status, _bytes, responseTime) => {
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    if (n === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[n++] = responseTime;
  };
  const cpu0 = job.serverPid ? cpuSeconds(job.serverPid) : NaN;
  const busy0 = machineBusySeconds();
  const ownCpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = job.overallRate ? await paced(job, job.durationSeconds, onResponse) : await run(opts, job.durationSeconds, onResponse);
  const t1 = process.hrtime.bigint();
  const cpu1 = job.serverPid ? cpuSeconds(job.serverPid) : NaN;
  const busy1 = machineBusySeconds();
  const ownCpu = process.cpuUsage(ownCpu0);

  const sorted = latencies.subarray(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const wallS = Number(t1 - t0) / 1e9;
  const ok = Object.entries(statusCounts).reduce((acc, [s, c]) => acc + (s >= 200 && s < 300 ? c : 0), 0);
  return {
    responses: n,
    ok,
    non2xx: n - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
    warmup: warm,
    wallS,
    throughput: ok / wallS,
    latencyMs: { mean: sum / n, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted[n - 1] },
    serverCpuS: cpu1 - cpu0,
    loadCpuS: (ownCpu.user + ownCpu.system) / 1e6,
    // CPU the rest of the machine used meanwhile (other processes, kernel work not charged to us).
    otherCpuS: busy1.all - busy0.all - (cpu1 - cpu0) - (ownCpu.user + ownCpu.system) / 1e6,
    window: { startNs: String(t0), endNs: String(t1) },
  };
}

process.once('message', async (job) => {
  try {
    process.send({ ok: true, result: await main(job) }, () => process.exit(0));
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1));
  }
});
process.on('disconnect', () => process.exit(0));
