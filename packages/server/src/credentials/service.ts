import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { AuditActor } from '../audit/model.js';
import type { Principal } from '../principals/model.js';
import type { Deps } from '../context.js';
import { newId, randomToken } from '../crypto/ids.js';
import { apiErrors } from '../errors.js';
import { type PrincipalKind, rulesFor } from '../principals/kinds.js';
import type { PrincipalService } from '../principals/service.js';
import type { Tenant } from '../tenants/model.js';
import { parseCertificate, parsePublicJwk, type ParsedKey } from './keys.js';
import { parseFederation } from './federated.js';
import type { CreateCredentialBody, Credential, Federation } from './model.js';
import { credentialStore } from './store.js';
import { changeDirectory } from '../db/directory-change.js';
import type { Page, PageRequest } from '../db/page.js';
import { credentialRemoved, queueStop } from '../ssf/signals.js';
import { issuerUrl } from '../tenants/model.js';

const DAY_MS = 86_400_000;
/** Unexpired keys a principal may hold through self-service rotation (current, next, one spare). */
export const MAX_SELF_SERVICE_KEYS = 5;
/** Prefix so secret scanners can recognise a leaked Signet client secret. */
export const SECRET_PREFIX = 'sgn_';

/** What credential metadata may show: never the digest. */
export function describeCredential(c: Credential): Record<string, unknown> {
  return {
    id: c.id,
    principalId: c.principalId,
    ...(c.blueprintId ? { blueprintId: c.blueprintId } : {}),
    type: c.type,
    thumbprint: c.thumbprint,
    expiresAt: c.expiresAt,
    ...(c.federation ? { issuer: c.federation.issuer, audience: c.federation.audience, subject: c.federation.subject, claims: c.federation.claims } : {}),
  };
}

/**
 * A new credential for `holder` (a principal, or a blueprint lending it to agents of `holder.kind`),
 * checked against the kind's rules and the tenant's secret policy. `existingKeys` are the holder's
 * keys (a key is held once). Federated credentials are held by principals only (`holder.federated`
 * names the principal, for the duplicate check).
 */
export async function buildCredential(
  deps: Deps,
  tenant: Tenant,
  holder: { id: string; kind: PrincipalKind },
  body: CreateCredentialBody,
  existingKeys: Credential[],
  federatedHolder?: string,
): Promise<{ credential: Credential; secret?: string }> {
  const now = deps.clock();
  const rules = rulesFor(holder.kind);
  const requestedExpiry = body.expiresAt === undefined ? undefined : Date.parse(body.expiresAt);
  if (requestedExpiry !== undefined && (Number.isNaN(requestedExpiry) || requestedExpiry <= now)) {
    throw apiErrors.invalid('expiresAt must be a future ISO 8601 instant');
  }

  let secret: string | undefined;
  let parsed: ParsedKey | undefined;
  let federation: Federation | null = null;
  let expiresAt: number | null;
  if (body.type === 'secret') {
    if (!rules.mayHoldSecret) throw apiErrors.invalid(`principals of kind "${holder.kind}" cannot hold client secrets; ${rules.platformHeldKey ? 'the platform holds its key' : 'use a key'}`);
    if (!tenant.settings.allowSecrets) throw apiErrors.invalid(`tenant "${tenant.name}" does not allow client secrets; use private_key_jwt`);
    const max = now + tenant.settings.secretMaxLifetimeDays * DAY_MS;
    if (requestedExpiry !== undefined && requestedExpiry > max) {
      throw apiErrors.invalid(`expiresAt must be within ${tenant.settings.secretMaxLifetimeDays} days (tenant policy)`);
    }
    expiresAt = requestedExpiry ?? Math.min(max, now + tenant.settings.secretDefaultLifetimeDays * DAY_MS);
    secret = SECRET_PREFIX + randomToken(32);
  } else if (body.type === 'federated') {
    if (!rules.mayHoldFederated || federatedHolder === undefined) throw apiErrors.invalid(`${federatedHolder === undefined ? 'blueprints' : `principals of kind "${holder.kind}"`} cannot hold federated credentials`);
    federation = await parseFederation(body, deps.config.federation);
    expiresAt = requestedExpiry ?? null;
    const same = await credentialStore.federatedFor(deps.db, tenant.id, federation.issuer, federation.audience, federatedHolder);
    if (same.some((c) => c.federation?.subject === federation?.subject && c.federation?.claims === federation?.claims)) {
      throw apiErrors.conflict('this principal already holds a federated credential with that issuer, audience and subject or claims');
    }
  } else {
    if (!rules.mayHoldKey) throw apiErrors.invalid(`principals of kind "${holder.kind}" cannot hold client keys${rules.platformHeldKey ? '; the platform holds its key' : ''}`);
    if ((body.jwk === undefined) === (body.certificate === undefined)) throw apiErrors.invalid('a key credential needs exactly one of jwk or certificate');
    parsed = body.jwk ? await parsePublicJwk(body.jwk) : await parseCertificate(body.certificate as string, now);
    expiresAt = requestedExpiry ?? parsed.notAfter;
    if (parsed.notAfter !== null && expiresAt !== null && expiresAt > parsed.notAfter) expiresAt = parsed.notAfter;
    if (existingKeys.some((c) => c.thumbprint === parsed?.thumbprint)) throw apiErrors.conflict('this principal already holds that key');
  }

  const credential: Credential = {
    id: newId(),
    tenantId: tenant.id,
    principalId: holder.id,
    type: body.type,
    description: body.description ?? null,
    secretDigest: secret ? deps.hasher.digest(secret) : null,
    publicJwk: parsed?.jwk ?? null,
    thumbprint: parsed?.thumbprint ?? null,
    certificate: parsed?.certificate ?? null,
    createdAt: now,
    expiresAt,
    lastUsedAt: null,
    ...(federation ? { federation } : {}),
  };
  return secret === undefined ? { credential } : { credential, secret };
}

/** Credentials of principals: generated secrets (stored as digests) and public keys. */
export class CredentialService {
  constructor(
    private readonly deps: Deps,
    private readonly principals: PrincipalService,
  ) {}

  /** Adds a credential. For a secret, the returned `secret` is the only time it is ever shown. */
  async add(caller: AdminCaller, tenant: Tenant, principalId: string, body: CreateCredentialBody): Promise<{ credential: Credential; secret?: string }> {
    const principal = await this.principals.getLive(tenant, principalId);
    const existing = await credentialStore.listForPrincipal(this.deps.db, tenant.id, principal.id, 'key');
    const { credential, secret } = await buildCredential(this.deps, tenant, { id: principal.id, kind: principal.kind }, body, existing, principal.id);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await credentialStore.insert(trx, credential);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.added', actor: actorOf(caller), target: { type: 'credential', id: credential.id }, after: describeCredential(credential) }]);
    });
    return secret === undefined ? { credential } : { credential, secret };
  }

  /**
   * Self-service rotation: a principal that proved its current key (private_key_jwt) adds its
   * next public key. At most MAX_SELF_SERVICE_KEYS unexpired keys, so a stolen key cannot flood.
   */
  async addOwnKey(actor: AuditActor, tenant: Tenant, principal: Principal, jwk: Record<string, unknown>, expiresAt: number | null): Promise<Credential> {
    const now = this.deps.clock();
    if (expiresAt !== null && expiresAt <= now) throw apiErrors.invalid('expires_at must be in the future');
    const parsed = await parsePublicJwk(jwk);
    return changeDirectory(this.deps, tenant.id, async (trx) => {
      const keys = (await credentialStore.listForPrincipal(trx, tenant.id, principal.id, 'key')).filter((c) => c.expiresAt === null || c.expiresAt > now);
      if (keys.some((c) => c.thumbprint === parsed.thumbprint)) throw apiErrors.conflict('this principal already holds that key');
      if (keys.length >= MAX_SELF_SERVICE_KEYS) throw apiErrors.invalid(`a principal holds at most ${MAX_SELF_SERVICE_KEYS} keys; retire one first`);
      const credential: Credential = {
        id: newId(),
        tenantId: tenant.id,
        principalId: principal.id,
        type: 'key',
        description: 'added by the principal (self-service rotation)',
        secretDigest: null,
        publicJwk: parsed.jwk,
        thumbprint: parsed.thumbprint,
        certificate: null,
        createdAt: now,
        expiresAt,
        lastUsedAt: null,
      };
      await credentialStore.insert(trx, credential);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.added', actor, target: { type: 'credential', id: credential.id }, after: describeCredential(credential) }]);
      return credential;
    });
  }

  /** Self-service rotation: retires one of the principal's own keys, never the one it just proved. */
  async retireOwnKey(actor: AuditActor, tenant: Tenant, principal: Principal, credentialId: string, provenWith: string): Promise<void> {
    if (credentialId === provenWith) throw apiErrors.conflict('authenticate with another key to retire this one');
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const credential = await credentialStore.get(trx, tenant.id, principal.id, credentialId);
      if (!credential || credential.type !== 'key') throw apiErrors.notFound('key', credentialId);
      await credentialStore.delete(trx, tenant.id, principal.id, credentialId);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.removed', actor, target: { type: 'credential', id: credentialId }, before: describeCredential(credential) }]);
    });
  }

  /** Credentials of the tenant that expire within `days` days from now, expired ones included. */
  async expiring(tenant: Tenant, days: number, page: PageRequest): Promise<Page<Credential>> {
    return credentialStore.expiringBefore(this.deps.db, tenant.id, this.deps.clock() + days * DAY_MS, page);
  }

  async list(tenant: Tenant, principalId: string): Promise<Credential[]> {
    await this.principals.get(tenant, principalId);
    return credentialStore.listForPrincipal(this.deps.db, tenant.id, principalId);
  }

  async remove(caller: AdminCaller, tenant: Tenant, principalId: string, credentialId: string): Promise<void> {
    await this.principals.get(tenant, principalId);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      const credential = await credentialStore.get(trx, tenant.id, principalId, credentialId);
      if (!credential) throw apiErrors.notFound('credential', credentialId);
      await credentialStore.delete(trx, tenant.id, principalId, credentialId);
      await queueStop(this.deps, trx, tenant.id, credentialRemoved(issuerUrl(this.deps.config.publicUrl, tenant), principalId, credential, this.deps.clock()));
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'credential.removed', actor: actorOf(caller), target: { type: 'credential', id: credentialId }, before: describeCredential(credential) }]);
    });
  }
}
