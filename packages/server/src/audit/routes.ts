import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { type Static, Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { assertAuditAccess } from '../admin/caller.js';
import { errorResponses, PageOf, TenantParams } from '../admin/schemas.js';
import type { Deps } from '../context.js';
import { isId } from '../crypto/ids.js';
import { DEFAULT_PAGE_SIZE } from '../db/page.js';
import { apiErrors } from '../errors.js';
import { OneOf } from '../http/schema.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import type { AuditRecord } from './model.js';
import { toOcsf } from './ocsf.js';
import { type AuditFilter, auditQuery } from './query.js';
import type { AuditWriter } from './writer.js';

const NullableString = () => Type.Union([Type.String(), Type.Null()]);
const IdParam = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const Instant = (description: string) => Type.String({ format: 'date-time', description: `${description}: an ISO 8601 date-time with a time zone, e.g. 2030-01-01T00:00:00Z` });

const Filters = {
  type: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,100}\\*?$', description: 'An event type (token.issued), or a prefix ending in * (token.*)' })),
  outcome: Type.Optional(OneOf(['success', 'failure'])),
  actor: Type.Optional(IdParam('The principal that acted (client, or admin making a change)')),
  subject: Type.Optional(IdParam('The principal a delegated token was for')),
  client: Type.Optional(IdParam('The OAuth client')),
  resource: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Resource identifier (token audience)' })),
  credential: Type.Optional(IdParam('The credential used or changed')),
  principal: Type.Optional(IdParam('A principal anywhere in the event: actor, subject, client, target or any delegation hop')),
  since: Type.Optional(Instant('Events at or after this time')),
};

export const AuditListQuery = Type.Object(
  {
    ...Filters,
    until: Type.Optional(Instant('Events before this time')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const AuditStreamQuery = Type.Object(
  {
    ...Filters,
    lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'Resume after this event id (as the Last-Event-ID header does)' })),
  },
  { additionalProperties: false },
);

export const AuditExportQuery = Type.Object(
  {
    format: Type.Optional(OneOf(['ndjson', 'ocsf'], { description: 'ndjson (default): the verifiable export (header, events, checkpoints); ocsf: one OCSF 1.3.0 event per line' })),
    since: Type.Optional(Instant('Events at or after this time')),
    until: Type.Optional(Instant('Events before this time')),
  },
  { additionalProperties: false },
);

export const AuditEventView = Type.Object({
  id: Type.String({ description: 'UUIDv7: time-ordered per writer; the stream\'s event id' }),
  tenantId: Type.String(),
  chainId: Type.String({ description: 'Hash chain (one per tenant per writer)' }),
  seq: Type.Integer({ description: 'Position in the chain, from 1' }),
  prevHash: Type.String({ description: 'Hash of the previous event of the chain ("" for the first)' }),
  hash: Type.String({ description: 'SHA-256 (base64url) of the canonical event, prevHash included' }),
  time: Type.String({ description: 'ISO 8601' }),
  type: Type.String({ description: '<resource>.<past-tense verb>, e.g. token.issued' }),
  outcome: OneOf(['success', 'failure']),
  actorId: NullableString(),
  actorKind: NullableString(),
  subjectId: NullableString(),
  clientId: NullableString(),
  credentialId: NullableString(),
  credentialType: NullableString(),
  resource: NullableString(),
  jti: NullableString(),
  targetType: NullableString(),
  targetId: NullableString(),
  sourceIp: NullableString(),
  userAgent: NullableString(),
  requestId: NullableString(),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'roles, scope, error, reason, before/after, delegation (outermost actor first)…' }),
});
export type AuditEventView = Static<typeof AuditEventView>;

export function auditView(r: AuditRecord): AuditEventView {
  return { ...r, time: new Date(r.time).toISOString() };
}

/** How often a stream looks for events it was not woken for (other nodes, directory changes). */
const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;
const STREAM_BATCH = 500;

function parseInstant(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw apiErrors.invalid(`querystring/${name} is not a valid date-time`);
  return ms;
}

function filterOf(query: Omit<Static<typeof AuditListQuery>, 'limit' | 'cursor'>): AuditFilter {
  const { since, until, ...rest } = query;
  const filter: AuditFilter = { ...rest, since: parseInstant(since, 'since'), until: parseInstant(until, 'until') };
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) throw apiErrors.invalid('since must be before until');
  return filter;
}

/** One Server-Sent Events connection: polls for events above the last one sent, oldest first. */
class AuditStream {
  private stopped = false;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private unblock: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly opts: {
      deps: Pick<Deps, 'db' | 'dbKind'>;
      writer: AuditWriter;
      log: Logger;
      tenantId: string;
      filter: AuditFilter;
      lastId: string | undefined;
      res: ServerResponse;
      /** Ends the stream when the caller's token expires; the client reconnects with a fresh one. */
      endInMs: number | undefined;
    },
  ) {
    opts.res.on('close', () => this.stop());
    this.done = this.run();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
    this.unblock?.();
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    const { deps, res } = this.opts;
    const unsubscribe = this.opts.writer.onCommit(() => this.wake());
    // A client that is behind (its buffer full) needs no ping.
    const heartbeat = setInterval(() => {
      if (!this.stopped && !res.writableNeedDrain) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    const expiry = this.opts.endInMs === undefined ? undefined : setTimeout(() => this.stop(), Math.max(0, this.opts.endInMs));
    let lastId = this.opts.lastId;
    try {
      while (!this.stopped) {
        this.woken = false;
        const events = await auditQuery.after(deps.db, deps.dbKind, this.opts.tenantId, this.opts.filter, lastId, STREAM_BATCH);
        for (const event of events) {
          if (this.stopped) break;
          await this.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(auditView(event))}\n\n`);
          lastId = event.id;
        }
        if (events.length < STREAM_BATCH && !this.woken) await this.sleep(POLL_MS);
      }
    } catch (error) {
      if (!this.stopped) this.opts.log.error({ err: error }, 'audit stream failed');
    } finally {
      unsubscribe();
      clearInterval(heartbeat);
      if (expiry) clearTimeout(expiry);
      // A client that stopped reading would hold the server's close: drop it rather than wait.
      if (res.writableNeedDrain) res.destroy();
      else res.end();
    }
  }

  /** Writes, waiting while the client's buffer is full (a slow reader slows the stream, not the server). */
  private async write(text: string): Promise<void> {
    const { res } = this.opts;
    if (this.stopped || res.writableEnded || res.destroyed) return;
    if (res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        this.unblock = undefined;
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
      this.unblock = done;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
      if (this.woken) done();
    });
  }
}

/** Seconds until the request's bearer token expires (the auth hook has verified it). */
function tokenLifetimeMs(request: FastifyRequest, now: number): number | undefined {
  const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return undefined;
  const exp = decodeJwt(token).exp;
  return exp === undefined ? undefined : exp * 1000 - now;
}

/** NDJSON text from a sequence of objects, a few kilobytes per chunk. */
async function* ndjson(lines: AsyncIterable<unknown>): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${JSON.stringify(line)}\n`;
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

async function* ocsfEvents(events: AsyncIterable<AuditRecord>): AsyncGenerator<unknown> {
  for await (const event of events) yield toOcsf(event);
}

const StreamResponse = { description: 'Server-Sent Events: `id:` event id, `event:` type, `data:` the event as JSON; `: ping` every 15 s', content: { 'text/event-stream': { schema: Type.String() } } };
const ExportResponse = { description: 'Newline-delimited JSON, streamed', content: { 'application/x-ndjson': { schema: Type.String() } } };

/** The audit trail over the admin API: query, live stream, export, and the key that signs it. */
export function registerAuditRoutes(app: FastifyInstance, deps: Deps, { tenants }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['audit'];
  const streams = new Set<AuditStream>();
  const exports = new Set<ServerResponse>();

  // Open streams and exports would keep the server from closing: end streams (clients resume with
  // Last-Event-ID), cut exports (clients see a truncated transfer, never a short file that looks whole).
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.stop();
    for (const res of exports) res.destroy();
    await Promise.all([...streams].map((s) => s.done));
  });

  const auditTenant = async (request: FastifyRequest, idOrName: string): Promise<Tenant> => {
    const tenant = await tenants.resolve(idOrName);
    assertAuditAccess(callerOf(request), tenant);
    return tenant;
  };

  r.get('/tenants/:tenant/audit', { schema: { tags, summary: 'Query the audit trail, newest first (audit.reader or tenant.admin)', params: TenantParams, querystring: AuditListQuery, response: { 200: PageOf(AuditEventView), ...errorResponses } } }, async (req) => {
    const tenant = await auditTenant(req, req.params.tenant);
    const { limit, cursor, ...filters } = req.query;
    const page = await auditQuery.list(deps.db, deps.dbKind, tenant.id, filterOf(filters), { limit: limit ?? DEFAULT_PAGE_SIZE, cursor });
    return { items: page.items.map(auditView), nextCursor: page.nextCursor };
  });

  r.get('/tenants/:tenant/audit/stream', { schema: { tags, summary: 'Follow the audit trail live (Server-Sent Events; resume with Last-Event-ID)', params: TenantParams, querystring: AuditStreamQuery, response: { 200: StreamResponse, ...errorResponses } } }, async (req, reply) => {
    const tenant = await auditTenant(req, req.params.tenant);
    const { lastEventId: queryLastId, ...filters } = req.query;
    const filter = filterOf(filters);
    const header = req.headers['last-event-id'];
    const resumeFrom = typeof header === 'string' && header !== '' ? header : queryLastId;
    if (resumeFrom !== undefined && !isId(resumeFrom)) throw apiErrors.invalid('Last-Event-ID is not an audit event id');
    // Without a resume point a stream starts now, or at `since` when given.
    const lastId = resumeFrom ?? (filter.since === undefined ? await auditQuery.newestId(deps.db, tenant.id) : undefined);

    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      'x-request-id': req.id,
    });
    reply.raw.write('retry: 1000\n\n');
    const stream = new AuditStream({ deps, writer: deps.audit, log: deps.log, tenantId: tenant.id, filter, lastId, res: reply.raw, endInMs: tokenLifetimeMs(req, deps.clock()) });
    streams.add(stream);
    void stream.done.finally(() => streams.delete(stream));
  });

  r.get('/tenants/:tenant/audit/export', { schema: { tags, summary: 'Export the audit trail, oldest first: verifiable NDJSON or OCSF (streamed)', params: TenantParams, querystring: AuditExportQuery, response: { 200: ExportResponse, ...errorResponses } } }, async (req, reply) => {
    const tenant = await auditTenant(req, req.params.tenant);
    const format = req.query.format ?? 'ndjson';
    const range = filterOf({ since: req.query.since, until: req.query.until });
    const lines = format === 'ocsf' ? ocsfEvents(auditQuery.events(deps.db, deps.dbKind, tenant.id, range)) : auditQuery.export(deps.db, deps.dbKind, tenant.id, range, deps.clock());
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'content-disposition': `attachment; filename="signet-audit-${tenant.name}${format === 'ocsf' ? '.ocsf' : ''}.ndjson"`,
      'x-content-type-options': 'nosniff',
      'x-request-id': req.id,
    });
    // A failure part-way destroys the response: the client sees a truncated transfer, never a short file that looks whole.
    exports.add(reply.raw);
    await pipeline(Readable.from(ndjson(lines)), reply.raw)
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') deps.log.error({ err: error }, 'audit export failed');
      })
      .finally(() => exports.delete(reply.raw));
  });

  r.get('/audit/public-key', { schema: { tags, summary: 'The public key (JWK) that verifies audit checkpoints (any admin caller)', response: { 200: Type.Record(Type.String(), Type.Unknown(), { description: 'Ed25519 public JWK' }), ...errorResponses } } }, async (req) => {
    callerOf(req);
    const [key] = await auditQuery.publicKeys(deps.db);
    if (!key) throw apiErrors.notFound('audit key', 'current');
    return key;
  });
}
