import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Io } from './output.js';
import { shutdownRequested } from './start.js';
import { CliError, EXIT_CONNECTION, usageError } from './errors.js';

interface RunOptions {
  server?: string;
  tenant?: string;
  stateDir: string;
  secretFile?: string;
  joinTokenFile?: string;
  name?: string;
  host: string;
  port: number;
  identityHeaderFile?: string;
  logLevel: string;
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return Number(value);
}

/** `signet node run`: the daemon in the foreground until SIGINT/SIGTERM. */
export function registerNodeRun(node: Command, io: Io): void {
  node
    .command('run')
    .description('Run the node daemon: join (first start), keep the node key rotated, serve managed-identity tokens on loopback (IMDS and App Service protocols)')
    .option('--server <url>', 'Signet base URL (default $SIGNET_NODE_SERVER)')
    .option('--tenant <tenant>', 'tenant name (default $SIGNET_NODE_TENANT)')
    .option('--state-dir <dir>', 'node state: id, encrypted key, local secret', './.signet-node')
    .option('--secret-file <file>', 'local secret that encrypts the node key (default <state-dir>/node.secret; or $SIGNET_NODE_SECRET)')
    .option('--join-token-file <file>', 'file holding the join token for the first start (or $SIGNET_NODE_JOIN_TOKEN)')
    .option('--name <name>', 'node name sent when joining')
    .option('--host <address>', 'loopback address to serve on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'port to serve on (0 = any free port)').argParser(parsePort).default(50342))
    .option('--identity-header-file <file>', 'file holding the IDENTITY_HEADER secret (default: generated at each start into <state-dir>/identity-header)')
    .option('--log-level <level>', 'pino level', 'info')
    .action(async (opts: RunOptions, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const server = opts.server ?? io.env.SIGNET_NODE_SERVER;
      const tenant = opts.tenant ?? io.env.SIGNET_NODE_TENANT;
      if (!server) throw usageError('--server (or SIGNET_NODE_SERVER) is required');
      if (!tenant) throw usageError('--tenant (or SIGNET_NODE_TENANT) is required');
      const joinToken = opts.joinTokenFile ? readFileSync(opts.joinTokenFile, 'utf8').trim() : io.env.SIGNET_NODE_JOIN_TOKEN;
      // Loaded on demand: the admin commands never load the daemon.
      const { startNodeAgent } = await import('../node-agent/agent.js');
      const { createLogger } = await import('../logger.js');
      const { SignetRefusal, SignetUnreachable } = await import('../node-agent/signet-client.js');
      const agent = await startNodeAgent({
        server,
        tenant,
        stateDir: resolve(io.cwd, opts.stateDir),
        secretFile: opts.secretFile && resolve(io.cwd, opts.secretFile),
        secretFromEnv: io.env.SIGNET_NODE_SECRET,
        joinToken,
        name: opts.name,
        host: opts.host,
        port: opts.port,
        identityHeaderFile: opts.identityHeaderFile && resolve(io.cwd, opts.identityHeaderFile),
        tickMs: io.env.SIGNET_NODE_TICK_MS ? Number(io.env.SIGNET_NODE_TICK_MS) : undefined,
        log: createLogger(opts.logLevel),
      }).catch((error: unknown) => {
        if (error instanceof SignetUnreachable) throw new CliError('connection_failed', error.message, EXIT_CONNECTION);
        if (error instanceof SignetRefusal) throw new CliError(error.error, `Signet refused: ${error.description}`);
        throw new CliError('node_failed', error instanceof Error ? error.message : String(error));
      });
      const ready = { nodeId: agent.nodeId, url: agent.url, identityEndpoint: agent.identityEndpoint, identityHeaderFile: agent.identityHeaderFile };
      io.stdout(
        json
          ? `${JSON.stringify(ready)}\n`
          : `signet node ${agent.nodeId} serving on ${agent.url}\n  IMDS:        AZURE_POD_IDENTITY_AUTHORITY_HOST=${agent.url}\n  App Service: IDENTITY_ENDPOINT=${agent.identityEndpoint} IDENTITY_HEADER=$(cat ${agent.identityHeaderFile})\n`,
      );
      const signal = await shutdownRequested(io);
      io.stderr(`signet node: ${signal} received, shutting down\n`);
      await agent.close();
    });
}
