// Child processes of the harness: spawning (pinned to a core with taskset where available),
// tracking, stopping, and reading their CPU time and memory from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const GUARD = pathToFileURL(fileURLToPath(new URL('./guard.mjs', import.meta.url))).href;

const children = new Set();

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const TASKSET = which('taskset');
/** Online CPUs this process may use. */
const CPUS = (() => {
  const r = spawnSync('nproc', [], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : 1;
})();

/**
 * Keeps the harness itself (setup, polling, bookkeeping) off the server's core: all its threads go
 * to the load generator's core.
 */
export function pinSelf() {
  if (!PINNING) return false;
  return spawnSync(TASKSET, ['-a', '-p', '-c', PINNING.load, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Whether servers and load generators are pinned to separate cores. */
export const PINNING = TASKSET && CPUS >= 2 ? { server: '0', load: '1' } : null;
export function pinningDescription() {
  if (PINNING) return `server on core ${PINNING.server}, load generator and harness on core ${PINNING.load} (taskset)`;
  return TASKSET ? `not pinned (only ${CPUS} CPU)` : 'not pinned (taskset not found; install util-linux)';
}

export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = r.status === 0 ? Number(r.stdout.trim()) : NaN;
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/**
 * Spawns `node args…` pinned to `role`'s core. taskset execs node, so the child's pid is node's pid
 * (which is what /proc readings need). stdout/stderr go to `logFile`. `nodeOptions` go through
 * NODE_OPTIONS; `nodeArgs` are node flags not allowed there (e.g. --cpu-prof on Node 20).
 */
export function spawnNode(args, { role, env = {}, logFile, ipc = false, cwd, nodeOptions = [], nodeArgs = [] } = {}) {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const stdio = ['ignore', out, out];
  if (ipc) stdio.push('ipc');
  const cpu = PINNING?.[role];
  const command = cpu !== undefined ? TASKSET : process.execPath;
  const argv = cpu !== undefined ? ['-c', cpu, process.execPath, ...nodeArgs, ...args] : [...nodeArgs, ...args];
  const childEnv = { ...cleanEnv(), ...env, NODE_OPTIONS: [`--import=${GUARD}`, ...nodeOptions].join(' ') };
  const child = spawn(command, argv, { stdio, env: childEnv, cwd, detached: false });
  if (typeof out === 'number') closeSync(out);
  children.add(child);
  child.exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  child.on('error', () => children.delete(child));
  return child;
}

/** The harness's environment without anything that would change how a server behaves. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('SIGNET_') || k === 'NODE_OPTIONS' || k.startsWith('npm_')) continue;
    env[k] = v;
  }
  return env;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child has exited. */
export async function stop(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitPromise;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await child.exitPromise;
  clearTimeout(timer);
  return result;
}

/** Kills every child still running (synchronous: safe in an 'exit' handler). */
export function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}

let installed = false;
const onInterrupt = [];
/** Runs `fn` (synchronously) if the harness is interrupted by a signal, after the servers are killed. */
export function whenInterrupted(fn) {
  onInterrupt.push(fn);
}

/** Makes sure no server or load generator outlives the harness, however it ends. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping all servers\n`);
      killAll();
      for (const fn of onInterrupt) {
        try {
          fn();
        } catch {
          /* best effort */
        }
      }
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: ${error?.stack ?? error}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bench: ${error?.stack ?? error}\n`);
    killAll();
    process.exit(1);
  });
}

/** user+system CPU time of a whole process (all threads), in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** CPU seconds per thread of a process: { main, others } (the main thread's tid is the pid). */
export function threadCpuSeconds(pid) {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
      if (tid === String(pid)) main += cpu;
      else others += cpu;
    } catch {
      /* thread ended */
    }
  }
  return { main, others };
}

/** Memory of a process from /proc/<pid>/status, in MB (10^6 bytes): current (VmRSS) and peak (VmHWM) resident set. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: (kb('VmRSS') * 1024) / 1e6, peakRssMB: (kb('VmHWM') * 1024) / 1e6 };
}

export function procAvailable() {
  return existsSync(`/proc/${process.pid}/stat`);
}

/**
 * Busy time of every CPU of the machine (and of the whole machine) from /proc/stat, in seconds:
 * used to see how much CPU something other than the benchmark took during a measured window.
 */
export function machineBusySeconds() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [name, ...v] = line.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = v.map(Number);
    out[name === 'cpu' ? 'all' : name] = (user + nice + system + irq + softirq + steal) / CLK_TCK;
  }
  return out;
}

/** CPU speed check on the server core: median µs per ES256 signature (see calibrate-worker.mjs). */
export function cpuCheck() {
  const worker = fileURLToPath(new URL('./calibrate-worker.mjs', import.meta.url));
  const r = PINNING ? spawnSync(TASKSET, ['-c', PINNING.server, process.execPath, worker], { encoding: 'utf8' }) : spawnSync(process.execPath, [worker], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout).es256SignUs;
  } catch {
    return NaN;
  }
}
