import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { AuditActor, RequestSource } from '../audit/model.js';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import type { Db } from '../db/connect.js';
import type { Page, PageRequest } from '../db/page.js';
import { apiErrors } from '../errors.js';
import { familyStore } from '../oauth/tokens/family-store.js';
import { rulesFor } from '../principals/kinds.js';
import type { PrincipalService } from '../principals/service.js';
import type { ResourceService } from '../resources/service.js';
import { issuerUrl, type Tenant } from '../tenants/model.js';
import { type Initiator, queueStop, sessionRevoked } from '../ssf/signals.js';
import { type AdminConsentBody, type Consent, IDENTITY_RESOURCE, IDENTITY_SCOPES } from './model.js';
import { type ConsentFilter, consentStore } from './store.js';

/** What a user agreed to on the consent page for one resource. */
export interface ConsentDecision {
  resource: string;
  scopes: string[];
}

/**
 * Delegated permission: a client may act for a user with a scope only while that user (or a tenant
 * admin, for every user) consents. Consents expire (tenant consentLifetimeDays); revoking one
 * revokes the refresh-token families that rest on it.
 */
export class ConsentService {
  constructor(
    private readonly deps: Deps,
    private readonly principals: PrincipalService,
    private readonly resources: ResourceService,
  ) {}

  /** Unexpired consents covering `userId` with `clientId` (their own and admin consents). */
  live(tenantId: string, userId: string, clientId: string): Promise<Consent[]> {
    return consentStore.live(this.deps.db, tenantId, userId, clientId, this.deps.clock());
  }

  /** Records the user's decision on the consent page: scopes are added to what they already consented to, and the expiry starts again. */
  async recordUserConsent(tenant: Tenant, userId: string, clientId: string, decisions: ConsentDecision[], source: RequestSource): Promise<Consent[]> {
    const actor: AuditActor = { id: userId, jti: null, tenantId: tenant.id, source };
    return this.deps.db.transaction().execute(async (trx) => {
      const saved: Consent[] = [];
      for (const d of decisions.filter((d) => d.scopes.length > 0)) saved.push(await this.upsert(trx, tenant, userId, clientId, d, userId, actor));
      return saved;
    });
  }

  /** Admin consent: for one user, or (no user) for every user of the tenant. */
  async adminGrant(caller: AdminCaller, tenant: Tenant, body: AdminConsentBody): Promise<Consent> {
    const client = await this.principals.getLive(tenant, body.client);
    if (!rulesFor(client.kind).maySignInUsers) throw apiErrors.invalid(`principals of kind "${client.kind}" are not clients users sign in to`);
    if (body.user !== undefined) {
      const user = await this.principals.getLive(tenant, body.user);
      if (!rulesFor(user.kind).mayConsent) throw apiErrors.invalid(`principal "${body.user}" is not a user`);
    }
    let resource = body.resource;
    let offered: readonly string[] = IDENTITY_SCOPES;
    if (resource !== IDENTITY_RESOURCE) {
      const found = await this.resources.resolve(tenant, body.resource);
      resource = found.identifier;
      offered = found.scopes.map((s) => s.name);
    }
    const unknown = body.scopes.filter((s) => !offered.includes(s));
    if (unknown.length > 0) throw apiErrors.invalid(`resource "${resource}" offers no scope ${unknown.map((s) => `"${s}"`).join(', ')}`, { scopes: offered });
    return this.deps.db.transaction().execute((trx) => this.upsert(trx, tenant, body.user ?? null, client.id, { resource, scopes: body.scopes }, caller.principalId, actorOf(caller)));
  }

  list(tenant: Tenant, filter: ConsentFilter, page: PageRequest): Promise<Page<Consent>> {
    return consentStore.list(this.deps.db, tenant.id, filter, page);
  }

  async get(tenant: Tenant, id: string): Promise<Consent> {
    const consent = await consentStore.get(this.deps.db, tenant.id, id);
    if (!consent) throw apiErrors.notFound('consent', id);
    return consent;
  }

  /** An admin revokes any consent of the tenant. */
  async revoke(caller: AdminCaller, tenant: Tenant, id: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const consent = await consentStore.get(trx, tenant.id, id);
      if (!consent) throw apiErrors.notFound('consent', id);
      await this.revokeIn(trx, tenant, consent, actorOf(caller), 'admin');
    });
  }

  /** The consents a user gave themselves (admin consents for everyone are not theirs to revoke), newest first. */
  async listForUser(tenant: Tenant, userId: string): Promise<Consent[]> {
    const items: Consent[] = [];
    let cursor: string | undefined;
    do {
      const page = await consentStore.list(this.deps.db, tenant.id, { userId }, { limit: 500, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ? page.items.at(-1)?.id : undefined;
    } while (cursor);
    return items.reverse();
  }

  /** A user revokes one of their own consents; someone else's is "not found". */
  async revokeForUser(tenant: Tenant, userId: string, consentId: string, source: RequestSource = {}): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const consent = await consentStore.get(trx, tenant.id, consentId);
      if (!consent || consent.userId !== userId) throw apiErrors.notFound('consent', consentId);
      await this.revokeIn(trx, tenant, consent, { id: userId, jti: null, tenantId: tenant.id, source }, 'user');
    });
  }

  private async upsert(trx: Db, tenant: Tenant, userId: string | null, clientId: string, d: ConsentDecision, grantedBy: string, actor: AuditActor): Promise<Consent> {
    const now = this.deps.clock();
    const expiresAt = now + tenant.settings.consentLifetimeDays * 86_400_000;
    const before = await consentStore.find(trx, tenant.id, userId, clientId, d.resource);
    const stillValid = before && before.expiresAt > now ? before.scopes : [];
    const after: Consent = before
      ? { ...before, scopes: [...new Set([...stillValid, ...d.scopes])], grantedBy, updatedAt: now, expiresAt }
      : { id: newId(), tenantId: tenant.id, userId, clientId, resource: d.resource, scopes: [...new Set(d.scopes)], grantedBy, createdAt: now, updatedAt: now, expiresAt };
    if (before) await consentStore.update(trx, after);
    else await consentStore.insert(trx, after);
    await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'consent.granted', actor, target: { type: 'consent', id: after.id }, before, after }]);
    return after;
  }

  /** Deletes the consent and revokes every token family resting on it, in one transaction. */
  /**
   * Ends a consent: its refresh-token families are revoked and every access token derived from it
   * introspects inactive (policy/consent.ts); receivers hear of it as a CAEP session-revoked for the
   * user (or, for an admin consent for everyone, the client).
   */
  private async revokeIn(trx: Db, tenant: Tenant, consent: Consent, actor: AuditActor, initiator: Initiator): Promise<void> {
    const now = this.deps.clock();
    const families = (await familyStore.liveFor(trx, consent.tenantId, consent.clientId, consent.userId)).filter((f) => f.consentIds.includes(consent.id));
    for (const family of families) await familyStore.revoke(trx, consent.tenantId, family.id, now, 'consent_revoked');
    await consentStore.delete(trx, consent.tenantId, consent.id);
    await this.deps.audit.recordInTransaction(trx, [
      { tenantId: consent.tenantId, type: 'consent.revoked', actor, target: { type: 'consent', id: consent.id }, before: consent, after: { userId: consent.userId, clientId: consent.clientId, revokedTokenFamilies: families.map((f) => f.id) } },
    ]);
    const reason = `consent for ${consent.clientId} on ${consent.resource} revoked`;
    await queueStop(this.deps, trx, tenant.id, sessionRevoked(issuerUrl(this.deps.config.publicUrl, tenant), consent.userId ?? consent.clientId, initiator, reason, now));
  }
}
