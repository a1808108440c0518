// `npm run bench -- --compare <dir>,<dir>,…`: the client-credentials load (client_secret_basic,
// 50 connections) against several builds of packages/server, alternating between them, to measure
// a change before it lands (e.g. a checkout of another commit, or a patched copy).
// Each <dir> is a built packages/server (dist/ present); an optional label: <label>=<dir>.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { basic } from './lib/http.mjs';
import { alternate, fmt } from './lib/matrix.mjs';
import { pinningDescription, whenInterrupted } from './lib/procs.mjs';
import { setupBench, startSignet, TOKEN_BODY } from './lib/signet.mjs';

export async function compare(opts) {
  const builds = opts.compare.map((spec) => {
    const [label, dir] = spec.includes('=') ? spec.split('=') : [basename(resolve(spec, '..', '..')) || spec, spec];
    return { label, dir: resolve(dir) };
  });
  const runDir = mkdtempSync(join(tmpdir(), 'signet-compare-'));
  whenInterrupted(() => rmSync(runDir, { recursive: true, force: true }));
  const base = opts.makeContext(opts, runDir);
  base.log(`signet compare: ${builds.map((b) => `${b.label} (${b.dir})`).join(', ')}; ${pinningDescription()}`);
  const servers = [];
  const clients = new Map();
  try {
    for (const b of builds) {
      const ctx = { ...base, signetDir: b.dir };
      const server = await startSignet(ctx, { dataDir: ctx.tempDir(b.label), name: b.label });
      clients.set(b.label, (await setupBench(server)).secretClient);
      servers.push(server);
    }
    const results = await alternate(base, servers, (server) => {
      const c = clients.get(server.name);
      return { kind: 'static', headers: { authorization: basic(c.id, c.secret) }, body: TOKEN_BODY };
    });
    const first = results[builds[0].label];
    const lines = [
      `# Signet build comparison — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `client_credentials (client_secret_basic), ${base.settings.load.connections} connections, ${base.settings.load.rounds} alternating rounds of ${base.settings.load.warmupSeconds} s + ${base.settings.load.durationSeconds} s; ${pinningDescription()}.`,
      '',
      '| build | dir | req/s (median) | vs first | p50 ms | p99 ms | CPU µs/token | other CPU on the box | peak RSS MB | non-2xx |',
      '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...builds.map(({ label, dir }) => {
        const r = results[label];
        return `| ${label} | \`${dir}\` | ${fmt(r.throughput, 0)} | ${fmt((r.throughput / first.throughput) * 100, 0)} % | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.cpuUsPerRequest, 0)} | ${fmt(r.otherCpuUtilisation * 100, 0)} % | ${fmt(r.memory.peakRssMB, 0)} | ${r.non2xx + r.errors} |`;
      }),
      '',
    ];
    const dir = join(opts.root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `compare-${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '')}.md`);
    writeFileSync(file, lines.join('\n'));
    base.log(`\n${lines.slice(4).join('\n')}\nwrote ${file}`);
    return Object.values(results).some((r) => r.non2xx + r.errors > 0) ? 1 : 0;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(runDir, { recursive: true, force: true });
  }
}
