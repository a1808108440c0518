import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import type { Context, ContextOf } from './context.js';
import { CliError, usageError } from './errors.js';
import type { AdminCredentials } from './credentials-file.js';
import type { JsonObject } from './json.js';
import { readSigningKey } from './key-file.js';
import { collect, tenantOption } from './options.js';
import { basicAuthorization, requestToken } from './token-request.js';

/** RFC 7523 §2.2 client assertion type. */
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Client assertions are short-lived: exp is at most 60 s after iat. */
const ASSERTION_LIFETIME_S = 60;
const TIME_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time'];

interface TokenOptions {
  clientId: string;
  clientSecret?: string;
  key?: string;
  tenant?: string;
  scope?: string[];
  resource?: string[];
  issuerUrl?: string;
  decode?: boolean;
}

/** The admin credentials file, when there is one: it names the install's public URL and default tenant. */
async function optionalCredentials(ctx: Context): Promise<AdminCredentials | undefined> {
  try {
    return await ctx.credentials();
  } catch (error) {
    if (error instanceof CliError && error.code === 'credentials_not_found') return undefined;
    throw error;
  }
}

/**
 * The token endpoint `<base>/<tenant>/oauth2/token`. The base is `--issuer-url`, else the one in the
 * credentials file, else SIGNET_PUBLIC_URL, else http://localhost:<SIGNET_PORT or 8080>.
 */
async function tokenEndpoint(ctx: Context, opts: TokenOptions): Promise<string> {
  const credentials = await optionalCredentials(ctx);
  const tenant = opts.tenant ?? credentials?.tenant ?? 'default';
  let base = opts.issuerUrl;
  if (base === undefined && credentials) {
    const suffix = `/${encodeURIComponent(credentials.tenant)}/oauth2/token`;
    const endpoint = credentials.token_endpoint;
    if (endpoint.endsWith(suffix)) base = endpoint.slice(0, -suffix.length);
    else if (URL.canParse(endpoint)) base = new URL(endpoint).origin;
  }
  base ??= ctx.io.env.SIGNET_PUBLIC_URL || `http://localhost:${ctx.io.env.SIGNET_PORT || 8080}`;
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/oauth2/token`;
}

/** RFC 7523 §3 / RFC 7521 §5.2: iss = sub = client_id, aud = the token endpoint, unique jti, short exp. */
async function clientAssertion(keyFile: string, clientId: string, tokenEndpoint: string): Promise<string> {
  const { key, alg, kid } = await readSigningKey(keyFile);
  return new SignJWT({})
    .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenEndpoint)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ASSERTION_LIFETIME_S}s`)
    .sign(key);
}

/** The JWT's header and claims; time claims also shown as ISO 8601 in tables. */
function decoded(token: string): { header: JsonObject; claims: JsonObject } {
  try {
    return { header: decodeProtectedHeader(token) as JsonObject, claims: decodeJwt(token) as JsonObject };
  } catch {
    throw new CliError('invalid_token', 'the access token is not a JWT, so it cannot be decoded');
  }
}

function readableTimes(claims: JsonObject): JsonObject {
  const shown: JsonObject = {};
  for (const [name, value] of Object.entries(claims)) {
    shown[name] = TIME_CLAIMS.includes(name) && typeof value === 'number' ? `${value} (${new Date(value * 1000).toISOString()})` : value;
  }
  return shown;
}

export function registerToken(program: Command, contextOf: ContextOf): void {
  const token = program.command('token').description('Get tokens from the token endpoint, as any client');

  token
    .command('get')
    .description('Get an access token with client_credentials (client_secret_basic or private_key_jwt)')
    .requiredOption('--client-id <id>', 'client (principal) id')
    .option('--client-secret <secret>', 'authenticate with a client secret (client_secret_basic)')
    .option('--key <file>', 'authenticate with a private key, PEM or JWK (private_key_jwt)')
    .option('--scope <scope>', 'scope to request (repeatable)', collect)
    .option('--resource <uri>', 'RFC 8707 resource indicator (repeatable)', collect)
    .option('--issuer-url <base>', 'public base URL; the token endpoint is <base>/<tenant>/oauth2/token')
    .option('--decode', 'also show the decoded JWT header and claims')
    .addOption(tenantOption())
    .action(async (opts: TokenOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if ((opts.clientSecret === undefined) === (opts.key === undefined)) throw usageError('give exactly one of --client-secret <secret> or --key <file>');
      const endpoint = await tokenEndpoint(ctx, opts);
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      if (opts.scope) form.set('scope', opts.scope.join(' '));
      for (const resource of opts.resource ?? []) form.append('resource', resource);
      let authorization: string | undefined;
      if (opts.key !== undefined) {
        form.set('client_id', opts.clientId);
        form.set('client_assertion_type', JWT_BEARER_ASSERTION);
        form.set('client_assertion', await clientAssertion(opts.key, opts.clientId, endpoint));
      } else {
        authorization = basicAuthorization(opts.clientId, opts.clientSecret ?? '');
      }
      const response = await requestToken(endpoint, form, authorization);
      const accessToken = String(response.access_token);
      const parts = opts.decode ? decoded(accessToken) : undefined;
      if (ctx.out.json) {
        ctx.out.record(parts ? { ...response, decoded: parts } : response);
        return;
      }
      // The token goes on a line of its own, so it can be copied whole.
      const { access_token: _token, ...rest } = response;
      ctx.out.record(rest);
      ctx.out.text(`\naccess_token: ${accessToken}\n`);
      if (!parts) return;
      const { header, claims } = parts;
      ctx.out.text('\nheader\n');
      ctx.out.record(header);
      ctx.out.text('\nclaims\n');
      ctx.out.record(readableTimes(claims));
    });
}
