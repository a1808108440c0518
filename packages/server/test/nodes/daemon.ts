import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../../src/cli/index.ts', import.meta.url).pathname;

export interface RunningDaemon {
  child: ChildProcess;
  nodeId: string;
  url: string;
  identityEndpoint: string;
  identityHeader: string;
  stateDir: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `signet --json node run` as a real process and waits for its ready line. */
export async function startDaemon(server: string, tenant: string, joinToken: string, env: Record<string, string> = {}): Promise<RunningDaemon> {
  const stateDir = mkdtempSync(join(tmpdir(), 'signet-node-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--json', 'node', 'run', '--server', server, '--tenant', tenant, '--state-dir', stateDir, '--port', '0', '--log-level', process.env.SIGNET_NODE_LOG_LEVEL ?? 'warn'], {
    env: { ...process.env, SIGNET_NODE_JOIN_TOKEN: joinToken, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = await new Promise<{ nodeId: string; url: string; identityEndpoint: string; identityHeaderFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signet node did not start: ${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`signet node exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    ...ready,
    identityHeader: readFileSync(ready.identityHeaderFile, 'utf8').trim(),
    stateDir,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface LoopbackResponse {
  status: number;
  body: Record<string, unknown>;
}

export async function loopbackGet(url: string, headers: Record<string, string> = {}): Promise<LoopbackResponse> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
