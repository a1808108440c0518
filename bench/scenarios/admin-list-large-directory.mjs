// Scenario 5: the admin API walks every principal of a large directory, 500 per page.
import { largeDirectory } from '../lib/directory.mjs';
import { median } from '../lib/stats.mjs';
import { adminSession, startSignet } from '../lib/signet.mjs';

export async function adminListLargeDirectory(ctx) {
  const dir = await largeDirectory(ctx);
  const signet = await startSignet(ctx, { dataDir: dir.dataDir, name: 'signet-admin-list' });
  try {
    const admin = await adminSession(signet);
    const pageTimes = [];
    let items = 0;
    let cursor;
    const cpu0 = signet.cpuSeconds();
    const started = process.hrtime.bigint();
    do {
      const t0 = process.hrtime.bigint();
      const page = await admin.get(`/tenants/default/principals?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pageTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      items += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = signet.cpuSeconds() - cpu0;
    const sorted = [...pageTimes].sort((a, b) => a - b);
    const result = {
      principals: dir.totalPrincipals,
      items,
      pages: pageTimes.length,
      seconds,
      pagesPerSecond: pageTimes.length / seconds,
      itemsPerSecond: items / seconds,
      pageMs: { p50: median(pageTimes), p99: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)], max: sorted[sorted.length - 1] },
      serverCpuSeconds: cpu,
      memory: signet.memory(),
    };
    if (items < dir.totalPrincipals) throw new Error(`listed ${items} principals, expected ${dir.totalPrincipals}`);
    ctx.log(`  listed ${items.toLocaleString('en')} principals in ${result.pages} pages: ${seconds.toFixed(1)} s, ${result.pagesPerSecond.toFixed(1)} pages/s, page p50 ${result.pageMs.p50.toFixed(1)} ms`);
    return result;
  } finally {
    await signet.stop();
  }
}
