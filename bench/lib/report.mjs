// Renders a run as Markdown and JSON under bench/results/.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from './matrix.mjs';

const TARGETS = {
  peerRatio: 3,
  limitShare: 0.6,
  p99Ms: 10,
  coldStartMs: 1000,
  rssMB: 200,
  auditEventsPerSecond: 50_000,
  auditOnShare: 0.85,
  /** Not a target: Keycloak's sizing figure, for comparison. */
  keycloakSignInsPerVcpu: 15,
};

/** Other processes' CPU (share of one core) above which a run is flagged as noisy. */
const NOISY = 0.15;
/** CPU check (µs per ES256 signature) above which the run is flagged as slow. */
const SLOW_CPU_US = 36;

export function maxOtherCpu(run) {
  let max = 0;
  for (const r of Object.values(run.scenarios)) {
    if (!r.ok) continue;
    for (const server of Object.values(r.data.servers ?? {})) max = Math.max(max, server.otherCpuUtilisation ?? 0);
  }
  return max;
}

const n0 = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : 'n/a');
const pass = (ok) => (ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL');

function serverTable(servers) {
  const rows = [
    '| server | req/s (median) | min–max | p50 ms | p99 ms (median / worst) | server CPU µs/req | server CPU use | load-gen CPU | other CPU on the box | peak RSS MB | non-2xx + errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [name, s] of Object.entries(servers)) {
    rows.push(
      `| ${name} | ${n0(s.throughput)} | ${n0(s.throughputMin)}–${n0(s.throughputMax)} | ${fmt(s.p50Ms, 2)} | ${fmt(s.p99Ms, 2)} / ${fmt(s.p99MsWorst, 2)} | ${n0(s.cpuUsPerRequest)} | ${fmt(s.serverCpuUtilisation * 100, 0)} % | ${fmt(s.loadCpuUtilisation * 100, 0)} % | ${fmt(s.otherCpuUtilisation * 100, 0)} % | ${n0(s.memory?.peakRssMB)} | ${s.non2xx + s.errors} |`,
    );
  }
  return rows.join('\n');
}

/** Target checks and the numbers behind them. */
export function evaluate(run) {
  const s = run.scenarios;
  const checks = [];
  const cc = s['client-credentials-secret'];
  if (cc?.ok) {
    const { signet, peer, limit } = cc.data.servers;
    const peerRatio = signet.throughput / peer.throughput;
    const limitShare = signet.throughput / limit.throughput;
    checks.push({ target: `client credentials ≥ ${TARGETS.peerRatio}× node-oidc-provider throughput`, measured: `${fmt(peerRatio, 2)}× (${n0(signet.throughput)} vs ${n0(peer.throughput)} req/s)`, ok: peer.throughput > 0 ? peerRatio >= TARGETS.peerRatio : null });
    checks.push({ target: `client credentials ≥ ${TARGETS.limitShare * 100} % of the limit server`, measured: `${fmt(limitShare * 100, 0)} % (${n0(signet.throughput)} vs ${n0(limit.throughput)} req/s)`, ok: limit.throughput > 0 ? limitShare >= TARGETS.limitShare : null });
    checks.push({ target: `client credentials p99 < ${TARGETS.p99Ms} ms at ${run.settings.load.connections} connections`, measured: `${fmt(signet.p99Ms, 2)} ms (worst round ${fmt(signet.p99MsWorst, 2)} ms)`, ok: signet.p99Ms < TARGETS.p99Ms });
  }
  if (cc?.ok && cc.data.fixedRate?.signet) {
    const f = cc.data.fixedRate.signet;
    checks.push({ target: `(for reference) client credentials p99 at a fixed ${n0(f.rate)} req/s`, measured: `${fmt(f.p99Ms, 2)} ms (peer ${fmt(cc.data.fixedRate.peer?.p99Ms, 2)} ms, limit ${fmt(cc.data.fixedRate.limit?.p99Ms, 2)} ms)`, ok: f.p99Ms < TARGETS.p99Ms });
  }
  const cold = s['cold-start'];
  if (cold?.ok) checks.push({ target: `cold start to first token < ${TARGETS.coldStartMs / 1000} s`, measured: `${n0(cold.data.freshMedianMs)} ms (median of ${cold.data.runs}, fresh data dir)`, ok: cold.data.freshMedianMs < TARGETS.coldStartMs });
  const mem = s['memory-large-directory'];
  if (mem?.ok) {
    const peak = mem.data.afterBurst.peakRssMB;
    checks.push({ target: `RSS < ${TARGETS.rssMB} MB with ${n0(mem.data.principals)} principals`, measured: `peak ${n0(peak)} MB (${n0(mem.data.afterBurst.rssMB)} MB after the burst)`, ok: peak < TARGETS.rssMB });
  }
  const ingest = s['audit-ingest'];
  if (ingest?.ok) checks.push({ target: `audit ingest ≥ ${n0(TARGETS.auditEventsPerSecond)} events/s (embedded default, hashing and group commit on)`, measured: `${n0(ingest.data.eventsPerSecond)} events/s (${fmt(ingest.data.cpuMicrosPerEvent, 1)} µs CPU per event)`, ok: ingest.data.eventsPerSecond >= TARGETS.auditEventsPerSecond });
  const signIn = s['password-sign-in'];
  if (signIn?.ok) checks.push({ target: `(for reference) password sign-ins per server core; Keycloak sizes ${TARGETS.keycloakSignInsPerVcpu} per vCPU`, measured: `${fmt(signIn.data.signInsPerSecond, 1)} sign-ins/s measured; ${fmt(signIn.data.cpuMsPerSignIn, 1)} ms server CPU each = ${fmt(1000 / signIn.data.cpuMsPerSignIn, 0)} per fully available core`, ok: 1000 / signIn.data.cpuMsPerSignIn >= TARGETS.keycloakSignInsPerVcpu });
  const noAudit = cc?.ok ? cc.data.servers['signet-noaudit'] : undefined;
  if (noAudit && noAudit.throughput > 0) {
    const share = cc.data.servers.signet.throughput / noAudit.throughput;
    checks.push({ target: `token issuance with audit on ≥ ${TARGETS.auditOnShare * 100} % of audit writes off`, measured: `${fmt(share * 100, 0)} % (${n0(cc.data.servers.signet.throughput)} vs ${n0(noAudit.throughput)} req/s)`, ok: share >= TARGETS.auditOnShare });
  }
  const fed = s.federation;
  if (fed?.ok) {
    const t = (k) => n0(fed.data.servers[`federated-${k}`]?.throughput);
    checks.push({ target: `(for reference) federated client_credentials with ${n0(fed.data.credentials)} credentials per principal`, measured: `${t('indexed')} req/s indexed expressions, ${t('scanned')} scanned, ${t('subject')} exact subjects; matching alone ${n0(fed.data.matching.indexed.matchesPerSecond)} / ${n0(fed.data.matching.scanned.matchesPerSecond)} / ${n0(fed.data.matching.subject.matchesPerSecond)} per s`, ok: null });
  }
  let bad = 0;
  for (const r of Object.values(s)) {
    if (!r.ok) continue;
    for (const server of Object.values(r.data.servers ?? {})) bad += server.non2xx + server.errors;
    for (const f of Object.values(r.data.fixedRate ?? {})) bad += f.non2xx + f.errors;
    bad += r.data.burst?.non2xx ?? 0;
  }
  checks.push({ target: 'every measured response is 2xx (no errors measured)', measured: `${bad} non-2xx / errors`, ok: bad === 0, always: true });
  const failed = Object.entries(s).filter(([, r]) => !r.ok).map(([name]) => name);
  return { checks, errorFree: bad === 0, failed };
}

function section(title, result, body) {
  if (!result) return '';
  if (!result.ok) return `## ${title}\n\nFailed: \`${result.error.split('\n')[0]}\`\n`;
  return `## ${title}\n\n${body(result.data)}\n`;
}

export function renderMarkdown(run) {
  const { checks, failed } = evaluate(run);
  const e = run.environment;
  const s = run.scenarios;
  const L = run.settings.load;
  const out = [];
  out.push(`# Signet benchmark — ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC (${run.mode})`);
  out.push('');
  const check = e.cpuCheckUs ? ` CPU check (one ES256 signature with node:crypto on the server core, ≈ 28 µs when this box is quiet): ${fmt(e.cpuCheckUs.before, 1)} µs before, ${fmt(e.cpuCheckUs.after, 1)} µs after the run.` : '';
  out.push(`Node ${e.node} on ${e.cores} × ${e.cpu}, ${e.memoryGB} GB, Linux ${e.kernel}; ${e.pinning}.${check} Signet at commit ${e.commit ?? '?'}${e.serverTreeDirty ? ' **with uncommitted changes in packages/server**' : ''} (${e.build}); peer ${e.peer}; autocannon ${e.autocannon}. ` +
    `Load: ${L.connections} connections, ${L.rounds} alternating round(s) of ${L.warmupSeconds} s warm-up + ${L.durationSeconds} s measured per server` +
    `${e.quietWaitSeconds >= 1 ? ` (waited ${fmt(e.quietWaitSeconds, 0)} s in all for other processes on the machine to go quiet)` : ''}. Run took ${fmt(run.seconds, 0)} s.`);
  out.push('');
  const noise = maxOtherCpu(run);
  const slowest = Math.max(e.cpuCheckUs?.before ?? 0, e.cpuCheckUs?.after ?? 0);
  if (slowest > SLOW_CPU_US) {
    out.push(`> **Slow CPU during this run:** an ES256 signature took up to ${fmt(slowest, 1)} µs (≈ 28 µs on a quiet box): the VM's neighbours were busy. Ratios from alternating rounds hold better than absolute figures.`);
    out.push('');
  }
  if (noise > NOISY) {
    out.push(`> **Noisy run:** other processes used up to ${fmt(noise * 100, 0)} % of a core while load was measured (see "other CPU on the box"). With 2 cores that competes with the server or the load generator: absolute figures are low and ratios less certain. Re-run on a quiet machine for numbers to quote.`);
    out.push('');
  }
  out.push('## Targets');
  out.push('');
  out.push('| target | measured | result |');
  out.push('|---|---|---|');
  for (const c of checks) out.push(`| ${c.target} | ${c.measured} | ${pass(c.ok)} |`);
  if (failed.length) out.push(`\nScenarios that failed to run: ${failed.join(', ')}.`);
  out.push('');

  out.push(section('1. Client credentials, client_secret_basic', s['client-credentials-secret'], (d) => {
    const { signet, peer, limit } = d.servers;
    return [
      `Request: \`${d.request}\`. Signet as shipped (SQLite, audit on, log level warn); node-oidc-provider with the in-memory adapter and JWT access tokens; the limit server (Fastify + node:crypto, client in memory).`,
      '',
      serverTable(d.servers),
      '',
      `**Signet / peer: ${fmt(signet.throughput / peer.throughput, 2)}×** · **Signet / limit: ${fmt((signet.throughput / limit.throughput) * 100, 0)} %** (throughput). ` +
        `By CPU per token (less sensitive to other load on the box): Signet ${n0(signet.cpuUsPerRequest)} µs, peer ${n0(peer.cpuUsPerRequest)} µs, limit ${n0(limit.cpuUsPerRequest)} µs → ` +
        `Signet / peer ${fmt(peer.cpuUsPerRequest / signet.cpuUsPerRequest, 2)}×, Signet / limit ${fmt((limit.cpuUsPerRequest / signet.cpuUsPerRequest) * 100, 0)} %.`,
      ...auditCostLines(d),
      '',
      fixedRateTable(d.fixedRate, run.settings.load.connections),
      '',
      shapeLine(d.shapes),
    ].join('\n');
  }));
  out.push(section('2. Client credentials, private_key_jwt', s['client-credentials-private-key-jwt'], (d) => {
    const { signet, peer } = d.servers;
    return [
      `Request: \`${d.request}\`. Assertions are signed in the load generator, one per request.`,
      '',
      serverTable(d.servers),
      '',
      `**Signet / peer: ${fmt(signet.throughput / peer.throughput, 2)}×** (throughput) · CPU per token: Signet ${n0(signet.cpuUsPerRequest)} µs, peer ${n0(peer.cpuUsPerRequest)} µs → Signet / peer ${fmt(peer.cpuUsPerRequest / signet.cpuUsPerRequest, 2)}× by CPU.`,
      '',
      shapeLine(d.shapes),
    ].join('\n');
  }));
  out.push(section('3. Cold start to first token', s['cold-start'], (d) => [
    '| start | median ms | runs (ms) |',
    '|---|--:|---|',
    `| fresh data dir (migrations, tenant, keys, bootstrap admin) | ${n0(d.freshMedianMs)} | ${d.fresh.map((r) => n0(r.firstTokenMs)).join(', ')} |`,
    `| restart on the same data dir | ${n0(d.restartMedianMs)} | ${d.restart.map((r) => n0(r.firstTokenMs)).join(', ')} |`,
    '',
    'From spawning `node packages/server/bin/signet.js start` (pinned to the server core) to the first 200 from the token endpoint, using the bootstrap admin credentials as soon as the file exists (polled every 2 ms).',
  ].join('\n')));
  const scenario1Peak = s['client-credentials-secret']?.ok ? s['client-credentials-secret'].data.servers.signet?.memory?.peakRssMB : undefined;
  out.push(section('4. Memory with a large directory', s['memory-large-directory'], (d) => [
    '| point | RSS MB | peak RSS MB |',
    '|---|--:|--:|',
    `| after start | ${n0(d.afterStart.rssMB)} | ${n0(d.afterStart.peakRssMB)} |`,
    `| after the first token | ${n0(d.afterFirstToken.rssMB)} | ${n0(d.afterFirstToken.peakRssMB)} |`,
    `| after a burst of ${n0(d.burst.tokens)} tokens over ${d.burst.clients} clients (${n0(d.burst.throughput)} req/s, p99 ${fmt(d.burst.p99Ms, 2)} ms) | ${n0(d.afterBurst.rssMB)} | ${n0(d.afterBurst.peakRssMB)} |`,
    '',
    `${n0(d.principals)} principals in the tenant. Population: ${d.population.method} — ${n0(d.population.inserted)} rows in ${fmt(d.population.seconds, 1)} s (${n0(d.population.rowsPerSecond)} rows/s). ` +
      `The ${d.burst.clients} burst clients (principal + secret + grant each) went through the admin API: ${d.population.apiWrites} writes in ${fmt(d.population.apiSetupSeconds, 1)} s (≈ ${n0(d.population.apiWrites / d.population.apiSetupSeconds)} writes/s), which is why 100,000 principals do not.`,
    ...(scenario1Peak ? ['', `For comparison: Signet's peak RSS in scenario 1 (a directory of a handful of principals, saturated for ${run.settings.load.rounds} × ${run.settings.load.warmupSeconds + run.settings.load.durationSeconds} s) was ${n0(scenario1Peak)} MB — the difference between "after start" and "after the burst" is load (heap growth, queues), not the directory.`] : []),
  ].join('\n')));
  out.push(section('5. Admin API: list every principal', s['admin-list-large-directory'], (d) => [
    '| principals | pages (limit=500) | total s | pages/s | principals/s | page p50 ms | page p99 ms | server CPU s | RSS after MB |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    `| ${n0(d.items)} | ${d.pages} | ${fmt(d.seconds, 1)} | ${fmt(d.pagesPerSecond, 1)} | ${n0(d.itemsPerSecond)} | ${fmt(d.pageMs.p50, 1)} | ${fmt(d.pageMs.p99, 1)} | ${fmt(d.serverCpuSeconds, 1)} | ${n0(d.memory.rssMB)} |`,
    '',
    'One client walking the cursor sequentially (each page needs the previous page\'s cursor).',
  ].join('\n')));

  out.push(section('6. Audit ingest', s['audit-ingest'], (d) => [
    '| round | events | seconds | events/s | CPU µs per event |',
    '|--:|--:|--:|--:|--:|',
    ...d.rounds.map((r, i) => `| ${i + 1} | ${n0(r.events)} | ${fmt(r.seconds, 1)} | ${n0(r.eventsPerSecond)} | ${fmt(r.cpuMicrosPerEvent, 1)} |`),
    '',
    "Signet's own audit writer (SHA-256 chain hashing, per-tenant chains, group commit, every index) on a fresh SQLite database, in a process pinned to the server core, fed token-shaped events with at most 4,096 waiting. Median: " + `${n0(d.eventsPerSecond)} events/s.`,
  ].join('\n')));

  out.push(section('7. Password sign-ins', s['password-sign-in'], (d) => [
    '| round | sign-ins/s | p50 ms | p99 ms | server CPU ms per sign-in | server CPU use |',
    '|--:|--:|--:|--:|--:|--:|',
    ...d.rounds.map((r, i) => `| ${i + 1} | ${fmt(r.signInsPerSecond, 1)} | ${fmt(r.p50Ms, 0)} | ${fmt(r.p99Ms, 0)} | ${fmt(r.cpuMsPerSignIn, 1)} | ${fmt(r.serverCpuUtilisation * 100, 0)} % |`),
    '',
    `\`POST /default/login\` (username, password, CSRF token and cookie, as a browser sends it) from ${d.concurrency} concurrent clients over ${d.users} users without a second factor; each answered by a 303 with a new session: an argon2id verification (m = 19 MiB, t = 2, p = 1), a session row and a durable audit event. Median: ${fmt(d.signInsPerSecond, 1)} sign-ins/s; by server CPU per sign-in, ${fmt(1000 / d.cpuMsPerSignIn, 0)} per core when the core is Signet's alone (the figure to compare when "server CPU use" is well below 100 %, i.e. other processes took the core). Keycloak's sizing guide: 15 password sign-ins per second per vCPU.`,
  ].join('\n')));

  out.push(section('8. Workload identity federation (1,000 federated credentials per principal)', s.federation, (d) => [
    `Request: ${d.request}.`,
    '',
    serverTable(d.servers),
    '',
    'Matching alone (the candidate index over 1,000 credentials, in process, from the built code):',
    '',
    '| set | matches/s | µs per match |',
    '|---|--:|--:|',
    ...Object.entries(d.matching).map(([k, m]) => `| ${k} | ${n0(m.matchesPerSecond)} | ${fmt(m.microsPerMatch, 2)} |`),
    '',
    `The issuer's discovery document and JWKS were fetched ${d.issuerFetches.discovery} and ${d.issuerFetches.jwks} times in the whole run (cached).`,
  ].join('\n')));

  out.push('## How this was measured');
  out.push('');
  out.push([
    '- Every server is a separate process on 127.0.0.1; autocannon runs in another process; with taskset the server is pinned to core 0 and the load generator to core 1 (so "req/s" is per server core).',
    '- Runs alternate between servers (A, B, C, A, B, C, …), each with its own warm-up; the table shows the median of the rounds and the range.',
    '- Latency is recorded per response in the load generator (sub-millisecond resolution); p50/p99 are the median over rounds (worst round shown too).',
    '- Server CPU is user + system time of the whole server process (all threads) from /proc/<pid>/stat over the measured window, divided by the 2xx responses in it. "server CPU use" near 100 % means the server core was saturated; "load-gen CPU" near 100 % would mean the load generator, not the server, was the limit.',
    '- "other CPU on the box" is the machine\'s busy time from /proc/stat over the window minus the server\'s and the load generator\'s own CPU (the worst round is shown): anything well above a few % means something else ran during the measurement.',
    '- Peak RSS is VmHWM from /proc/<pid>/status at the end of the scenario (includes warm-ups).',
    '- Any non-2xx response or socket error fails the run: a benchmark that measures errors is wrong.',
  ].join('\n'));
  out.push('');
  out.push(`Planned scenarios (added with their features): ${run.planned.join(', ')}.`);
  out.push('');
  return out.join('\n');
}

/** What the audit trail costs: Signet as shipped vs the same build with SIGNET_AUDIT_WRITES=off-for-benchmarks. */
function auditCostLines(d) {
  const on = d.servers.signet;
  const off = d.servers['signet-noaudit'];
  if (d.auditOffNote) return ['', `Audit cost: not measured (${d.auditOffNote}).`];
  if (!on || !off) return [];
  return [
    '',
    `**The audit trail's cost** (\`signet-noaudit\` is the same build with \`SIGNET_AUDIT_WRITES=off-for-benchmarks\`, token events dropped; never a deployment setting): ` +
      `${n0(on.cpuUsPerRequest - off.cpuUsPerRequest)} µs of CPU per token ` +
      `(${n0(on.cpuUsPerRequest)} vs ${n0(off.cpuUsPerRequest)}); audit off would be ${fmt(off.throughput / on.throughput, 2)}× the throughput. The targets above use \`signet\`, as shipped.`,
  ];
}

function fixedRateTable(fixed, connections) {
  if (!fixed) return '';
  const rate = Object.values(fixed)[0]?.rate;
  return [
    `Latency at a fixed offered rate of ${n0(rate)} req/s (half the slowest server's saturated throughput), sent open-loop at a steady pace over up to ${connections} keep-alive connections, latency counted from when each request was due. At saturation a closed loop of ${connections} connections has latency ≈ ${connections} / throughput by construction, so this is the tail-latency figure to compare:`,
    '',
    '| server | achieved req/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | server CPU use | non-2xx + errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...Object.entries(fixed).map(([name, f]) => `| ${name} | ${n0(f.achieved)} | ${fmt(f.p50Ms, 2)} | ${fmt(f.p99Ms, 2)} | ${fmt(f.p999Ms, 2)} | ${n0(f.cpuUsPerRequest)} | ${fmt(f.serverCpuUtilisation * 100, 0)} % | ${f.non2xx + f.errors} |`),
  ].join('\n');
}

function shapeLine(shapes) {
  if (!shapes) return '';
  if (!shapes.same) return `Token check: **${shapes.problems.join('; ')}**`;
  const any = Object.values(shapes.probes)[0];
  const sizes = Object.entries(shapes.probes).map(([k, p]) => `${k} ${p.bytes}`).join(', ');
  return `Token check: every server's token verifies against its JWKS and has the same JOSE header (${any.headerNames.join(', ')}) and claims (${any.claimNames.join(', ')}); token bytes: ${sizes}.`;
}

export function writeReport(root, run) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:]/g, '').replace(/\..*$/, '');
  const base = `${stamp}${run.mode === 'quick' ? '-quick' : ''}`;
  const evaluation = evaluate(run);
  const json = JSON.stringify({ ...run, targets: evaluation.checks }, null, 2);
  const md = renderMarkdown(run);
  const files = [join(dir, `${base}.md`), join(dir, `${base}.json`)];
  writeFileSync(files[0], md);
  writeFileSync(files[1], json);
  const latest = run.mode === 'quick' ? 'latest-quick' : 'latest';
  if (!run.partial) {
    copyFileSync(files[0], join(dir, `${latest}.md`));
    copyFileSync(files[1], join(dir, `${latest}.json`));
    files.push(join(dir, `${latest}.md`), join(dir, `${latest}.json`));
  }
  const noise = maxOtherCpu(run);
  const summary = [
    'Targets:',
    ...evaluation.checks.map((c) => `  ${pass(c.ok).padEnd(4)}  ${c.target}: ${c.measured}`),
    ...(noise > NOISY ? [`  (noisy run: other processes took up to ${fmt(noise * 100, 0)} % of a core during measurements)`] : []),
  ].join('\n');
  return { files, summary, errorFree: evaluation.errorFree };
}
