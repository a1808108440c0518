import type { Command } from 'commander';
import type { ContextOf } from './context.js';
import { asObject, asPage } from './json.js';
import { tenantOption } from './options.js';
import { column } from './output.js';

export const KEY_COLUMNS = [
  column('kid'),
  column('alg'),
  column('status'),
  column('createdAt', 'created'),
  column('activatedAt', 'activated'),
  column('retiredAt', 'retired'),
  column('expiresAt', 'expires'),
];

export function registerKeys(program: Command, contextOf: ContextOf): void {
  const keys = program.command('keys').description("Inspect and rotate a tenant's token-signing keys");

  keys
    .command('list')
    .description('List signing keys (next, active, retired)')
    .addOption(tenantOption())
    .action(async (opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.list(asPage(await ctx.call('GET', `${await ctx.tenantPath(opts.tenant)}/keys`)), KEY_COLUMNS);
    });

  keys
    .command('rotate')
    .description('Activate the next signing key now and retire the active one')
    .addOption(tenantOption())
    .action(async (opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/keys/rotate`), 'the rotation result'));
    });
}
