import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, type JsonObject } from './json.js';
import { addPaging, collectPermission, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

export const RESOURCE_COLUMNS = [column('id'), column('identifier'), column('displayName', 'display name'), column('roles'), column('scopes'), column('createdAt', 'created')];

const PERMISSION_HELP = "(repeatable; use name=description when the name holds ':')";

interface ResourceFields {
  name?: string;
  description?: string;
  role?: JsonObject[];
  scope?: JsonObject[];
  tenant?: string;
}

function resourceBody(opts: ResourceFields): JsonObject {
  const body: JsonObject = {};
  if (opts.name !== undefined) body.displayName = opts.name;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.scope !== undefined) body.scopes = opts.scope;
  if (opts.role !== undefined) body.roles = opts.role;
  return body;
}

/** Identifiers are URIs (`api://orders`), so the path segment is percent-encoded. */
const resourcePath = (tenantPath: string, idOrIdentifier: string): string => `${tenantPath}/resources/${segment(idOrIdentifier)}`;

export function registerResource(program: Command, contextOf: ContextOf): void {
  const resource = program.command('resource').description('Manage resources (APIs that accept tokens) and their roles and scopes');

  resource
    .command('create <identifier>')
    .description('Create a resource; the identifier is the token audience, e.g. api://orders')
    .requiredOption('--name <displayName>', 'display name')
    .option('--description <text>', 'what it is')
    .option('--role <name:description>', `an application role ${PERMISSION_HELP}`, collectPermission)
    .option('--scope <name:description>', `a delegated scope ${PERMISSION_HELP}`, collectPermission)
    .addOption(tenantOption())
    .action(async (identifier: string, opts: ResourceFields, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { identifier, ...resourceBody(opts) };
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/resources`, { body }), 'the resource'));
    });

  addPaging(resource.command('list').description('List resources').addOption(tenantOption())).action(
    async (opts: PagingOptions & { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await ctx.list(`${await ctx.tenantPath(opts.tenant)}/resources`, { limit: opts.limit, cursor: opts.cursor }, opts.all);
      ctx.out.list(page, RESOURCE_COLUMNS);
    },
  );

  resource
    .command('get <resource>')
    .description('Show a resource, by id or identifier')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', resourcePath(await ctx.tenantPath(opts.tenant), id)), 'the resource'));
    });

  resource
    .command('update <resource>')
    .description('Change a resource; --role and --scope replace the whole list')
    .option('--name <displayName>', 'display name')
    .option('--description <text>', 'what it is')
    .option('--role <name:description>', `an application role ${PERMISSION_HELP}`, collectPermission)
    .option('--scope <name:description>', `a delegated scope ${PERMISSION_HELP}`, collectPermission)
    .addOption(tenantOption())
    .action(async (id: string, opts: ResourceFields, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = resourceBody(opts);
      if (Object.keys(body).length === 0) throw usageError('nothing to update: give --name, --description, --role or --scope');
      ctx.out.record(asObject(await ctx.call('PATCH', resourcePath(await ctx.tenantPath(opts.tenant), id), { body }), 'the resource'));
    });

  resource
    .command('delete <resource>')
    .description('Delete a resource, by id or identifier')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', resourcePath(await ctx.tenantPath(opts.tenant), id));
      ctx.out.done(`deleted resource ${id}`, { id, deleted: true });
    });
}
