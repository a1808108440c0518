import { Option, type Command } from 'commander';
import { PRINCIPAL_KINDS } from '../principals/kinds.js';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, type JsonObject } from './json.js';
import { addPaging, collect, parseInstant, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';


export const PRINCIPAL_COLUMNS = [column('id'), column('kind'), column('displayName', 'display name'), column('status'), column('sponsors'), column('createdAt', 'created')];

interface PrincipalFields {
  tenant?: string;
  name?: string;
  description?: string;
  sponsor?: string[];
  blueprint?: string;
  expires?: string;
  requireDpop?: boolean;
}

function principalBody(opts: PrincipalFields): JsonObject {
  const body: JsonObject = {};
  if (opts.name !== undefined) body.displayName = opts.name;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.sponsor !== undefined) body.sponsors = opts.sponsor;
  if (opts.blueprint !== undefined) body.blueprint = opts.blueprint;
  if (opts.expires !== undefined) body.expiresAt = opts.expires;
  if (opts.requireDpop !== undefined) body.requireDpop = opts.requireDpop;
  return body;
}

export function registerPrincipal(program: Command, contextOf: ContextOf): void {
  const principal = program.command('principal').description('Manage principals: users, services, managed identities and agents');

  principal
    .command('create')
    .description('Create a principal')
    .addOption(new Option('--kind <kind>', 'kind of principal').choices(PRINCIPAL_KINDS).makeOptionMandatory())
    .requiredOption('--name <displayName>', 'display name')
    .option('--description <text>', 'what it is for')
    .option('--sponsor <userId>', 'accountable user (repeatable; agents need one)', collect)
    .option('--blueprint <blueprint>', 'agents: the blueprint (id or name) it is created from')
    .option('--expires <iso>', 'agents: expiry (default and latest: SIGNET_AGENT_LIFETIME_DAYS from now)', parseInstant)
    .option('--require-dpop', 'every token issued to it must be DPoP-bound (RFC 9449)')
    .addOption(tenantOption())
    .action(async (opts: PrincipalFields & { kind: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { kind: opts.kind, ...principalBody(opts) };
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/principals`, { body }), 'the principal'));
    });

  addPaging(
    principal
      .command('list')
      .description('List principals')
      .addOption(new Option('--kind <kind>', 'only this kind').choices(PRINCIPAL_KINDS))
      .option('--status <status>', 'only this status (active, disabled, deleted)')
      .addOption(tenantOption()),
  ).action(async (opts: PagingOptions & { kind?: string; status?: string; tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    const query = { kind: opts.kind, status: opts.status, limit: opts.limit, cursor: opts.cursor };
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/principals`, query, opts.all), PRINCIPAL_COLUMNS);
  });

  principal
    .command('get <id>')
    .description('Show a principal')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}`), 'the principal'));
    });

  principal
    .command('update <id>')
    .description('Change a principal')
    .option('--name <displayName>', 'display name')
    .option('--description <text>', 'what it is for')
    .option('--sponsor <userId>', 'replace the sponsors (repeatable)', collect)
    .option('--require-dpop', 'from now on every token issued to it must be DPoP-bound (RFC 9449)')
    .option('--no-require-dpop', 'bearer tokens are allowed again (unless its blueprint requires DPoP)')
    .addOption(tenantOption())
    .action(async (id: string, opts: PrincipalFields, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = principalBody(opts);
      if (Object.keys(body).length === 0) throw usageError('nothing to update: give --name, --description, --sponsor or --[no-]require-dpop');
      ctx.out.record(asObject(await ctx.call('PATCH', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}`, { body }), 'the principal'));
    });

  for (const action of ['disable', 'enable'] as const) {
    principal
      .command(`${action} <id>`)
      .description(action === 'disable' ? 'Disable a principal: it can no longer get tokens' : 'Enable a disabled principal')
      .addOption(tenantOption())
      .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const result = await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/${action}`);
        if (result === undefined) ctx.out.done(`${action}d principal ${id}`, { id, status: `${action}d` });
        else ctx.out.record(asObject(result, 'the principal'));
      });
  }

  principal
    .command('extend <id>')
    .description("Extend an agent's expiry (tenant admins and the agent's sponsors)")
    .option('--until <iso>', 'new expiry (default and latest: SIGNET_AGENT_LIFETIME_DAYS from now)', parseInstant)
    .addOption(tenantOption())
    .action(async (id: string, opts: { until?: string; tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = opts.until === undefined ? {} : { expiresAt: opts.until };
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/extend`, { body }), 'the principal'));
    });

  principal
    .command('delete <id>')
    .description('Delete a principal')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}`);
      ctx.out.done(`deleted principal ${id}`, { id, deleted: true });
    });
}
