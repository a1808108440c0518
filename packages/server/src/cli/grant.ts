import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { asObject } from './json.js';
import { addPaging, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

export const GRANT_COLUMNS = [column('id'), column('principal'), column('resourceIdentifier', 'resource'), column('role'), column('createdAt', 'created')];

export function registerGrant(program: Command, contextOf: ContextOf): void {
  const grant = program.command('grant').description('Give principals application roles on resources');

  grant
    .command('add <principal> <resource> <role>')
    .description('Grant a role on a resource (by id or identifier) to a principal')
    .addOption(tenantOption())
    .action(async (principal: string, resource: string, role: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { principal, resource, role };
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/grants`, { body }), 'the grant'));
    });

  addPaging(
    grant
      .command('list')
      .description('List grants')
      .option('--principal <id>', 'only grants to this principal')
      .option('--resource <resource>', 'only grants on this resource (id or identifier)')
      .addOption(tenantOption()),
  ).action(async (opts: PagingOptions & { principal?: string; resource?: string; tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    const query = { principal: opts.principal, resource: opts.resource, limit: opts.limit, cursor: opts.cursor };
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/grants`, query, opts.all), GRANT_COLUMNS);
  });

  grant
    .command('remove <id>')
    .description('Revoke a grant')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/grants/${segment(id)}`);
      ctx.out.done(`removed grant ${id}`, { id, deleted: true });
    });
}
