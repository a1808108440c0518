import assert from 'node:assert/strict';
import type { BlueprintView } from '../../src/blueprints/model.js';
import { signAccessToken } from '../../src/oauth/access-token.js';
import { createPrincipal, expectStatus, uniqueName, type Admin, type PrincipalView } from '../admin/helpers.js';

export type { BlueprintView };

/** A blueprint of `tenant`; DPoP off unless asked, so plain client_credentials tests stay short. */
export async function createBlueprint(a: Admin, tenant: string, body: Record<string, unknown> = {}): Promise<BlueprintView> {
  return expectStatus(await a.call<BlueprintView>('POST', `/tenants/${tenant}/blueprints`, { name: uniqueName('bp'), requireDpop: false, ...body }), 201);
}

/** An agent of `blueprint` sponsored by `sponsors`. */
export async function createAgent(a: Admin, tenant: string, blueprint: string, sponsors: string[], extra: Record<string, unknown> = {}): Promise<PrincipalView> {
  return createPrincipal(a, tenant, { kind: 'agent', displayName: 'test agent', blueprint, sponsors, ...extra });
}

/**
 * An admin-API access token for a principal that cannot get one through a grant yet (a user, until
 * people sign in): signed with the tenant's active key exactly as the token endpoint would.
 */
export async function mintToken(a: Admin, tenant: { id: string; name: string }, sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const deps = a.s.signet.deps;
  const now = Math.floor(a.s.now() / 1000);
  const token = signAccessToken(
    {
      iss: `${a.s.url}/${tenant.name}`,
      sub,
      aud: 'urn:signet:admin',
      iat: now,
      nbf: now,
      exp: now + 300,
      jti: crypto.randomUUID(),
      client_id: sub,
      tid: tenant.id,
      kind: 'user',
      ...claims,
    },
    await deps.keys.signer(tenant.id),
  );
  assert.ok(token);
  return token;
}

/** Polls `probe` every `intervalMs` until it returns true; resolves to the elapsed ms, rejects after `timeoutMs`. */
export async function timeUntil(probe: () => Promise<boolean>, timeoutMs = 5000, intervalMs = 2): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
