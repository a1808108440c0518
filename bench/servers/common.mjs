// Shared by the comparison servers: configuration from the harness, readiness over IPC.
export function serverConfig() {
  const raw = process.env.BENCH_SERVER_CONFIG;
  if (!raw) throw new Error('BENCH_SERVER_CONFIG is not set (this file is started by bench/run.mjs)');
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
}

export function ready(port) {
  if (process.send) process.send({ ready: true, port });
  // The harness owns this process: when it goes, so do we.
  process.on('disconnect', () => process.exit(0));
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
}
