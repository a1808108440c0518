import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditStore } from '../../src/audit/store.js';
import type { AuditRecord } from '../../src/audit/model.js';
import type { CredentialView } from '../../src/credentials/model.js';
import type { GrantView } from '../../src/grants/model.js';
import type { PrincipalView } from '../../src/principals/model.js';
import type { ResourceView } from '../../src/resources/model.js';
import type { TenantView } from '../../src/tenants/model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export type { CredentialView, GrantView, PrincipalView, ResourceView, TenantView };

export interface Res<T> {
  status: number;
  headers: Headers;
  body: T;
}
export interface ErrorBody {
  code: string;
  message: string;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type CreatedCredential = CredentialView & { secret?: string };

export const ADMIN_SCOPE = 'urn:signet:admin/.default';

/** A test server plus the install admin's token, fetched once per file (tokens live 10 minutes). */
export interface Admin {
  s: TestServer;
  token: string;
  /** Admin API call with the install admin's token unless `token` is given (`null`: none at all). */
  call<T = unknown>(method: string, path: string, body?: unknown, token?: string | null): Promise<Res<T>>;
  close(): Promise<void>;
}

export async function startAdmin(env: Record<string, string> = {}): Promise<Admin> {
  return adminOf(await startTestServer(env));
}

/** The admin helpers' view of a running test server (e.g. one from `describeEachServerBackend`). */
export async function adminOf(s: TestServer): Promise<Admin> {
  const admin: Admin = {
    s,
    token: await s.adminToken(),
    async call<T>(method: string, path: string, body?: unknown, token?: string | null) {
      const response = await s.api<T>(method, path, body, token === undefined ? admin.token : token);
      return response as Res<T>;
    },
    close: () => s.close(),
  };
  return admin;
}

/** Asserts an exact status and admin API error code. */
export function expectError(res: Res<unknown>, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal((res.body as ErrorBody).code, code, JSON.stringify(res.body));
}

/** Asserts a status and returns the body. */
export function expectStatus<T>(res: Res<T>, status: number): T {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

let counter = 0;
/** A tenant name no other test of this process uses. */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export async function createTenant(a: Admin, body: Record<string, unknown> = {}): Promise<TenantView> {
  return expectStatus(await a.call<TenantView>('POST', '/tenants', { name: uniqueName(), ...body }), 201);
}

export async function createPrincipal(a: Admin, tenant: string, body: Record<string, unknown>, token?: string): Promise<PrincipalView> {
  return expectStatus(await a.call<PrincipalView>('POST', `/tenants/${tenant}/principals`, { displayName: 'test principal', ...body }, token), 201);
}

export async function addSecret(a: Admin, tenant: string, principalId: string): Promise<string> {
  const created = expectStatus(await a.call<CreatedCredential>('POST', `/tenants/${tenant}/principals/${principalId}/credentials`, { type: 'secret' }), 201);
  assert.ok(created.secret);
  return created.secret;
}

export async function grant(a: Admin, tenant: string, principal: string, resource: string, role: string): Promise<GrantView> {
  return expectStatus(await a.call<GrantView>('POST', `/tenants/${tenant}/grants`, { principal, resource, role }), 201);
}

export interface Client {
  id: string;
  secret: string;
  /** A token for the admin API with every role granted on it. */
  token(): Promise<string>;
}

/** A service principal of `tenant` (name) holding `roles` on the tenant's admin resource. */
export async function adminClient(a: Admin, tenant: string, roles: string[]): Promise<Client> {
  const principal = await createPrincipal(a, tenant, { kind: 'service', displayName: `admin client ${roles.join(' ')}` });
  const secret = await addSecret(a, tenant, principal.id);
  for (const role of roles) await grant(a, tenant, principal.id, 'urn:signet:admin', role);
  return { id: principal.id, secret, token: () => a.s.tokenFor(tenant, principal.id, secret, ADMIN_SCOPE) };
}

/** Audit events of a tenant, newest first, read straight from the store. */
export function auditEvents(a: Admin, tenantId: string): Promise<AuditRecord[]> {
  return auditStore.list(a.s.signet.deps.db, tenantId, 1000);
}

/** Asserts that an audit event of `type` names `targetId`. */
export async function expectAudit(a: Admin, tenantId: string, type: string, targetId: string): Promise<AuditRecord> {
  const events = await auditEvents(a, tenantId);
  const event = events.find((e) => e.type === type && e.targetId === targetId);
  assert.ok(event, `no ${type} event for ${targetId}; have ${events.map((e) => `${e.type}:${e.targetId}`).join(', ')}`);
  return event;
}

/** Follows `nextCursor` from `path` until the end; returns every item in order. */
export async function walkPages<T>(a: Admin, path: string, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const query: string = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<T> = expectStatus(await a.call<Page<T>>('GET', `${path}${query}`), 200);
    assert.ok(page.items.length <= limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
    assert.ok(pages < 1000, 'pagination does not end');
  } while (cursor);
  return { items, pages };
}

/** A fresh self-signed P-256 certificate (PEM), valid for two days. */
export function selfSignedCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=t', '-days', '2', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
      { stdio: 'ignore' },
    );
    return readFileSync(join(dir, 'c.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The payload of a JWT, unverified (tests only). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
