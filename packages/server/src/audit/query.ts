import type { JWK } from 'jose';
import { type RawBuilder, sql, type SqlBool } from 'kysely';
import type { Db, DbKind } from '../db/connect.js';
import { parseJson } from '../db/json.js';
import { decodeCursor, type Page, toPage } from '../db/page.js';
import type { AuditEventsTable } from '../db/schema.js';
import type { ExportedCheckpoint, ExportHeader, ExportLine } from './export-format.js';
import type { AuditOutcome, AuditRecord, CheckpointBody } from './model.js';
import { indexPendingAuditEvents } from './indexer.js';
import { toAuditRecord } from './store.js';

/** What the audit trail can be filtered on. Every filter is answered from an index. */
export interface AuditFilter {
  /** An exact type (`token.issued`) or a prefix ending in `*` (`token.*`). */
  type?: string | undefined;
  outcome?: AuditOutcome | undefined;
  actor?: string | undefined;
  subject?: string | undefined;
  client?: string | undefined;
  resource?: string | undefined;
  credential?: string | undefined;
  /** A principal anywhere in the event: actor, subject, client, target or any delegation hop. */
  principal?: string | undefined;
  /** Epoch ms, inclusive, on the event's `time`. */
  since?: number | undefined;
  /** Epoch ms, exclusive, on the event's `time`. */
  until?: number | undefined;
}

/**
 * Equality filters, most selective first. Actor, subject and client are answered through
 * `audit_event_principals` (it lists every principal an event names) and then checked on their
 * column; a credential through `audit_event_credentials`; type and resource have an index
 * `(tenant_id, <column>, id)` of their own; `outcome=failure` has a partial index `(tenant_id, id)`
 * of failures, and `outcome=success` (most events) is checked on the rows of `(tenant_id, id)`.
 */
const COLUMNS = [
  ['actor', 'actor_id'],
  ['subject', 'subject_id'],
  ['client', 'client_id'],
  ['credential', 'credential_id'],
  ['resource', 'resource'],
  ['type', 'type'],
  ['outcome', 'outcome'],
] as const;
const PRINCIPAL_FILTERS = ['actor', 'subject', 'client'] as const;
type Column = (typeof COLUMNS)[number][1];

/**
 * Ids are UUIDv7 made when the event is committed; `time` is read when it is recorded, a few
 * milliseconds earlier. A time range is answered as an id range widened by this much (so that it
 * runs on the same index as every other filter) and then filtered exactly on `time`. An event
 * whose commit lagged its `time` by more than this would be missed at the edges of a time range.
 */
export const TIME_SLACK_MS = 60_000;

/** Distinct types a prefix may expand to; far more than Signet has. */
const MAX_TYPES = 1000;

/** The smallest id string of any UUIDv7 made at or after `ms` (ids compare as text). */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

export interface TimeRange {
  since?: number | undefined;
  until?: number | undefined;
}

type Direction = 'asc' | 'desc';

interface Bounds {
  /** Only ids strictly below this. */
  below?: string | undefined;
  /** Only ids strictly above this. */
  above?: string | undefined;
}

interface Equality {
  column: Column;
  value: string;
}

/** A lookup table that drives a query: every event naming `value`. */
interface Lookup {
  table: 'audit_event_principals' | 'audit_event_credentials';
  column: 'principal_id' | 'credential_id';
  value: string;
}

/** A filter resolved for one tenant: the equality filters, the driving one first; a type prefix; time. */
interface Plan {
  tenantId: string;
  lookup: Lookup | undefined;
  equal: Equality[];
  /** A `token.*` style prefix (without the `*`), when the type filter is one. */
  typePrefix: string | undefined;
  /** The prefix is the most selective filter: answer it type by type. */
  prefixDrives: boolean;
  since: number | undefined;
  until: number | undefined;
}

/**
 * Orders the filters for `select`: the first one drives the index scan. Failures are the rare
 * outcome of an authorization server, so `outcome=failure` drives before a type (which may cover
 * most of the trail: `token.*`); `outcome=success` comes last.
 */
function planOf(tenantId: string, filter: AuditFilter): Plan {
  const order: readonly (readonly [keyof AuditFilter, Column])[] =
    filter.outcome === 'failure' ? [...COLUMNS.filter(([name]) => name !== 'type'), ['type', 'type']] : COLUMNS;
  const equal: Equality[] = [];
  let typePrefix: string | undefined;
  let prefixDrives = false;
  for (const [name, column] of order) {
    const value = filter[name];
    if (typeof value !== 'string') continue;
    if (name === 'type' && value.endsWith('*')) {
      typePrefix = value.slice(0, -1);
      prefixDrives = filter.principal === undefined && equal.length === 0;
    } else {
      equal.push({ column, value });
    }
  }
  // A principal filter (or else an actor, subject or client filter) drives through audit_event_principals,
  // or else a credential filter through audit_event_credentials.
  const principal = filter.principal ?? PRINCIPAL_FILTERS.map((name) => filter[name]).find((v) => v !== undefined);
  const lookup: Lookup | undefined =
    principal !== undefined
      ? { table: 'audit_event_principals', column: 'principal_id', value: principal }
      : filter.credential !== undefined
        ? { table: 'audit_event_credentials', column: 'credential_id', value: filter.credential }
        : undefined;
  if (lookup !== undefined) prefixDrives = false;
  return { tenantId, lookup, equal, typePrefix, prefixDrives, since: filter.since, until: filter.until };
}

/**
 * Every type of a tenant's events, by a loose index scan over `(tenant_id, type, id)`: one
 * indexed probe per distinct type, however many events there are.
 */
async function distinctTypes(db: Db, tenantId: string): Promise<string[]> {
  const types: string[] = [];
  let last = '';
  while (types.length < MAX_TYPES) {
    const row = await db.selectFrom('audit_events').select('type').where('tenant_id', '=', tenantId).where('type', '>', last).orderBy('type').limit(1).executeTakeFirst();
    if (!row) break;
    types.push(row.type);
    last = row.type;
  }
  return types;
}

/**
 * Runs one query. The lookup join (or else the first equality filter) drives the index scan; on
 * SQLite every other condition is written `+column` so the planner cannot pick a less selective
 * index for it (PostgreSQL keeps statistics and chooses for itself).
 */
function select(db: Db, kind: DbKind, plan: Plan, bounds: Bounds, direction: Direction, limit: number): Promise<AuditEventsTable[]> {
  const residual = (column: string): RawBuilder<unknown> => (kind === 'sqlite' ? sql`+${sql.ref(column)}` : sql`${sql.ref(column)}`);
  const { lookup } = plan;
  const idColumn = lookup === undefined ? 'e.id' : 'p.event_id';
  const conditions: RawBuilder<SqlBool>[] = [];
  if (lookup === undefined) {
    conditions.push(sql`${sql.ref('e.tenant_id')} = ${plan.tenantId}`);
  } else {
    conditions.push(sql`${sql.ref('p.tenant_id')} = ${plan.tenantId}`, sql`${sql.ref(`p.${lookup.column}`)} = ${lookup.value}`, sql`${residual('e.tenant_id')} = ${plan.tenantId}`);
  }
  plan.equal.forEach(({ column, value }, i) => {
    const ref = i === 0 && lookup === undefined ? sql`${sql.ref(`e.${column}`)}` : residual(`e.${column}`);
    // SQLite uses the partial index of failures only when the query names the outcome literally.
    const operand = column === 'outcome' && (value === 'failure' || value === 'success') ? sql.lit(value) : sql`${value}`;
    conditions.push(sql`${ref} = ${operand}`);
  });
  if (plan.typePrefix !== undefined) conditions.push(sql`substr(${residual('e.type')}, 1, ${plan.typePrefix.length}) = ${plan.typePrefix}`);
  if (plan.since !== undefined) conditions.push(sql`${sql.ref(idColumn)} >= ${idFloor(plan.since - TIME_SLACK_MS)}`, sql`${residual('e.time')} >= ${plan.since}`);
  if (plan.until !== undefined) conditions.push(sql`${sql.ref(idColumn)} < ${idFloor(plan.until + TIME_SLACK_MS)}`, sql`${residual('e.time')} < ${plan.until}`);
  if (bounds.below !== undefined) conditions.push(sql`${sql.ref(idColumn)} < ${bounds.below}`);
  if (bounds.above !== undefined) conditions.push(sql`${sql.ref(idColumn)} > ${bounds.above}`);

  const order = sql`${sql.ref(idColumn)} ${sql.raw(direction)}`;
  if (lookup === undefined) {
    let query = db.selectFrom('audit_events as e').selectAll('e');
    for (const condition of conditions) query = query.where(condition);
    return query.orderBy(order).limit(limit).execute();
  }
  // Both lookup tables have the same shape (tenant_id, <ref>, event_id); the conditions name the ref column.
  const from = `${lookup.table} as p` as 'audit_event_principals as p';
  let query = db.selectFrom(from).innerJoin('audit_events as e', 'e.id', 'p.event_id').selectAll('e');
  for (const condition of conditions) query = query.where(condition);
  return query.orderBy(order).limit(limit).execute();
}

/**
 * Runs a plan. A type prefix on its own is expanded to the tenant's matching types and answered
 * as one exact-type index range per type, merged: a rare prefix never walks the whole trail.
 */
async function fetchRows(db: Db, kind: DbKind, plan: Plan, bounds: Bounds, direction: Direction, limit: number): Promise<AuditEventsTable[]> {
  // The lookups may trail the newest commits on SQLite: bring them up to date first.
  if (plan.lookup !== undefined) await indexPendingAuditEvents(db, kind, { tenantId: plan.tenantId });
  if (plan.prefixDrives && plan.typePrefix !== undefined) {
    const prefix = plan.typePrefix;
    const types = (await distinctTypes(db, plan.tenantId)).filter((t) => t.startsWith(prefix));
    if (types.length === 0) return [];
    const rest = plan.equal;
    const parts: AuditEventsTable[][] = [];
    for (const type of types) {
      parts.push(await select(db, kind, { ...plan, typePrefix: undefined, prefixDrives: false, equal: [{ column: 'type', value: type }, ...rest] }, bounds, direction, limit));
    }
    const merged = parts.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (direction === 'desc') merged.reverse();
    return merged.slice(0, limit);
  }
  return select(db, kind, plan, bounds, direction, limit);
}

/** Tenant-scoped reads of the audit trail for the admin API: list, follow, export. */
export const auditQuery = {
  /** One page, newest first; the cursor is the last id of the previous page. */
  async list(db: Db, kind: DbKind, tenantId: string, filter: AuditFilter, page: { limit: number; cursor?: string | undefined }): Promise<Page<AuditRecord>> {
    const rows = await fetchRows(db, kind, planOf(tenantId, filter), { below: decodeCursor(page.cursor) }, 'desc', page.limit + 1);
    return toPage(rows, page.limit, toAuditRecord);
  },

  /** Up to `limit` events with ids above `afterId` (all when undefined), oldest first. */
  async after(db: Db, kind: DbKind, tenantId: string, filter: AuditFilter, afterId: string | undefined, limit: number): Promise<AuditRecord[]> {
    const rows = await fetchRows(db, kind, planOf(tenantId, filter), { above: afterId }, 'asc', limit);
    return rows.map(toAuditRecord);
  },

  /** The newest event id of a tenant (a live stream starts after it). */
  async newestId(db: Db, tenantId: string): Promise<string | undefined> {
    const row = await db.selectFrom('audit_events').select('id').where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row?.id;
  },

  /** Every audit public key, oldest (the one in use) first. */
  async publicKeys(db: Db): Promise<JWK[]> {
    const rows = await db.selectFrom('audit_keys').select(['public_jwk']).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => parseJson<JWK>(r.public_jwk, 'audit_keys.public_jwk'));
  },

  /**
   * Checkpoints that name a chain of the tenant, and the checkpoints they link to (`prev`), by
   * id. Checkpoint bodies are JSON, so this reads the checkpoint table page by page.
   */
  async *checkpoints(db: Db, tenantId: string, pageSize = 500): AsyncGenerator<ExportedCheckpoint> {
    const sent = new Set<string>();
    const needle = `%"tenant":${JSON.stringify(tenantId)}%`;
    let after = '';
    for (;;) {
      const rows = await db.selectFrom('audit_checkpoints').selectAll().where('id', '>', after).where('body', 'like', needle).orderBy('id').limit(pageSize).execute();
      for (const row of rows) {
        const body = parseJson<CheckpointBody>(row.body, 'audit_checkpoints.body');
        if (!body.heads.some((h) => h.tenant === tenantId)) continue;
        if (body.prev && !sent.has(body.prev.id)) {
          const prev = await db.selectFrom('audit_checkpoints').selectAll().where('id', '=', body.prev.id).executeTakeFirst();
          if (prev) {
            sent.add(prev.id);
            yield exportedCheckpoint(prev);
          }
        }
        if (sent.has(row.id)) continue;
        sent.add(row.id);
        yield exportedCheckpoint(row);
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = last.id;
    }
  },

  /** Every event in a time range, oldest first, read `pageSize` at a time (never all at once). */
  async *events(db: Db, kind: DbKind, tenantId: string, range: TimeRange, pageSize = 1000): AsyncGenerator<AuditRecord> {
    let after: string | undefined;
    for (;;) {
      const events = await auditQuery.after(db, kind, tenantId, { since: range.since, until: range.until }, after, pageSize);
      yield* events;
      const last = events[events.length - 1];
      if (!last || events.length < pageSize) return;
      after = last.id;
    }
  },

  /** The NDJSON export of `export-format.ts`, line by line: header, events oldest first, checkpoints. */
  async *export(db: Db, kind: DbKind, tenantId: string, range: TimeRange, exportedAt: number): AsyncGenerator<ExportLine> {
    const header: ExportHeader = { kind: 'export', version: 1, tenant: tenantId, since: range.since ?? null, until: range.until ?? null, exportedAt, publicKeys: await auditQuery.publicKeys(db) };
    yield header;
    for await (const event of auditQuery.events(db, kind, tenantId, range)) yield { kind: 'event', ...event };
    yield* auditQuery.checkpoints(db, tenantId);
  },
};

function exportedCheckpoint(row: { id: string; writer_id: string; time: number; body: string; hash: string; signature: string }): ExportedCheckpoint {
  return { kind: 'checkpoint', id: row.id, writer: row.writer_id, time: row.time, body: row.body, hash: row.hash, signature: row.signature };
}
