import { InvalidArgumentError, type Command } from 'commander';
import { segment } from './client.js';
import type { Context, ContextOf } from './context.js';
import { usageError } from './errors.js';
import { asObject, asPage, type JsonObject } from './json.js';
import { readPublicJwk, readText } from './key-file.js';
import { addPaging, collect, parseInstant, parseJsonObject, tenantOption, type PagingOptions } from './options.js';
import { column } from './output.js';

export const CREDENTIAL_COLUMNS = [
  column('id'),
  column('type'),
  column('description'),
  column('thumbprint'),
  column('issuer'),
  column('subject'),
  column('claims'),
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

interface FederatedOptions {
  issuer: string;
  audience: string;
  subject?: string;
  claims?: string;
  jwks?: string;
  key?: string[];
  description?: string;
  expires?: string;
  tenant?: string;
}

/** The request body of a federated credential: exactly one of --subject or --claims. */
async function federatedBody(opts: FederatedOptions): Promise<JsonObject> {
  if ((opts.subject === undefined) === (opts.claims === undefined)) throw usageError('give exactly one of --subject <sub> or --claims <expression>');
  if (opts.jwks !== undefined && opts.key !== undefined) throw usageError('give --jwks or --key, not both');
  const body: JsonObject = { type: 'federated', issuer: opts.issuer, audience: opts.audience };
  if (opts.subject !== undefined) body.subject = opts.subject;
  if (opts.claims !== undefined) body.claims = opts.claims;
  if (opts.jwks !== undefined) body.jwks = parseJsonObject(await readText(opts.jwks, 'JWKS file'));
  if (opts.key !== undefined) body.keys = await Promise.all(opts.key.map((file) => readText(file, 'PEM public key file')));
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.expires !== undefined) body.expiresAt = opts.expires;
  return body;
}

function parseDays(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 3650) throw new InvalidArgumentError('must be an integer from 0 to 3650');
  return Number(value);
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
  const credential = program.command('credential').description("Manage a principal's client secrets, keys and federated credentials");
  addCredentialCommands(credential, contextOf, 'principal', async (ctx, principal, tenant) => `${await ctx.tenantPath(tenant)}/principals/${segment(principal)}/credentials`);

  credential
    .command('add-federated <principal>')
    .description('Trust tokens of an external issuer (GitHub Actions, Kubernetes, a cloud): no secret at all')
    .requiredOption('--issuer <url>', 'the external issuer, exactly as in its tokens\' iss (https)')
    .requiredOption('--audience <aud>', 'the audience the external token must carry')
    .option('--subject <sub>', 'accept exactly this sub')
    .option('--claims <expression>', 'accept tokens whose claims satisfy this expression, e.g. \'repository == "acme/api" && ref matches "refs/heads/release/*"\'')
    .option('--jwks <file>', 'verify with the keys of this JWKS file instead of OIDC discovery')
    .option('--key <file>', 'verify with this PEM public key instead of OIDC discovery (repeatable)', collect)
    .option('--description <text>', 'what it is for')
    .option('--expires <iso>', 'expiry, an ISO 8601 date-time', parseInstant)
    .addOption(tenantOption())
    .action(async (principal: string, opts: FederatedOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = await federatedBody(opts);
      const path = `${await ctx.tenantPath(opts.tenant)}/principals/${segment(principal)}/credentials`;
      ctx.out.record(asObject(await ctx.call('POST', path, { body }), 'the credential'));
    });

  addPaging(
    credential
      .command('expiring')
      .description("List every principal's credentials that expire within --days days (expired ones included)")
      .requiredOption('--days <n>', 'how many days ahead', parseDays)
      .addOption(tenantOption()),
  ).action(async (opts: PagingOptions & { days: number; tenant?: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    const query: Record<string, string> = { expiringWithinDays: String(opts.days) };
    if (opts.limit !== undefined) query.limit = String(opts.limit);
    if (opts.cursor !== undefined) query.cursor = opts.cursor;
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/credentials`, query, opts.all), [column('principalId', 'principal'), ...CREDENTIAL_COLUMNS]);
  });
}
