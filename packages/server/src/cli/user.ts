import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, type JsonObject } from './json.js';
import { tenantOption } from './options.js';

interface CreateOptions {
  tenant?: string;
  name: string;
  username?: string;
  email?: string;
  invite?: boolean;
  temporaryPassword?: boolean | string;
  expiresInHours?: string;
}

function hours(value: string | undefined): JsonObject {
  if (value === undefined) return {};
  if (!/^\d+$/.test(value)) throw usageError('--expires-in-hours must be a whole number of hours');
  return { expiresInHours: Number(value) };
}

/**
 * `signet user`: people who sign in. `create` makes the user and, in the same command, either an
 * invitation link or a temporary password (printed once; the user must change it at first sign-in).
 */
export function registerUser(program: Command, contextOf: ContextOf): void {
  const user = program.command('user').description('Manage people who sign in: create with an invitation or a temporary password');

  user
    .command('create')
    .description('Create a user, with an invitation link (--invite) or a temporary password (--temporary-password [password])')
    .requiredOption('--name <displayName>', 'display name')
    .option('--username <name>', 'sign-in name')
    .option('--email <address>', 'email address (also a sign-in name)')
    .option('--invite', 'print a single-use link where the user chooses a password')
    .option('--temporary-password [password]', 'set a temporary password (generated when not given) the user must change')
    .option('--expires-in-hours <hours>', 'invitation lifetime (default 72)')
    .addOption(tenantOption())
    .action(async (opts: CreateOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!opts.username && !opts.email) throw usageError('give --username or --email (or both): the user signs in with it');
      if (opts.invite && opts.temporaryPassword !== undefined) throw usageError('choose one of --invite and --temporary-password');
      if (!opts.invite && opts.temporaryPassword === undefined) throw usageError('give --invite or --temporary-password: a user needs a way to sign in');
      const base = await ctx.tenantPath(opts.tenant);
      const body: JsonObject = { kind: 'user', displayName: opts.name };
      if (opts.username) body.username = opts.username;
      if (opts.email) body.email = opts.email;
      const created = asObject(await ctx.call('POST', `${base}/principals`, { body }), 'the user');
      const path = `${base}/principals/${segment(String(created.id))}`;
      const signIn = opts.invite
        ? asObject(await ctx.call('POST', `${path}/invitations`, { body: hours(opts.expiresInHours) }), 'the invitation')
        : asObject(await ctx.call('POST', `${path}/temporary-password`, { body: typeof opts.temporaryPassword === 'string' ? { password: opts.temporaryPassword } : {} }), 'the temporary password');
      const extra: JsonObject = opts.invite ? { invitationUrl: signIn.url ?? null, invitationExpiresAt: signIn.expiresAt ?? null } : { temporaryPassword: signIn.temporaryPassword ?? null, loginUrl: signIn.loginUrl ?? null };
      ctx.out.record({ ...created, ...extra });
    });

  user
    .command('invite <id>')
    .description('Make a new invitation link for a user (earlier unused links stop working)')
    .option('--expires-in-hours <hours>', 'lifetime (default 72)')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string; expiresInHours?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/invitations`, { body: hours(opts.expiresInHours) }), 'the invitation'));
    });

  user
    .command('temporary-password <id>')
    .description('Set a temporary password (generated unless --password is given); the user must change it and is signed out everywhere')
    .option('--password <password>', 'the temporary password to set')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string; password?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = opts.password === undefined ? {} : { password: opts.password };
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/temporary-password`, { body }), 'the temporary password'));
    });

  user
    .command('remove-factor <id> <factorId>')
    .description('Remove a second factor of a user who lost it (factor ids: sign-in-methods)')
    .addOption(tenantOption())
    .action(async (id: string, factorId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/factors/${segment(factorId)}`);
      ctx.out.done(`removed factor ${factorId} of user ${id}`, { id, factorId, removed: true });
    });

  user
    .command('sign-in-methods <id>')
    .description("Show a user's password state and second factors")
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/sign-in-methods`), 'the sign-in methods'));
    });
}
