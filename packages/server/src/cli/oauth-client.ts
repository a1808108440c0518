import type { Command } from 'commander';
import { segment } from './client.js';
import type { ContextOf } from './context.js';
import { asObject, type JsonObject } from './json.js';
import { addPaging, collect, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

interface SignInOptions {
  redirectUri: string[];
  postLogoutRedirectUri?: string[];
  requiredScope?: string[];
  public?: boolean;
  tenant?: string;
}

export const CONSENT_COLUMNS = [column('id'), column('user'), column('client'), column('resource'), column('scopes'), column('expiresAt', 'expires')];

/** `signet principal sign-in …` (users signing in to a service or agent) and `signet consent …`. */
export function registerOAuthClient(program: Command, contextOf: ContextOf): void {
  const principal = program.commands.find((c) => c.name() === 'principal') ?? program.command('principal');
  const signIn = principal.command('sign-in').description('Let users sign in to a service or agent (authorization code flow)');

  signIn
    .command('set <id>')
    .description('Set the exact redirect URIs (and client type) users may be sent back to')
    .requiredOption('--redirect-uri <uri>', 'exact redirect URI (repeatable)', collect)
    .option('--post-logout-redirect-uri <uri>', 'where logout may return to (repeatable)', collect)
    .option('--required-scope <scope>', 'a scope users cannot decline (repeatable)', collect)
    .option('--public', 'a native or browser app that cannot keep a secret (PKCE only; loopback ports may vary)')
    .addOption(tenantOption())
    .action(async (id: string, opts: SignInOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = { clientType: opts.public ? 'public' : 'confidential', redirectUris: opts.redirectUri };
      if (opts.postLogoutRedirectUri) body.postLogoutRedirectUris = opts.postLogoutRedirectUri;
      if (opts.requiredScope) body.requiredScopes = opts.requiredScope;
      ctx.out.record(asObject(await ctx.call('PUT', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/oauth-client`, { body }), 'the sign-in settings'));
    });

  signIn
    .command('get <id>')
    .description('Show the sign-in settings of a service or agent')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.record(asObject(await ctx.call('GET', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/oauth-client`), 'the sign-in settings'));
    });

  signIn
    .command('remove <id>')
    .description('Stop users signing in to a service or agent')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/principals/${segment(id)}/oauth-client`);
      ctx.out.done(`users can no longer sign in to ${id}`, { id, removed: true });
    });

  const consent = program.command('consent').description('Consents: which clients may act for which users, with which scopes');

  addPaging(
    consent
      .command('list')
      .description('List consents')
      .option('--user <id>', "only this user's consents")
      .option('--client <id>', 'only consents for this client')
      .option('--all-users', 'only admin consents given for every user')
      .addOption(tenantOption()),
  ).action(async (opts: PagingOptions & { user?: string; client?: string; allUsers?: boolean; tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    const query = { user: opts.user, client: opts.client, allUsers: opts.allUsers ? 'true' : undefined, limit: opts.limit, cursor: opts.cursor };
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/consents`, query, opts.all), CONSENT_COLUMNS);
  });

  consent
    .command('grant')
    .description('Admin consent: let a client act with scopes for one user, or for every user of the tenant')
    .requiredOption('--client <id>', 'client principal id')
    .requiredOption('--resource <resource>', 'resource id or identifier, or urn:signet:identity for OpenID Connect scopes')
    .requiredOption('--scope <scope>', 'a scope (repeatable)', collect)
    .option('--user <id>', 'for this user only (default: every user)')
    .addOption(tenantOption())
    .action(async (opts: { client: string; resource: string; scope: string[]; user?: string; tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: JsonObject = { client: opts.client, resource: opts.resource, scopes: opts.scope };
      if (opts.user) body.user = opts.user;
      ctx.out.record(asObject(await ctx.call('POST', `${await ctx.tenantPath(opts.tenant)}/consents`, { body }), 'the consent'));
    });

  consent
    .command('revoke <id>')
    .description('Revoke a consent: the refresh tokens it backed stop working')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await ctx.tenantPath(opts.tenant)}/consents/${segment(id)}`);
      ctx.out.done(`revoked consent ${id}`, { id, revoked: true });
    });
}
