import type { Command } from 'commander';
import { segment } from './client.js';
import type { Context, ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, asPage, type JsonObject } from './json.js';
import { readPublicJwk, readText } from './key-file.js';
import { parseInstant, tenantOption } from './options.js';
import { column } from './output.js';

export const CREDENTIAL_COLUMNS = [
  column('id'),
  column('type'),
  column('description'),
  column('thumbprint'),
  column('createdAt', 'created'),
  column('expiresAt', 'expires'),
  column('lastUsedAt', 'last used'),
];

interface AddOptions {
  secret?: boolean;
  jwk?: string;
  certificate?: string;
  description?: string;
  expires?: string;
  tenant?: string;
}

/** The request body for exactly one of --secret, --jwk, --certificate. */
async function credentialBody(opts: AddOptions): Promise<JsonObject> {
  const chosen = [opts.secret ? '--secret' : '', opts.jwk ? '--jwk' : '', opts.certificate ? '--certificate' : ''].filter(Boolean);
  if (chosen.length !== 1) throw usageError('give exactly one of --secret, --jwk <file> or --certificate <file>');
  const body: JsonObject = opts.secret
    ? { type: 'secret' }
    : opts.jwk
      ? { type: 'key', jwk: await readPublicJwk(opts.jwk) }
      : { type: 'key', certificate: await readText(opts.certificate ?? '', 'certificate file') };
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.expires !== undefined) body.expiresAt = opts.expires;
  return body;
}

/** Where an owner's credentials live in the admin API (a principal's, or a blueprint's). */
export type CredentialsPath = (ctx: Context, owner: string, tenant: string | undefined) => Promise<string>;

/** add / list / remove credential commands under `parent`, for owners named `ownerName`. */
export function addCredentialCommands(parent: Command, contextOf: ContextOf, ownerName: string, pathOf: CredentialsPath): void {
  parent
    .command(`add <${ownerName}>`)
    .description('Add a generated secret or a public key (JWK, PEM key or X.509 certificate)')
    .option('--secret', 'generate a client secret (shown once)')
    .option('--jwk <file>', 'register a public key from a JWK or PEM file (a private key is reduced to its public half)')
    .option('--certificate <file>', 'register the key of a PEM X.509 certificate')
    .option('--description <text>', 'what it is for')
    .option('--expires <iso>', 'expiry, an ISO 8601 date-time', parseInstant)
    .addOption(tenantOption())
    .action(async (owner: string, opts: AddOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = await credentialBody(opts);
      const created = asObject(await ctx.call('POST', await pathOf(ctx, owner, opts.tenant), { body }), 'the credential');
      const { secret, ...shown } = created;
      if (ctx.out.json) {
        ctx.out.record(created);
      } else {
        ctx.out.record(shown);
        if (typeof secret === 'string') ctx.out.text(`\nclient secret: ${secret}\n`);
      }
      if (typeof secret === 'string') ctx.out.warn('store this secret now: it is shown only once and cannot be retrieved again');
    });

  parent
    .command(`list <${ownerName}>`)
    .description(`List a ${ownerName}'s credentials (secrets are never shown)`)
    .addOption(tenantOption())
    .action(async (owner: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.list(asPage(await ctx.call('GET', await pathOf(ctx, owner, opts.tenant))), CREDENTIAL_COLUMNS);
    });

  parent
    .command(`remove <${ownerName}> <credentialId>`)
    .description('Remove a credential')
    .addOption(tenantOption())
    .action(async (owner: string, credentialId: string, opts: { tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.call('DELETE', `${await pathOf(ctx, owner, opts.tenant)}/${segment(credentialId)}`);
      ctx.out.done(`removed credential ${credentialId}`, { id: credentialId, deleted: true });
    });
}

export function registerCredential(program: Command, contextOf: ContextOf): void {
  const credential = program.command('credential').description("Manage a principal's client secrets and keys");
  addCredentialCommands(credential, contextOf, 'principal', async (ctx, principal, tenant) => `${await ctx.tenantPath(tenant)}/principals/${segment(principal)}/credentials`);
}
