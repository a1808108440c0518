import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerBlueprint } from './blueprint.js';
import { registerSsf } from './ssf.js';
import { contextFactory } from './context.js';
import { registerCredential } from './credential.js';
import { registerGrant } from './grant.js';
import { registerKeys } from './keys.js';
import { registerOAuthClient } from './oauth-client.js';
import { registerNode } from './node.js';
import type { Io } from './output.js';
import { registerPrincipal } from './principal.js';
import { registerResource } from './resource.js';
import { registerStart } from './start.js';
import { registerTenant } from './tenant.js';
import { registerUser } from './user.js';
import { registerToken } from './token.js';

/** The package version (package.json sits two levels above both src/cli and dist/cli). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `signet` command tree, writing to `io`; commander usage errors become `error: usage: …`. */
export function buildProgram(io: Io): Command {
  const program = new Command('signet')
    .description('Signet: one identity plane for people, workloads and AI agents')
    .version(packageVersion())
    .option('--json', 'print JSON instead of tables')
    .option('--credentials <file>', 'admin credentials file (default: $SIGNET_CREDENTIALS, $SIGNET_DATA_DIR/admin-credentials.json, ./.signet/admin-credentials.json)')
    .option('--url <adminApi>', "admin API base URL (default: the credentials file's admin_api)")
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'error: usage: ')),
    });
  const contextOf = contextFactory(io);
  registerStart(program, io);
  registerTenant(program, contextOf);
  registerPrincipal(program, contextOf);
  registerUser(program, contextOf);
  registerCredential(program, contextOf);
  registerResource(program, contextOf);
  registerGrant(program, contextOf);
  registerBlueprint(program, contextOf);
  registerSsf(program, contextOf);
  registerKeys(program, contextOf);
  registerToken(program, contextOf);
  registerAudit(program, contextOf, io);
  registerOAuthClient(program, contextOf);
  registerNode(program, contextOf, io);
  return program;
}
