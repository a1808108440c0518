import type { AuditActor, RequestSource } from '../audit/model.js';
import { apiErrors } from '../errors.js';
import { AUDIT_READER_ROLE, INSTALL_ADMIN_ROLE, TENANT_ADMIN_ROLE, TENANT_READER_ROLE } from '../resources/model.js';
import type { Tenant } from '../tenants/model.js';

/** Who is calling the admin API: established from a verified Signet access token. */
export interface AdminCaller {
  tenantId: string;
  principalId: string;
  jti: string;
  roles: ReadonlySet<string>;
  /** Holds `install.admin` from the install's home tenant: may manage every tenant. */
  installAdmin: boolean;
  /** Where the request came from, for the audit trail. */
  source: RequestSource;
}

export type Access = 'read' | 'write';

export function actorOf(caller: AdminCaller): AuditActor {
  return { id: caller.principalId, jti: caller.jti, tenantId: caller.tenantId, source: caller.source };
}

/**
 * A tenant's admins manage only their own tenant; install admins manage all.
 * Throws 403 otherwise. Tokens of one tenant never act in another.
 */
export function assertTenantAccess(caller: AdminCaller, tenant: Tenant, access: Access): void {
  if (caller.installAdmin) return;
  if (caller.tenantId !== tenant.id) throw apiErrors.forbidden(`the token's tenant cannot manage tenant "${tenant.name}"`);
  if (caller.roles.has(TENANT_ADMIN_ROLE)) return;
  if (access === 'read' && caller.roles.has(TENANT_READER_ROLE)) return;
  throw apiErrors.forbidden(`this operation needs the ${access === 'read' ? `${TENANT_READER_ROLE} or ` : ''}${TENANT_ADMIN_ROLE} role`);
}

/**
 * Reading a tenant's audit trail needs `audit.reader` or `tenant.admin` in that tenant (install
 * admins always). `tenant.reader` is not enough: the trail shows who did what, from where.
 */
export function assertAuditAccess(caller: AdminCaller, tenant: Tenant): void {
  if (caller.installAdmin) return;
  if (caller.tenantId !== tenant.id) throw apiErrors.forbidden(`the token's tenant cannot read the audit trail of tenant "${tenant.name}"`);
  if (caller.roles.has(AUDIT_READER_ROLE) || caller.roles.has(TENANT_ADMIN_ROLE)) return;
  throw apiErrors.forbidden(`reading the audit trail needs the ${AUDIT_READER_ROLE} or ${TENANT_ADMIN_ROLE} role`);
}

/**
 * Acting on an agent as its sponsor: an active sponsor of the principal, calling with a token of
 * the principal's own tenant (the auth hook has checked the caller is still active), or anyone
 * with write access to the tenant.
 */
export function assertSponsorOrTenantAccess(caller: AdminCaller, tenant: Tenant, principal: { sponsors: readonly string[] }): void {
  if (!caller.installAdmin && caller.tenantId === tenant.id && principal.sponsors.includes(caller.principalId)) return;
  assertTenantAccess(caller, tenant, 'write');
}

export function assertInstallAdmin(caller: AdminCaller): void {
  if (!caller.installAdmin) throw apiErrors.forbidden(`this operation needs the ${INSTALL_ADMIN_ROLE} role`);
}
