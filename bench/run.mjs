#!/usr/bin/env node
// Signet's benchmark harness (issue 7). `npm run bench` (full, ≈ 5–6 min) or `npm run bench -- --quick`
// (≈ 1 min). Loopback only. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuCheck, installCleanup, killAll, pinningDescription, pinSelf, procAvailable, whenInterrupted } from './lib/procs.mjs';
import { writeReport } from './lib/report.mjs';
import { PLANNED, SCENARIOS } from './scenarios/index.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const SETTINGS = {
  full: {
    load: { rounds: 3, warmupSeconds: 3, durationSeconds: 10, connections: 50, rateSeconds: 5 },
    quietWaitSeconds: 90,
    coldStart: { runs: 3 },
    directory: { principals: 100_000, burstClients: 200, burstSeconds: 10 },
  },
  quick: {
    load: { rounds: 1, warmupSeconds: 1, durationSeconds: 3, connections: 50, rateSeconds: 2 },
    quietWaitSeconds: 10,
    coldStart: { runs: 3 },
    directory: { principals: 100_000, burstClients: 20, burstSeconds: 3 },
  },
};

function parseArgs(argv) {
  const opts = { quick: false, build: true, only: null, signetDir: join(ROOT, 'packages', 'server'), keepTemp: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--keep-temp') opts.keepTemp = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--no-quiet-wait') opts.noQuietWait = true;
    else if (a.startsWith('--only')) opts.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a.startsWith('--signet-dir')) opts.signetDir = resolve(value());
    else if (a.startsWith('--compare')) opts.compare = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown option ${a} (try --help)`);
  }
  return opts;
}

const HELP = `usage: npm run bench [-- options]
  --quick               one short round of everything (≈ 1 min)
  --only a,b            run only these scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}
  --profile             profile Signet's client-credentials hot path instead (writes bench/PROFILE.md)
  --compare a,b,…       client-credentials load against several built packages/server dirs ([label=]dir),
                        alternating, to measure a change before it lands (no build step)
  --no-build            do not run \`npm run build\` first
  --signet-dir <dir>    benchmark another build of packages/server (e.g. a checkout of another commit)
  --keep-temp           keep the temporary data dirs and server logs
  --no-quiet-wait       do not wait for other processes on the machine to go quiet before a load run`;

function build(opts) {
  if (!opts.build) return 'skipped (--no-build)';
  const defaultDir = join(ROOT, 'packages', 'server');
  const started = Date.now();
  const result =
    opts.signetDir === defaultDir
      ? spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
      : spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(opts.signetDir, 'tsconfig.build.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('the build failed: fix it (or pass --no-build to benchmark the existing dist/)');
  return `built in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

function git(args) {
  const r = spawnSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function environment(opts, buildNote) {
  const dirty = git(['status', '--porcelain', '--', 'packages/server']);
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: +(totalmem() / 1e9).toFixed(1),
    kernel: release(),
    pinning: pinningDescription(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    serverTreeDirty: dirty === null ? null : dirty.length > 0,
    signetDir: opts.signetDir,
    build: buildNote,
    peer: `oidc-provider ${packageVersion('oidc-provider')}`,
    autocannon: packageVersion('autocannon'),
  };
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function makeContext(opts, runDir) {
  const logsDir = join(runDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const fixtures = new Map();
  const ctx = {
    rootDir: ROOT,
    signetDir: opts.signetDir,
    quick: opts.quick,
    settings: SETTINGS[opts.quick ? 'quick' : 'full'],
    runDir,
    tempDir: (name) => join(runDir, 'data', name),
    logFile: (name) => join(logsDir, `${name}.log`),
    logTail: (name, lines = 20) => {
      try {
        return readFileSync(ctx.logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
    // Budget for waiting until other processes on the machine are quiet (see lib/matrix.mjs).
    quiet: { budgetMs: (opts.noQuietWait ? 0 : SETTINGS[opts.quick ? 'quick' : 'full'].quietWaitSeconds) * 1000, waitedMs: 0 },
    fixture: (name, make) => {
      if (!fixtures.has(name)) fixtures.set(name, make());
      return fixtures.get(name);
    },
    log: (message) => process.stdout.write(`${message}\n`),
  };
  return ctx;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  installCleanup();
  pinSelf();
  if (!procAvailable()) throw new Error('this harness reads server CPU and memory from /proc (Linux only)');
  if (opts.compare) {
    const { compare } = await import('./compare.mjs');
    return compare({ ...opts, root: ROOT, makeContext });
  }
  if (opts.profile) {
    const { profile } = await import('./profile.mjs');
    return profile({ ...opts, root: ROOT, build: () => build(opts), makeContext });
  }
  const selected = opts.only ? SCENARIOS.filter((s) => opts.only.includes(s.name)) : SCENARIOS;
  if (opts.only && selected.length !== opts.only.length) throw new Error(`unknown scenario in --only; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (!existsSync(join(opts.signetDir, 'bin', 'signet.js'))) throw new Error(`no Signet at ${opts.signetDir}`);

  const started = Date.now();
  const buildNote = build(opts);
  const runDir = mkdtempSync(join(tmpdir(), 'signet-bench-'));
  if (!opts.keepTemp) whenInterrupted(() => rmSync(runDir, { recursive: true, force: true }));
  const ctx = makeContext(opts, runDir);
  const env = environment(opts, buildNote);
  const cpuBefore = cpuCheck();
  ctx.log(`signet bench (${opts.quick ? 'quick' : 'full'}): node ${env.node}, ${env.cores} × ${env.cpu}; ${env.pinning}; CPU check ${cpuBefore.toFixed(1)} µs per ES256 signature; temp ${runDir}`);

  const results = {};
  const failures = [];
  for (const scenario of selected) {
    ctx.log(`\n▶ ${scenario.title} (${scenario.name})`);
    const t0 = Date.now();
    try {
      results[scenario.name] = { ok: true, seconds: 0, data: await scenario.run(ctx) };
    } catch (error) {
      failures.push(scenario.name);
      results[scenario.name] = { ok: false, seconds: 0, error: String(error?.stack ?? error) };
      ctx.log(`  ✗ ${scenario.name} failed: ${error?.message ?? error}`);
    }
    results[scenario.name].seconds = (Date.now() - t0) / 1000;
  }
  killAll();
  const cpuAfter = cpuCheck();

  const run = {
    mode: opts.quick ? 'quick' : 'full',
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    settings: ctx.settings,
    environment: { ...env, quietWaitSeconds: ctx.quiet.waitedMs / 1000, cpuCheckUs: { before: cpuBefore, after: cpuAfter } },
    scenarios: results,
    planned: PLANNED,
    // A run of some scenarios only does not replace latest.md / latest.json.
    partial: Boolean(opts.only),
  };
  const { files, summary, errorFree } = writeReport(ROOT, run);
  ctx.log(`\n${summary}`);
  ctx.log(`\nwrote ${files.join(', ')} (${run.seconds.toFixed(0)} s in total)`);

  if (failures.length || !errorFree) {
    ctx.log(`kept the temp dir with server logs: ${runDir}`);
    return 1;
  }
  if (!opts.keepTemp) rmSync(runDir, { recursive: true, force: true });
  else ctx.log(`kept ${runDir}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bench: ${error?.message ?? error}\n`);
    killAll();
    process.exitCode = 1;
  },
);
