import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { asObject, asPage, type JsonObject } from './json.js';
import { tenantOption } from './options.js';
import { column } from './output.js';

export const RECEIVER_COLUMNS = [column('id'), column('endpointUrl', 'endpoint'), column('audience'), column('hasAuthorization', 'auth'), column('pending')];

export function registerSsf(program: Command, contextOf: ContextOf): void {
  const receiver = program.command('ssf').description('Shared Signals: push a CAEP security event to receivers for every stop').command('receiver').description('Manage Shared Signals receivers');
  const path = async (ctx: ReturnType<ContextOf>, tenant: string | undefined) => `${await ctx.tenantPath(tenant)}/ssf/receivers`;

  receiver
    .command('add <endpointUrl>')
    .description('Register a receiver (RFC 8935 push endpoint, https)')
    .option('--audience <aud>', 'aud of the SETs (default: the endpoint URL)')
    .option('--authorization <header>', 'Authorization header value sent with each push')
    .option('--description <text>', 'who receives')
    .addOption(tenantOption())
    .action(async (endpointUrl: string, opts: { audience?: string; authorization?: string; description?: string; tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = { endpointUrl };
      if (opts.audience !== undefined) body.audience = opts.audience;
      if (opts.authorization !== undefined) body.authorization = opts.authorization;
      if (opts.description !== undefined) body.description = opts.description;
      ctx.out.record(asObject(await ctx.call('POST', await path(ctx, opts.tenant), { body }), 'the receiver'));
    });

  receiver
    .command('list')
    .description('List receivers with their undelivered signals')
    .addOption(tenantOption())
    .action(async (opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.list(asPage(await ctx.call('GET', await path(ctx, opts.tenant))), RECEIVER_COLUMNS);
    });

  receiver
    .command('remove <id>')
    .description('Remove a receiver and its undelivered signals')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await path(ctx, opts.tenant)}/${segment(id)}`);
      ctx.out.done(`removed receiver ${id}`, { id, deleted: true });
    });
}
