import { InvalidArgumentError, type Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { addCredentialCommands } from './credential.js';
import { usageError } from './errors.js';
import { asObject, type JsonObject } from './json.js';
import { addPaging, collect, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

export const BLUEPRINT_COLUMNS = [
  column('id'),
  column('name'),
  column('accessTokenLifetimeSeconds', 'token s'),
  column('maxDelegationDepth', 'depth'),
  column('allowAppRoles', 'app roles'),
  column('allowDelegation', 'delegation'),
  column('requireDpop', 'dpop'),
];

interface BlueprintOptions {
  tenant?: string;
  description?: string;
  roles?: string[];
  scopes?: string[];
  tokenLifetime?: number;
  maxDepth?: number;
  appRoles?: boolean;
  delegation?: boolean;
  dpop?: boolean;
}

function positive(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** `--roles <resource>=a,b` and `--scopes <resource>=c` (repeatable) as blueprint permissions, merged by resource. */
function permissions(opts: BlueprintOptions): JsonObject[] | undefined {
  if (opts.roles === undefined && opts.scopes === undefined) return undefined;
  const byResource = new Map<string, { roles: string[]; scopes: string[] }>();
  for (const [kind, values] of [['roles', opts.roles ?? []], ['scopes', opts.scopes ?? []]] as const) {
    for (const value of values) {
      const at = value.lastIndexOf('=');
      if (at <= 0) throw usageError(`--${kind} takes <resource>=<name>[,<name>…], got "${value}"`);
      const entry = byResource.get(value.slice(0, at)) ?? { roles: [], scopes: [] };
      entry[kind].push(...value.slice(at + 1).split(',').map((n) => n.trim()).filter(Boolean));
      byResource.set(value.slice(0, at), entry);
    }
  }
  return [...byResource].map(([resource, p]) => ({ resource, roles: p.roles, scopes: p.scopes }));
}

function blueprintBody(opts: BlueprintOptions): JsonObject {
  const body: JsonObject = {};
  if (opts.description !== undefined) body.description = opts.description;
  const perms = permissions(opts);
  if (perms !== undefined) body.permissions = perms;
  if (opts.tokenLifetime !== undefined) body.accessTokenLifetimeSeconds = opts.tokenLifetime;
  if (opts.maxDepth !== undefined) body.maxDelegationDepth = opts.maxDepth;
  if (opts.appRoles !== undefined) body.allowAppRoles = opts.appRoles;
  if (opts.delegation !== undefined) body.allowDelegation = opts.delegation;
  if (opts.dpop !== undefined) body.requireDpop = opts.dpop;
  return body;
}

function withBlueprintOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what agents of this blueprint are for')
    .option('--roles <resource=roles>', 'application roles its agents may hold on a resource, e.g. api://orders=orders.read (repeatable)', collect)
    .option('--scopes <resource=scopes>', 'delegated scopes its agents may use for users, e.g. api://orders=orders.view (repeatable)', collect)
    .option('--token-lifetime <seconds>', 'access-token lifetime cap (default 300)', positive)
    .option('--max-depth <n>', 'most actors in a delegation chain (default 1)', positive)
    .option('--app-roles', 'agents may act on their own (client_credentials)')
    .option('--no-app-roles', 'agents may not act on their own')
    .option('--delegation', 'agents may act for users (token exchange)')
    .option('--no-delegation', 'agents may not act for users')
    .option('--dpop', "agents' tokens must be DPoP-bound (the default)")
    .option('--no-dpop', "agents' tokens need not be DPoP-bound")
    .addOption(tenantOption());
}

export function registerBlueprint(program: Command, contextOf: ContextOf): void {
  const blueprint = program.command('blueprint').description('Manage agent blueprints: the most an agent may hold, its caps, and the credentials it lends its agents');
  const path = async (ctx: ReturnType<ContextOf>, tenant: string | undefined, id?: string) => `${await ctx.tenantPath(tenant)}/blueprints${id === undefined ? '' : `/${segment(id)}`}`;

  withBlueprintOptions(blueprint.command('create <name>').description('Create a blueprint')).action(async (name: string, opts: BlueprintOptions, cmd: Command) => {
    const ctx = contextOf(cmd);
    ctx.out.record(asObject(await ctx.call('POST', await path(ctx, opts.tenant), { body: { name, ...blueprintBody(opts) } }), 'the blueprint'));
  });

  addPaging(blueprint.command('list').description('List blueprints').addOption(tenantOption())).action(async (opts: PagingOptions & { tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    ctx.out.list(await ctx.list(await path(ctx, opts.tenant), { limit: opts.limit, cursor: opts.cursor }, opts.all), BLUEPRINT_COLUMNS);
  });

  blueprint
    .command('get <blueprint>')
    .description('Show a blueprint (id or name)')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', await path(ctx, opts.tenant, id)), 'the blueprint'));
    });

  withBlueprintOptions(blueprint.command('update <blueprint>').description('Change a blueprint; --roles/--scopes replace all its permissions, and narrowing applies to its agents at once')).action(
    async (id: string, opts: BlueprintOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = blueprintBody(opts);
      if (Object.keys(body).length === 0) throw usageError('nothing to update');
      ctx.out.record(asObject(await ctx.call('PATCH', await path(ctx, opts.tenant, id), { body }), 'the blueprint'));
    },
  );

  blueprint
    .command('delete <blueprint>')
    .description('Delete a blueprint no live agent was created from')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', await path(ctx, opts.tenant, id));
      ctx.out.done(`deleted blueprint ${id}`, { id, deleted: true });
    });

  const credential = blueprint.command('credential').description('Credentials a blueprint lends its agents (each authenticates with its own client_id)');
  addCredentialCommands(credential, contextOf, 'blueprint', async (ctx, id, tenant) => `${await path(ctx, tenant, id)}/credentials`);
}
