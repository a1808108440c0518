// Runs one load job in a separate, pinned load-generator process and returns its measurements.
import { fileURLToPath } from 'node:url';
import { spawnNode } from './procs.mjs';

const WORKER = fileURLToPath(new URL('./load-worker.mjs', import.meta.url));

/**
 * `job`: { url, connections, warmupSeconds, durationSeconds, serverPid, request, overallRate? }
 * (overallRate: requests per second across all connections; unset = as fast as the server answers).
 * Adds per-request server CPU (µs) to the worker's result.
 */
export async function runLoad(ctx, job) {
  const child = spawnNode([WORKER], { role: 'load', ipc: true, logFile: ctx.logFile('load') });
  const timeoutMs = (job.warmupSeconds + job.durationSeconds + 60) * 1000;
  const message = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`load generator exited (${code ?? signal}) without a result; log: ${ctx.logFile('load')}\n${ctx.logTail('load')}`));
    });
    child.send(job);
  });
  await child.exitPromise;
  if (!message.ok) throw new Error(`load generator failed: ${message.error}`);
  const r = message.result;
  r.serverCpuUsPerRequest = r.ok > 0 ? (r.serverCpuS * 1e6) / r.ok : NaN;
  r.serverCpuUtilisation = r.serverCpuS / r.wallS;
  r.loadCpuUtilisation = r.loadCpuS / r.wallS;
  r.otherCpuUtilisation = Math.max(0, r.otherCpuS / r.wallS);
  return r;
}
