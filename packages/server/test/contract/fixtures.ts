import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/ids.js';
import type { Credential } from '../../src/credentials/model.js';
import type { Db, DbKind } from '../../src/db/connect.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { pino } from 'pino';
import { decodeCursor, type Page, type PageRequest } from '../../src/db/page.js';
import type { Grant } from '../../src/grants/model.js';
import type { Principal } from '../../src/principals/model.js';
import type { Resource } from '../../src/resources/model.js';
import type { SigningKey } from '../../src/signing-keys/model.js';
import { tenantStore } from '../../src/tenants/store.js';
import { DEFAULT_TENANT_SETTINGS, type Tenant } from '../../src/tenants/model.js';

/** 2026-01-01T00:00:00.123Z: past 2^32, so a timestamp truncated to 32 bits shows. */
export const T0 = 1_767_225_600_123;

export function tenant(over: Partial<Tenant> = {}): Tenant {
  return {
    id: newId(),
    name: `t-${newId().slice(-12)}`,
    displayName: 'Tenant',
    status: 'active',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** Inserts a fresh tenant and returns its id. */
export async function newTenant(db: Db, over: Partial<Tenant> = {}): Promise<string> {
  const t = tenant(over);
  await tenantStore.insert(db, t);
  return t.id;
}

export function principal(tenantId: string, over: Partial<Principal> = {}): Principal {
  return {
    id: newId(),
    tenantId,
    kind: 'service',
    displayName: 'Orders worker',
    description: null,
    status: 'active',
    sponsors: [],
    blueprintId: null,
    expiresAt: null,
    requireDpop: false,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    username: null,
    email: null,
    ...over,
  };
}

export function credential(tenantId: string, principalId: string, over: Partial<Credential> = {}): Credential {
  return {
    id: newId(),
    tenantId,
    principalId,
    type: 'secret',
    description: null,
    secretDigest: 'digest-v1:3q2-7w',
    publicJwk: null,
    thumbprint: null,
    certificate: null,
    createdAt: T0,
    expiresAt: null,
    lastUsedAt: null,
    ...over,
  };
}

export function resource(tenantId: string, over: Partial<Resource> = {}): Resource {
  return {
    id: newId(),
    tenantId,
    identifier: `api://r-${newId().slice(-12)}`,
    displayName: 'Orders API',
    description: null,
    scopes: [],
    roles: [{ name: 'orders.read', description: 'Read orders' }],
    builtin: false,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function grant(tenantId: string, principalId: string, resourceId: string, role: string, over: Partial<Grant> = {}): Grant {
  return { id: newId(), tenantId, principalId, resourceId, role, createdAt: T0, ...over };
}

export function signingKey(tenantId: string, over: Partial<SigningKey> = {}): SigningKey {
  return {
    id: newId(),
    tenantId,
    alg: 'ES256',
    status: 'active',
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' },
    sealedPrivateKey: 'sealed:v1:AAAA',
    createdAt: T0,
    activatedAt: T0,
    retiredAt: null,
    expiresAt: null,
    ...over,
  };
}

/** Runs `fn` and returns what it threw (failing when it did not throw). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to throw');
}

/**
 * Follows `nextCursor` from the first page to the last and returns every item's id in order,
 * checking that each page but the last is full and that the walk ends.
 */
export async function walk<T extends { id: string }>(limit: number, fetch: (page: PageRequest) => Promise<Page<T>>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fetch({ limit, cursor });
    ids.push(...page.items.map((i) => i.id));
    if (page.nextCursor === null) {
      assert.ok(page.items.length <= limit, `last page holds ${page.items.length} > ${limit}`);
      return ids;
    }
    assert.equal(page.items.length, limit, 'a page followed by another must be full');
    cursor = decodeCursor(page.nextCursor);
  }
  assert.fail('pagination did not end');
}

/** Ids in the order every list uses (byte order, as ids are ASCII). */
export function sorted(ids: string[]): string[] {
  return [...ids].sort();
}

/** An audit writer over `db` with a fixed clock (T0) and a silent logger. */
export function auditWriter(db: Db, kind: DbKind, clock: () => number = () => T0): AuditWriter {
  return new AuditWriter({ db, dbKind: kind, log: pino({ level: 'silent' }), clock, writerId: newId() });
}
