// `npm run bench -- --profile`: where does Signet's client-credentials time go?
//  1. Query count: Signet with a preload that counts prepared SQL statements; N token requests;
//     statements per request with their SQL.
//  2. CPU profile: Signet under `node --cpu-prof` (through NODE_OPTIONS), the scenario-1 load
//     (client_secret_basic, 50 connections) pinned as usual; samples outside the measured window
//     are dropped; self time grouped by module.
// Writes the measured part of bench/PROFILE.md between its generated markers (the hand-written
// analysis around them is kept) and the raw profile to bench/results/ (not committed).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarise } from './lib/cpuprofile.mjs';
import { basic, postForm, sleep } from './lib/http.mjs';
import { runLoad } from './lib/load.mjs';
import { fmt, waitForQuiet } from './lib/matrix.mjs';
import { cpuCheck, pinningDescription, threadCpuSeconds, whenInterrupted } from './lib/procs.mjs';
import { setupBench, startSignet, TOKEN_BODY } from './lib/signet.mjs';
import { timeToFirstToken } from './scenarios/cold-start.mjs';

const START = '<!-- generated:start (npm run bench -- --profile) -->';
const END = '<!-- generated:end -->';

/**
 * SQL statements per token: sequentially (one request in flight) and under the benchmark load
 * (where the audit writer's group commit shares one transaction among many tokens).
 */
async function countQueries(ctx, { sequential, loadSeconds }) {
  const countsFile = join(ctx.runDir, 'sql-counts.json');
  const preload = pathToFileURL(new URL('./lib/sql-counter.mjs', import.meta.url).pathname).href;
  const signet = await startSignet(ctx, {
    dataDir: ctx.tempDir('profile-queries'),
    name: 'signet-queries',
    nodeOptions: [`--import=${preload}`],
    env: { BENCH_SIGNET_PACKAGE: join(ctx.signetDir, 'package.json'), BENCH_SQL_COUNTS: countsFile },
  });
  try {
    const bench = await setupBench(signet);
    const auth = { authorization: basic(bench.secretClient.id, bench.secretClient.secret) };
    for (let i = 0; i < 50; i++) await postForm(signet.tokenEndpoint, TOKEN_BODY, auth); // caches warm
    const snapshot = async () => {
      rmSync(countsFile, { force: true });
      signet.child.kill('SIGUSR2');
      for (let i = 0; i < 200 && !existsSync(countsFile); i++) await sleep(10);
      await sleep(20);
      return new Map(JSON.parse(readFileSync(countsFile, 'utf8')));
    };
    // Multi-row inserts (group commit) differ only in their number of value tuples: one row here.
    const normal = (sql) => sql.replace(/ values (\([^)]*\))(, \([^)]*\))+/, ' values $1, … (multi-row)');
    const perToken = (before, after, tokens) => {
      const delta = new Map();
      for (const [sql, n] of after) {
        const d = n - (before.get(sql) ?? 0);
        if (d > 0) delta.set(normal(sql), (delta.get(normal(sql)) ?? 0) + d);
      }
      return [...delta.entries()]
        .map(([sql, n]) => ({ sql, perRequest: n / tokens }))
        .sort((a, b) => b.perRequest - a.perRequest || a.sql.localeCompare(b.sql));
    };

    const s0 = await snapshot();
    for (let i = 0; i < sequential; i++) {
      const res = await postForm(signet.tokenEndpoint, TOKEN_BODY, auth);
      if (res.status !== 200) throw new Error(`token request ${res.status}`);
    }
    const s1 = await snapshot();
    const load = await runLoad(ctx, {
      url: signet.tokenEndpoint,
      connections: ctx.settings.load.connections,
      warmupSeconds: 0,
      durationSeconds: loadSeconds,
      serverPid: signet.pid,
      request: { kind: 'static', headers: auth, body: TOKEN_BODY },
    });
    await sleep(200); // requests cut off at the end of the run may still be committing
    const s2 = await snapshot();
    // Tokens issued in the load phase: every 2xx response, plus responses cut off by the end of the run
    // are not counted by the load generator but did reach the server; the error is < 50 / total.
    return { sequential: perToken(s0, s1, sequential), underLoad: perToken(s1, s2, load.ok), loadTokens: load.ok };
  } finally {
    await signet.stop();
  }
}

function commitOf(root) {
  const run = (args) => spawnSync('git', ['--no-optional-locks', ...args], { cwd: root, encoding: 'utf8' });
  const head = run(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'an unknown commit';
  const dirty = run(['status', '--porcelain', '--', 'packages/server']).stdout.trim().length > 0;
  return `commit ${head.stdout.trim()}${dirty ? ' with uncommitted changes in packages/server' : ''}`;
}

function sqlTable(queries) {
  const load = new Map(queries.underLoad.map((q) => [q.sql, q.perRequest]));
  const all = [...new Set([...queries.sequential.map((q) => q.sql), ...load.keys()])];
  const seq = new Map(queries.sequential.map((q) => [q.sql, q.perRequest]));
  const short = (sql) => (sql.length > 160 ? `${sql.slice(0, 157)}…` : sql);
  const rows = all.map((sql) => ({ sql, seq: seq.get(sql) ?? 0, load: load.get(sql) ?? 0 }));
  const total = (k) => rows.reduce((a, r) => a + r[k], 0);
  return [
    table(rows, ['per token, sequential', 'per token, under load', 'statement'], (r) => [fmt(r.seq, 3), fmt(r.load, 3), `\`${short(r.sql).replace(/\|/g, '\\|')}\``]),
    '',
    `Total: **${fmt(total('seq'), 2)} statements per token sequentially, ${fmt(total('load'), 2)} under load**.`,
  ].join('\n');
}

function table(rows, head, fn) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '--:')).join('|')}|`, ...rows.map((r) => `| ${fn(r).join(' | ')} |`)].join('\n');
}

export async function profile(opts) {
  const buildNote = opts.build();
  const runDir = mkdtempSync(join(tmpdir(), 'signet-profile-'));
  whenInterrupted(() => rmSync(runDir, { recursive: true, force: true }));
  const ctx = opts.makeContext({ ...opts, quick: opts.quick }, runDir);
  const seconds = opts.quick ? 5 : 15;
  const cpuBefore = cpuCheck();
  ctx.log(`signet profile: ${pinningDescription()}; ${buildNote}; CPU check ${cpuBefore.toFixed(1)} µs per ES256 signature; temp ${runDir}`);

  ctx.log('▶ SQL statements per token request');
  const queries = await countQueries(ctx, { sequential: 1000, loadSeconds: opts.quick ? 3 : 5 });
  for (const q of queries.sequential) ctx.log(`  ${q.perRequest.toFixed(2)} × ${q.sql.slice(0, 110)}`);
  ctx.log(`  under load (${ctx.settings.load.connections} connections, ${queries.loadTokens} tokens): ${queries.underLoad.reduce((a, q) => a + q.perRequest, 0).toFixed(2)} statements per token`);

  ctx.log(`▶ CPU profile under load (${seconds} s, ${ctx.settings.load.connections} connections)`);
  const profDir = join(runDir, 'cpuprofile');
  mkdirSync(profDir, { recursive: true });
  const signet = await startSignet(ctx, { dataDir: ctx.tempDir('profile'), name: 'signet-profile', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  let load;
  let threads0;
  let threads1;
  try {
    const bench = await setupBench(signet);
    await waitForQuiet(ctx);
    threads0 = threadCpuSeconds(signet.pid);
    load = await runLoad(ctx, {
      url: signet.tokenEndpoint,
      connections: ctx.settings.load.connections,
      warmupSeconds: 2,
      durationSeconds: seconds,
      serverPid: signet.pid,
      request: { kind: 'static', headers: { authorization: basic(bench.secretClient.id, bench.secretClient.secret) }, body: TOKEN_BODY },
    });
    threads1 = threadCpuSeconds(signet.pid);
  } finally {
    await signet.stop(20_000);
  }
  const mainShare = (threads1.main - threads0.main) / (threads1.main - threads0.main + threads1.others - threads0.others);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profDir}; log: ${ctx.logTail('signet-profile')}`);
  const window = { startUs: Number(BigInt(load.window.startNs) / 1000n), endUs: Number(BigInt(load.window.endNs) / 1000n) };
  const s = summarise(join(profDir, file), { signetDist: join(ctx.signetDir, 'dist'), window });
  const resultsDir = join(opts.root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  copyFileSync(join(profDir, file), join(resultsDir, 'signet-client-credentials.cpuprofile'));

  ctx.log('▶ CPU profile of a cold start (fresh data dir → first token)');
  const coldDir = join(runDir, 'cpuprofile-cold');
  mkdirSync(coldDir, { recursive: true });
  const cold = await timeToFirstToken(ctx, ctx.tempDir('profile-cold'), 'signet-profile-cold', { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${coldDir}`, '--cpu-prof-interval=250'] });
  const coldFile = readdirSync(coldDir).find((f) => f.endsWith('.cpuprofile'));
  if (!coldFile) throw new Error('no cold-start .cpuprofile written');
  // The whole life of the process: start-up is the point. Shutdown after the first token is short.
  const c = summarise(join(coldDir, coldFile), { signetDist: join(ctx.signetDir, 'dist') });
  copyFileSync(join(coldDir, coldFile), join(resultsDir, 'signet-cold-start.cpuprofile'));

  const busyMs = s.totalMs - s.idleMs;
  const coldBusyMs = c.totalMs - c.idleMs;
  const pct = (v) => `${fmt(v * 100, 1)} %`;
  const generated = [
    START,
    '## Measurements (generated)',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC at ${opts.signetDir === join(opts.root, 'packages', 'server') ? commitOf(opts.root) : `\`${opts.signetDir}\``}, node ${process.version}, ${pinningDescription()}. Signet as shipped (SQLite, log level warn) under \`--cpu-prof\`,`,
    `client_credentials with client_secret_basic, ${ctx.settings.load.connections} connections, ${seconds} s after a 2 s warm-up: **${fmt(load.throughput, 0)} tokens/s, ${fmt(load.serverCpuUsPerRequest, 0)} µs CPU per token**`,
    `(the profiler itself costs some; CPU check: ${fmt(cpuBefore, 1)} µs per ES256 signature on the server core, ≈ 28 µs when the box is quiet), p50 ${fmt(load.latencyMs.p50, 2)} ms, p99 ${fmt(load.latencyMs.p99, 2)} ms, ${load.non2xx} non-2xx. ${s.windowed ? 'Only samples inside the measured window are counted' : 'All samples are counted (the window did not line up)'}: ${fmt(s.totalMs, 0)} ms sampled, ${fmt(busyMs, 0)} ms busy (${fmt((s.idleMs / s.totalMs) * 100, 1)} % idle). ` +
      `The profile covers the main thread, which did ${fmt(mainShare * 100, 0)} % of the process's CPU in the window (the rest: GC helper threads, libuv's pool). Per token: ${fmt((busyMs * 1000) / load.ok, 0)} µs of main-thread time.`,
    '',
    '### SQL statements per token request',
    '',
    `Counted with a preload that wraps better-sqlite3's \`prepare\` (Kysely's SQLite driver prepares every statement afresh, so prepares = statements executed): 1,000 sequential requests after 50 warm-up requests, then ${fmt(queries.loadTokens, 0)} tokens under the benchmark load (${ctx.settings.load.connections} connections), where the audit writer's group commit shares a transaction among the tokens waiting for it.`,
    '',
    sqlTable(queries),
    '',
    '### Self time by module (busy time, idle excluded)',
    '',
    'Native and node-core frames are charged to the package that called them, except cryptography, which gets its own line labelled with the caller (`node:crypto (from jose)` is jose\'s WebCrypto signing, `node:crypto (from signet (our code))` is Signet\'s own signing, HMAC and hashing). better-sqlite3\'s statement methods get no frame of their own in V8 profiles, so SQLite executing a statement appears as self time of Kysely\'s SQLite driver and is shown as "SQLite (statement execution)". Node-core work with no package on the stack (HTTP parsing, sockets, timers) stays "node core".',
    '',
    table(s.byOwner.filter((r) => r.module !== 'idle'), ['module', 'ms', 'share of busy', 'µs per token'], (r) => [r.module, fmt(r.ms, 0), pct(r.ms / busyMs), fmt((r.ms * 1000) / load.ok, 1)]),
    '',
    '### Time with each module on the stack (inclusive; rows overlap)',
    '',
    table(s.inclusive.filter((r) => !['idle', 'root'].includes(r.module)).slice(0, 15), ['module', 'ms', 'share of busy'], (r) => [r.module, fmt(r.ms, 0), pct(r.ms / busyMs)]),
    '',
    '### Top functions by self time',
    '',
    table(s.topFunctions.filter((r) => r.module !== 'idle').slice(0, 30), ['function', 'where', 'charged to', 'ms', 'share of busy', 'µs per token'], (r) => [`\`${r.function}\``, r.location, r.module, fmt(r.ms, 0), pct(r.ms / busyMs), fmt((r.ms * 1000) / load.ok, 1)]),
    '',
    '### Cold start: where the first second goes',
    '',
    `A fresh data dir, spawn → first token in ${fmt(cold.firstTokenMs, 0)} ms with the profiler on (sampling every 250 µs); ${fmt(c.totalMs, 0)} ms sampled in the process, ${fmt(coldBusyMs, 0)} ms busy. Module loading shows up as the top-level code of each package and as "V8 / runtime (program)" (parsing and compiling).`,
    '',
    table(c.byOwner.filter((r) => r.module !== 'idle').slice(0, 15), ['module', 'ms', 'share of busy'], (r) => [r.module, fmt(r.ms, 0), pct(r.ms / coldBusyMs)]),
    '',
    table(c.topFunctions.filter((r) => r.module !== 'idle').slice(0, 15), ['function', 'where', 'charged to', 'ms', 'share of busy'], (r) => [`\`${r.function}\``, r.location, r.module, fmt(r.ms, 0), pct(r.ms / coldBusyMs)]),
    '',
    'Raw profiles: `bench/results/signet-client-credentials.cpuprofile` and `bench/results/signet-cold-start.cpuprofile` (not committed; open them in Chrome DevTools → Performance, or VS Code).',
    END,
  ].join('\n');

  const target = join(opts.root, 'bench', 'PROFILE.md');
  const existing = existsSync(target) ? readFileSync(target, 'utf8') : `# Profile: Signet's client-credentials hot path\n\n${START}\n${END}\n`;
  const next = existing.includes(START) && existing.includes(END)
    ? existing.slice(0, existing.indexOf(START)) + generated + existing.slice(existing.indexOf(END) + END.length)
    : `${existing.trimEnd()}\n\n${generated}\n`;
  writeFileSync(target, next);
  ctx.log(`\n${s.byOwner.filter((r) => r.module !== 'idle').slice(0, 12).map((r) => `  ${pct(r.ms / busyMs).padStart(7)}  ${r.module}`).join('\n')}`);
  ctx.log(`\nwrote ${target}`);
  rmSync(runDir, { recursive: true, force: true });
  return 0;
}
