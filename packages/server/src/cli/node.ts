import { InvalidArgumentError, Option, type Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { asObject, type JsonObject } from './json.js';
import { registerNodeRun } from './node-run.js';
import type { Io } from './output.js';
import { addPaging, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

export const NODE_COLUMNS = [column('id'), column('name'), column('status'), column('identities'), column('lastSeenAt', 'last seen'), column('createdAt', 'created')];

function parseTtl(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected seconds, or a number with s, m, h or d (e.g. 30m)');
  const unit = ({ s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[match[2] ?? ''] ?? 1;
  const seconds = Number(match[1]) * unit;
  if (seconds < 60 || seconds > 7 * 86400) throw new InvalidArgumentError('must be between 1 minute and 7 days');
  return seconds;
}

export function registerNode(program: Command, contextOf: ContextOf, io: Io): void {
  const node = program.command('node').description('Nodes running `signet node`: join tokens, registry, identity assignment, and the daemon itself (`signet node run`)');

  node
    .command('join-token')
    .description('Join tokens for new nodes')
    .command('create')
    .description('Create a single-use, expiring join token (shown once)')
    .addOption(tenantOption())
    .addOption(new Option('--ttl <duration>', 'lifetime: seconds or 30m, 2h, 1d (default 1h)').argParser(parseTtl))
    .option('--name <name>', 'name the node gets when it joins')
    .action(async (opts: { tenant?: string; ttl?: number; name?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = {};
      if (opts.ttl !== undefined) body.ttlSeconds = opts.ttl;
      if (opts.name !== undefined) body.name = opts.name;
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/nodes/join-tokens`, { body }), 'the join token'));
    });

  addPaging(node.command('list').description('List nodes').addOption(tenantOption())).action(async (opts: PagingOptions & { tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/nodes`, { limit: opts.limit, cursor: opts.cursor }, opts.all), NODE_COLUMNS);
  });

  node
    .command('get <nodeId>')
    .description('Show a node, its assigned identities and public keys')
    .addOption(tenantOption())
    .action(async (nodeId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', `${await ctx.tenantPath(opts.tenant)}/nodes/${segment(nodeId)}`), 'the node'));
    });

  node
    .command('assign <nodeId> <principalId>')
    .description('Let the node fetch tokens for a managed identity')
    .addOption(tenantOption())
    .action(async (nodeId: string, principalId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('PUT', `${await ctx.tenantPath(opts.tenant)}/nodes/${segment(nodeId)}/identities/${segment(principalId)}`), 'the node'));
    });

  node
    .command('unassign <nodeId> <principalId>')
    .description('Stop the node fetching tokens for a managed identity')
    .addOption(tenantOption())
    .action(async (nodeId: string, principalId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/nodes/${segment(nodeId)}/identities/${segment(principalId)}`);
      ctx.out.done(`unassigned ${principalId} from node ${nodeId}`, { nodeId, principalId, assigned: false });
    });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    node
      .command(`${action} <nodeId>`)
      .description(action === 'disable' ? 'Disable a node: its assertions are refused at once' : 'Enable a disabled node')
      .addOption(tenantOption())
      .action(async (nodeId: string, opts: { tenant?: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        ctx.out.record(asObject(await ctx.call('PATCH', `${await ctx.tenantPath(opts.tenant)}/nodes/${segment(nodeId)}`, { body: { status } }), 'the node'));
      });
  }

  node
    .command('delete <nodeId>')
    .description('Delete a node: its keys and assignments are removed')
    .addOption(tenantOption())
    .action(async (nodeId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/nodes/${segment(nodeId)}`);
      ctx.out.done(`deleted node ${nodeId}`, { id: nodeId, deleted: true });
    });

  registerNodeRun(node, io);
}
