import { writeFileSync, mkdirSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from './audit/model.js';
import type { Deps } from './context.js';
import { SECRET_PREFIX } from './credentials/service.js';
import { credentialStore } from './credentials/store.js';
import { newId, randomToken } from './crypto/ids.js';
import { grantStore } from './grants/store.js';
import { endpointsFor } from './oauth/metadata.js';
import { principalStore } from './principals/store.js';
import { ADMIN_RESOURCE, INSTALL_ADMIN_ROLE, TENANT_ADMIN_ROLE } from './resources/model.js';
import { resourceStore } from './resources/store.js';
import type { Services } from './services.js';
import { changeDirectory } from './db/directory-change.js';

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials.json';

/** The file the CLI reads by default; written once, mode 0600. */
export interface AdminCredentialsFile {
  issuer: string;
  token_endpoint: string;
  client_id: string;
  client_secret: string;
  scope: string;
  admin_api: string;
  tenant: string;
  expires_at: string;
}

/**
 * First start: creates the home tenant (with its admin resource and keys) and, when no principal
 * holds `install.admin` yet, an admin service principal with a secret, granted `install.admin`
 * and `tenant.admin`. Its credentials go to `<data dir>/admin-credentials.json` only.
 * Idempotent: a crash half-way is completed on the next start.
 */
export async function bootstrap(deps: Deps, services: Services): Promise<{ credentialsFile: string } | undefined> {
  const { tenant } = await services.tenants.ensureHome();
  await services.tenants.reconcileBuiltinRoles();
  const adminResource = await resourceStore.byIdentifier(deps.db, tenant.id, ADMIN_RESOURCE);
  if (!adminResource) throw new Error(`the ${tenant.name} tenant has no ${ADMIN_RESOURCE} resource`);
  const existing = await grantStore.list(deps.db, tenant.id, { resourceId: adminResource.id }, { limit: 500 });
  if (existing.items.some((g) => g.role === INSTALL_ADMIN_ROLE)) return undefined;

  const now = deps.clock();
  const secret = SECRET_PREFIX + randomToken(32);
  const principalId = newId();
  const credentialId = newId();
  const expiresAt = now + tenant.settings.secretMaxLifetimeDays * 86_400_000;
  const issuer = services.tenants.issuer(tenant);
  const file: AdminCredentialsFile = {
    issuer,
    token_endpoint: endpointsFor(issuer).token,
    client_id: principalId,
    client_secret: secret,
    scope: `${ADMIN_RESOURCE}/.default`,
    admin_api: `${deps.config.publicUrl}/admin/v1`,
    tenant: tenant.name,
    expires_at: new Date(expiresAt).toISOString(),
  };
  const path = join(deps.config.dataDir, ADMIN_CREDENTIALS_FILE);
  mkdirSync(deps.config.dataDir, { recursive: true, mode: 0o700 });
  // Write the file before committing, so a committed admin always has its credentials on disk.
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });

  await changeDirectory(deps, tenant.id, async (trx) => {
    await principalStore.insert(trx, {
      id: principalId,
      tenantId: tenant.id,
      kind: 'service',
      displayName: 'Signet bootstrap admin',
      description: `Created at first start; credentials in ${ADMIN_CREDENTIALS_FILE}`,
      status: 'active',
      sponsors: [],
      blueprintId: null,
      expiresAt: null,
      requireDpop: false,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      username: null,
      email: null,
    });
    await credentialStore.insert(trx, {
      id: credentialId,
      tenantId: tenant.id,
      principalId,
      type: 'secret',
      description: 'bootstrap',
      secretDigest: deps.hasher.digest(secret),
      publicJwk: null,
      thumbprint: null,
      certificate: null,
      createdAt: now,
      expiresAt,
      lastUsedAt: null,
    });
    for (const role of [INSTALL_ADMIN_ROLE, TENANT_ADMIN_ROLE]) {
      await grantStore.insert(trx, { id: newId(), tenantId: tenant.id, principalId, resourceId: adminResource.id, role, createdAt: now });
    }
    await deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'principal.created', actor: SYSTEM_ACTOR, target: { type: 'principal', id: principalId }, after: { id: principalId, kind: 'service', bootstrap: true, roles: [INSTALL_ADMIN_ROLE, TENANT_ADMIN_ROLE] } }]);
  });
  if (existsSync(path)) deps.log.warn({ path }, 'replacing an admin credentials file whose principal no longer holds install.admin');
  renameSync(temp, path);
  deps.log.info({ path }, 'bootstrap admin created; its credentials are in this file (mode 0600)');
  return { credentialsFile: path };
}
