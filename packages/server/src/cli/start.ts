import type { Command } from 'commander';
import type { Io } from './output.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Resolves on the first SIGINT or SIGTERM; a second one while shutting down exits at once. */
export function shutdownRequested(io: Io): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      for (const name of SIGNALS) process.off(name, onSignal);
      for (const name of SIGNALS) {
        process.once(name, () => {
          io.stderr('signet: forced exit\n');
          process.exit(1);
        });
      }
      resolve(signal);
    };
    for (const name of SIGNALS) process.on(name, onSignal);
  });
}

export function registerStart(program: Command, io: Io): void {
  program
    .command('start')
    .description('Run the server in the foreground (configured by SIGNET_* environment variables)')
    .action(async () => {
      // Loaded on demand: the other commands never load the server.
      const { start } = await import('../main.js');
      const server = await start(io.env);
      io.stdout(`signet listening on ${server.url} (Ctrl+C to stop)\n`);
      const signal = await shutdownRequested(io);
      io.stderr(`signet: ${signal} received, shutting down\n`);
      await server.close();
    });
}
