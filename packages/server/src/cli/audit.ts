import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { registerAuditVerify } from './audit-verify.js';
import type { Query } from './client.js';
import type { Context, ContextOf } from './context.js';
import { CliError, EXIT_CONNECTION } from './errors.js';
import { asObject, isObject, type Json, type JsonObject } from './json.js';
import { addPaging, parseInstant, tenantOption, type PagingOptions } from './options.js';
import { column, type Io } from './output.js';
import { basicAuthorization, requestToken } from './token-request.js';

export const AUDIT_COLUMNS = [
  column('time'),
  column('type'),
  column('outcome'),
  column('actorId', 'actor'),
  column('subjectId', 'subject'),
  column('resource'),
  column('id'),
];

interface FilterOptions {
  type?: string;
  outcome?: string;
  actor?: string;
  subject?: string;
  client?: string;
  resource?: string;
  credential?: string;
  principal?: string;
  since?: string;
  until?: string;
  tenant?: string;
}

/** The filters of `audit list` and `audit tail` (tail has no --until: it follows what comes next). */
function addFilters(command: Command, withUntil: boolean): Command {
  command
    .option('--type <type>', 'event type (token.issued), or a prefix ending in * (token.*)')
    .addOption(new Option('--outcome <outcome>', 'success or failure').choices(['success', 'failure']))
    .option('--actor <principalId>', 'the principal that acted')
    .option('--subject <principalId>', 'the principal a delegated token was for')
    .option('--client <clientId>', 'the OAuth client')
    .option('--resource <identifier>', 'the resource (token audience)')
    .option('--credential <credentialId>', 'the credential used or changed')
    .option('--principal <principalId>', 'a principal anywhere in the event (actor, subject, client, target, delegation)')
    .addOption(new Option('--since <time>', 'events at or after this ISO 8601 time').argParser(parseInstant));
  if (withUntil) command.addOption(new Option('--until <time>', 'events before this ISO 8601 time').argParser(parseInstant));
  return command.addOption(tenantOption());
}

function filterQuery(opts: FilterOptions): Query {
  const { type, outcome, actor, subject, client, resource, credential, principal, since, until } = opts;
  return { type, outcome, actor, subject, client, resource, credential, principal, since, until };
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

/** Admin API error bodies are `{code, message}`. */
async function responseError(response: Response): Promise<CliError> {
  let body: Json | undefined;
  try {
    body = (await response.json()) as Json;
  } catch {
    body = undefined;
  }
  if (isObject(body) && typeof body.code === 'string' && typeof body.message === 'string') return new CliError(body.code, body.message);
  return new CliError(`http_${response.status}`, `the admin API answered HTTP ${response.status}`);
}

/**
 * GETs an admin API resource whose body is read as it arrives (the SSE stream, the export), which
 * the JSON client cannot do. A fresh admin token per call: a tail outlives any one token.
 */
async function openStream(ctx: Context, path: string, query: Query, headers: Record<string, string> = {}): Promise<Response> {
  const credentials = await ctx.credentials();
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: credentials.scope });
  const token = await requestToken(credentials.token_endpoint, form, basicAuthorization(credentials.client_id, credentials.client_secret));
  const url = new URL(credentials.admin_api.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...headers, authorization: `Bearer ${String(token.access_token)}` }, redirect: 'error' });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError('connection_failed', `cannot reach ${url.origin} (${cause})`, EXIT_CONNECTION);
  }
  if (!response.ok) throw await responseError(response);
  if (!response.body) throw new CliError('invalid_response', 'the admin API sent no body');
  return response;
}

interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Server-Sent Events parsing (HTML Living Standard §9.2.6); `onRetry` hears `retry:` fields. */
export async function* sseMessages(body: AsyncIterable<Uint8Array>, onRetry: (ms: number) => void = () => undefined): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'data') data.push(value);
      else if (name === 'event') event = value;
      else if (name === 'id' && !value.includes('\0')) id = value;
      else if (name === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    }
  }
}

/** One line per event for people: time, type, outcome and who. */
function eventLine(event: JsonObject): string {
  const part = (name: string, value: Json | undefined) => (typeof value === 'string' && value !== '' ? ` ${name}=${value}` : '');
  return `${String(event.time)} ${String(event.type)} ${String(event.outcome)}${part('actor', event.actorId)}${part('subject', event.subjectId)}${part('client', event.clientId !== event.actorId ? event.clientId : undefined)}${part('resource', event.resource)}${part('target', event.targetId)} id=${String(event.id)}\n`;
}

/**
 * Follows the stream, reconnecting with Last-Event-ID whenever it ends (server restart, token
 * expiry, network), so no event is lost or shown twice. The first connection must succeed.
 */
async function tail(ctx: Context, path: string, query: Query, count: number | undefined): Promise<void> {
  const MAX_BACKOFF_MS = 30_000;
  let retryMs = 1000;
  let backoff = retryMs;
  let lastId: string | undefined;
  let seen = 0;
  let connected = false;
  for (;;) {
    let response: Response | undefined;
    try {
      response = await openStream(ctx, path, query, lastId ? { 'last-event-id': lastId, accept: 'text/event-stream' } : { accept: 'text/event-stream' });
      connected = true;
      backoff = retryMs;
      for await (const message of sseMessages(response.body as AsyncIterable<Uint8Array>, (ms) => (retryMs = backoff = ms))) {
        let event: Json;
        try {
          event = JSON.parse(message.data) as Json;
        } catch {
          throw new CliError('invalid_response', 'the audit stream sent an event that is not JSON');
        }
        if (ctx.out.json) ctx.io.stdout(`${JSON.stringify(event)}\n`);
        else ctx.io.stdout(eventLine(asObject(event, 'an audit event')));
        if (message.id) lastId = message.id;
        seen += 1;
        if (count !== undefined && seen >= count) {
          await response.body?.cancel().catch(() => undefined);
          return;
        }
      }
    } catch (error) {
      const retriable = connected && (!(error instanceof CliError) || error.code === 'connection_failed' || error.code === 'unavailable' || error.code.startsWith('http_5'));
      if (!retriable) throw error;
      ctx.out.warn(`audit stream interrupted (${error instanceof Error ? error.message : String(error)}); reconnecting`);
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

async function writeChunk(file: WriteStream, chunk: Uint8Array): Promise<void> {
  if (!file.write(chunk)) await once(file, 'drain');
}

/** Streams the export to a file (written whole or not at all) or to stdout. */
async function exportTrail(ctx: Context, io: Io, path: string, query: Query, output: string | undefined): Promise<void> {
  const response = await openStream(ctx, path, query, { accept: 'application/x-ndjson' });
  const body = response.body as AsyncIterable<Uint8Array>;
  const interrupted = (error: unknown) => new CliError('export_interrupted', `the export ended early (${error instanceof Error ? error.message : String(error)})`);
  if (output === undefined) {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        io.stdout(decoder.decode(chunk, { stream: true }));
        // Piped into a slow reader, wait for it rather than buffer the export in memory.
        if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
      }
    } catch (error) {
      throw interrupted(error);
    }
    io.stdout(decoder.decode());
    return;
  }
  const target = resolve(io.cwd, output);
  const partial = `${target}.partial`;
  const file = createWriteStream(partial, { mode: 0o600 });
  let lines = 0;
  try {
    try {
      for await (const chunk of body) {
        for (const byte of chunk) if (byte === 0x0a) lines += 1;
        await writeChunk(file, chunk);
      }
    } catch (error) {
      throw interrupted(error);
    }
    file.end();
    await once(file, 'finish');
    await rename(partial, target);
  } catch (error) {
    file.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  ctx.out.done(`wrote ${lines} lines to ${target}`, { file: target, lines });
}

export function registerAudit(program: Command, contextOf: ContextOf, io: Io): void {
  const audit = program.command('audit').description("Read, follow and export a tenant's audit trail (needs audit.reader or tenant.admin)");

  addPaging(addFilters(audit.command('list').description('List audit events, newest first'), true)).action(async (opts: FilterOptions & PagingOptions, cmd: Command) => {
    const ctx = contextOf(cmd);
    const query = { ...filterQuery(opts), limit: opts.limit, cursor: opts.cursor };
    ctx.out.list(await ctx.list(`${await ctx.tenantPath(opts.tenant)}/audit`, query, opts.all), AUDIT_COLUMNS);
  });

  addFilters(audit.command('tail').description('Follow audit events as they happen (reconnects without losing or repeating events)'), false)
    .addOption(new Option('--count <n>', 'stop after n events').argParser(parseCount))
    .action(async (opts: FilterOptions & { count?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await tail(ctx, `${await ctx.tenantPath(opts.tenant)}/audit/stream`, filterQuery(opts), opts.count);
    });

  audit
    .command('export')
    .description('Export the trail, oldest first: ndjson (verifiable offline) or ocsf (for a SIEM)')
    .addOption(new Option('--format <format>', 'ndjson or ocsf').choices(['ndjson', 'ocsf']).default('ndjson'))
    .addOption(new Option('--since <time>', 'events at or after this ISO 8601 time').argParser(parseInstant))
    .addOption(new Option('--until <time>', 'events before this ISO 8601 time').argParser(parseInstant))
    .option('--output <file>', 'write to this file (default: stdout)')
    .addOption(tenantOption())
    .action(async (opts: { format: string; since?: string; until?: string; output?: string; tenant?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const query = { format: opts.format, since: opts.since, until: opts.until };
      await exportTrail(ctx, io, `${await ctx.tenantPath(opts.tenant)}/audit/export`, query, opts.output);
    });

  audit
    .command('public-key')
    .description('Print the public JWK that verifies audit checkpoints')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      // Always JSON: the key is meant to be saved and handed to a verifier.
      ctx.io.stdout(`${JSON.stringify(asObject(await ctx.call('GET', '/audit/public-key'), 'the audit public key'), null, 2)}\n`);
    });

  registerAuditVerify(audit, io);
}
