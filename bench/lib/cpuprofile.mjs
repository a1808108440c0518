// Summarises a V8 .cpuprofile (node --cpu-prof): where the time goes, grouped by module.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Frames from a bundle (Signet ships dist/bundle/signet.mjs, built by esbuild with a source map)
 * are mapped back to the file they came from, so packages and Signet's own files are told apart.
 */
const maps = new Map();
function sourceMapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let map = null;
  try {
    const path = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (path.startsWith('/') && existsSync(`${path}.map`)) {
      const payload = JSON.parse(readFileSync(`${path}.map`, 'utf8'));
      map = { map: new SourceMap(payload), dir: dirname(path) };
    }
  } catch {
    map = null;
  }
  maps.set(url, map);
  return map;
}

/** The original location of a frame: { url, lineNumber } (unchanged when there is no source map). */
export function originalFrame(frame) {
  if (!frame.url || frame.url.startsWith('node:')) return frame;
  const sm = sourceMapFor(frame.url);
  if (!sm) return frame;
  const entry = sm.map.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !entry.originalSource) return frame;
  const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : resolve(sm.dir, entry.originalSource);
  return { ...frame, url: source, lineNumber: entry.originalLine, bundled: true };
}

const SPECIAL = { '(garbage collector)': 'GC', '(idle)': 'idle', '(program)': 'V8 / runtime (program)', '(root)': 'root' };

/** Which module a frame belongs to: a package, node core, Signet's own code, or a V8 bucket. */
export function moduleOf(frame, signetDist) {
  const { url, functionName } = frame;
  if (!url) return SPECIAL[functionName] ?? null; // null: a native function, owned by its caller
  if (url.startsWith('node:')) return 'node core';
  const path = url.replace(/^file:\/\//, '');
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (m) return m[1];
  if (signetDist && path.startsWith(dirname(signetDist))) return 'signet (our code)';
  if (path.includes('/bench/')) return 'bench harness (preload)';
  return 'other';
}

/** Node-core work that no package asked for, by area. */
function nodeCoreArea(url) {
  if (/modules|vm|bootstrap/.test(url)) return 'node core (module loading)';
  if (/crypto/.test(url)) return 'node core (crypto)';
  if (/(^node:fs$)|internal\/fs\//.test(url)) return 'node core (fs: at start, mostly reading modules)';
  if (/http|net|stream|dns|tls|timers|task_queues|async_hooks|events/.test(url)) return 'node core (http, net, streams, event loop)';
  return 'node core (other)';
}

function location(frame, signetDist) {
  const path = frame.url.replace(/^file:\/\//, '');
  const m = /\/node_modules\/(.*)$/.exec(path);
  if (m) return `${m[1]}:${frame.lineNumber + 1}`;
  if (signetDist && path.startsWith(`${dirname(signetDist)}/src/`)) return `${path.slice(dirname(signetDist).length + 1)}:${frame.lineNumber + 1}`;
  if (signetDist && path.startsWith(signetDist)) return `src/${path.slice(signetDist.length + 1).replace(/\.js$/, '.ts')} (compiled line ${frame.lineNumber + 1})`;
  return frame.url ? `${frame.url}:${frame.lineNumber + 1}` : '(native)';
}

/**
 * `window` = { startUs, endUs } on the same monotonic clock as the profile (process.hrtime);
 * samples outside it (start-up, setup, shutdown) are ignored.
 */
export function summarise(file, { signetDist, window } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  for (const n of profile.nodes) n.callFrame = originalFrame(n.callFrame);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Per-node: own module; "owner" = own module, or for native and node-core frames the nearest
  // caller that is a package or Signet (who asked for the work).
  const own = new Map();
  const owner = new Map();
  const ownerOf = (id) => {
    if (owner.has(id)) return owner.get(id);
    const n = nodes.get(id);
    const m = moduleOf(n.callFrame, signetDist);
    own.set(id, m ?? 'native');
    let result;
    if (m === 'kysely' && /sqlite-driver/.test(n.callFrame.url) && n.callFrame.functionName === 'executeQuery') {
      // better-sqlite3's statement methods are V8 API callbacks: the profiler gives them no frame
      // of their own, so SQLite executing a statement shows up as self time of Kysely's driver.
      result = 'SQLite (statement execution)';
    } else if (m !== null && m !== 'node core') result = m;
    else {
      const p = parent.get(id);
      const up = p === undefined ? null : ownerOf(p);
      const upIsCore = typeof up === 'string' && up.startsWith('node core');
      const upIsPackage = up && up !== 'root' && !upIsCore && !Object.values(SPECIAL).includes(up) && up !== 'native';
      if (m === 'node core' && /crypto/.test(n.callFrame.url) && !(up ?? '').startsWith('node:crypto')) {
        // Cryptography is its own line (signing, HMAC, hashing, random ids), labelled with who asked.
        result = `node:crypto (from ${upIsPackage ? up : 'node core'})`;
      } else if (upIsPackage) result = up;
      else if (m === null) result = upIsCore ? up : 'native';
      else {
        // Node-core work no package asked for: by area; module loading claims everything under it.
        const area = nodeCoreArea(n.callFrame.url);
        result = up === 'node core (module loading)' || (upIsCore && area === 'node core (other)') ? up : area;
      }
      // A SQLite statement runs in better-sqlite3's native code, called from Kysely's driver.
      if (m === null && up === 'kysely' && /^(all|get|run|iterate|prepare|exec|pragma|raw)$/.test(n.callFrame.functionName)) result = 'better-sqlite3';
    }
    owner.set(id, result);
    return result;
  };

  let t = profile.startTime;
  const useWindow = window && window.endUs > profile.startTime && window.startUs < profile.endTime;
  const selfUs = new Map();
  const stackModulesUs = new Map();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (useWindow && (t < window.startUs || t > window.endUs)) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
    // Inclusive: every module that appears on this sample's stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) seen.add(ownerOf(cur));
    for (const m of seen) stackModulesUs.set(m, (stackModulesUs.get(m) ?? 0) + dt);
  }

  const byOwner = new Map();
  const byOwn = new Map();
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const n = nodes.get(id);
    const o = ownerOf(id);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    byOwn.set(own.get(id), (byOwn.get(own.get(id)) ?? 0) + us);
    const key = `${n.callFrame.functionName || '(anonymous)'}\u0000${location(n.callFrame, signetDist)}\u0000${o}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return {
    windowed: Boolean(useWindow),
    totalMs: totalUs / 1000,
    idleMs: (byOwn.get('idle') ?? 0) / 1000,
    byOwner: sorted(byOwner).map(([module, us]) => ({ module, ms: us / 1000, share: us / totalUs })),
    byOwnModule: sorted(byOwn).map(([module, us]) => ({ module, ms: us / 1000, share: us / totalUs })),
    inclusive: sorted(stackModulesUs).map(([module, us]) => ({ module, ms: us / 1000, share: us / totalUs })),
    topFunctions: sorted(byFunction)
      .slice(0, 40)
      .map(([key, us]) => {
        const [fn, loc, module] = key.split('\u0000');
        return { function: fn, location: loc, module, ms: us / 1000, share: us / totalUs };
      }),
  };
}
