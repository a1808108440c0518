import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, type JsonObject } from './json.js';
import { addPaging, parseJsonObject, type PagingOptions } from './options.js';
import { column } from './output.js';

export const TENANT_COLUMNS = [column('id'), column('name'), column('displayName', 'display name'), column('status'), column('issuer'), column('createdAt', 'created')];

interface TenantFields {
  displayName?: string;
  settings?: JsonObject;
}

function tenantBody(opts: TenantFields): JsonObject {
  const body: JsonObject = {};
  if (opts.displayName !== undefined) body.displayName = opts.displayName;
  if (opts.settings !== undefined) body.settings = opts.settings;
  return body;
}

export function registerTenant(program: Command, contextOf: ContextOf): void {
  const tenant = program.command('tenant').description('Manage tenants (each one an issuer)');

  tenant
    .command('create <name>')
    .description('Create a tenant')
    .option('--display-name <text>', 'human-readable name')
    .option('--settings <json>', 'tenant settings as a JSON object', parseJsonObject)
    .action(async (name: string, opts: TenantFields, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { name, ...tenantBody(opts) };
      ctx.out.record(asObject(await ctx.call('POST', '/tenants', { body }), 'the tenant'));
    });

  addPaging(tenant.command('list').description('List tenants')).action(async (opts: PagingOptions, cmd: Command) => {
    const ctx = contextOf(cmd);
    ctx.out.list(await ctx.list('/tenants', { limit: opts.limit, cursor: opts.cursor }, opts.all), TENANT_COLUMNS);
  });

  tenant
    .command('get <tenant>')
    .description('Show a tenant')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', `/tenants/${segment(id)}`), 'the tenant'));
    });

  tenant
    .command('update <tenant>')
    .description('Change a tenant')
    .option('--display-name <text>', 'human-readable name')
    .option('--settings <json>', 'tenant settings as a JSON object', parseJsonObject)
    .action(async (id: string, opts: TenantFields, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = tenantBody(opts);
      if (Object.keys(body).length === 0) throw usageError('nothing to update: give --display-name or --settings');
      ctx.out.record(asObject(await ctx.call('PATCH', `/tenants/${segment(id)}`, { body }), 'the tenant'));
    });

  for (const action of ['disable', 'enable'] as const) {
    tenant
      .command(`${action} <tenant>`)
      .description(action === 'disable' ? 'Disable a tenant: it stops issuing tokens' : 'Enable a disabled tenant')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd);
        const result = await ctx.call('POST', `/tenants/${segment(id)}/${action}`);
        if (result === undefined) ctx.out.done(`${action}d tenant ${id}`, { tenant: id, status: `${action}d` });
        else ctx.out.record(asObject(result, 'the tenant'));
      });
  }
}
