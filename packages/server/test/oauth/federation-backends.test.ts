import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, createPrincipal, createTenant, expectStatus, grant, startAdmin, type Admin, type TenantView } from '../admin/helpers.js';
import { createBlueprint } from '../agents/helpers.js';
import { backends } from '../contract/backends.js';
import { githubClaims, kubernetesClaims, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.js';
import { createResource, decodeParts, expectInvalidClient, expectIssued, JWT_BEARER, LENIENT_THROTTLE, postToken, uniqueResourceId } from './helpers.js';

// The federation path end to end on every backend: candidate lookup by (tenant, issuer, audience),
// the expiring-credentials query, and jti replay through used_jtis shared by every node.
for (const backend of backends()) {
  describe(`workload identity federation end to end [${backend.kind}]`, { skip: backend.skip || undefined }, () => {
    let a: Admin;
    let issuer: OidcIssuer;
    let tenant: TenantView;
    let orders: string;
    let drop: (() => Promise<void>) | undefined;

    before(async () => {
      if (backend.unavailable) assert.fail(backend.unavailable);
      issuer = await startOidcIssuer();
      const database = backend.createDatabase ? await backend.createDatabase() : undefined;
      drop = database?.drop;
      a = await startAdmin({
        ...LENIENT_THROTTLE,
        ...(database ? { SIGNET_DATABASE_URL: database.url } : {}),
        SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: issuer.url,
        SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
        SIGNET_FEDERATION_SINGLE_USE: 'true',
      });
      tenant = await createTenant(a);
      orders = uniqueResourceId();
      await createResource(a, tenant.name, orders, ['orders.write']);
    });
    after(async () => {
      await a?.close();
      await issuer?.close();
      await drop?.();
    });

    const send = (token: string) =>
      postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${orders}/.default`, client_assertion_type: JWT_BEARER, client_assertion: token });

    it('with single use: issues for a matching subject or expression once per token, refuses a replay and a token without jti, and lists the expiring credential', async () => {
      const blueprint = await createBlueprint(a, tenant.name, { allowAppRoles: true, permissions: [{ resource: orders, roles: ['orders.write'] }] });
      const sponsor = await createPrincipal(a, tenant.name, { kind: 'user', displayName: 'Ada' });
      const p = await createPrincipal(a, tenant.name, { kind: 'agent', displayName: 'ci agent', blueprint: blueprint.name, sponsors: [sponsor.id] });
      await grant(a, tenant.name, p.id, orders, 'orders.write');
      const path = `/tenants/${tenant.name}/principals/${p.id}/credentials`;
      const expiresAt = new Date(a.s.now() + 2 * 86_400_000).toISOString();
      const bySubject = expectStatus(await a.call<{ id: string }>('POST', path, { type: 'federated', issuer: issuer.url, audience: 'api://signet-ci', subject: 'repo:acme/api:environment:prod', expiresAt }), 201);
      expectStatus(await a.call('POST', path, { type: 'federated', issuer: issuer.url, audience: 'signet', claims: 'kubernetes.io.namespace in ["payments", "billing"]' }), 201);

      const gh = await issuer.mint(githubClaims(), { now: a.s.now() });
      assert.equal(decodeParts(expectIssued(await send(gh))).payload.sub, p.id);
      expectInvalidClient(await send(gh));
      const refused = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.refused');
      assert.equal(refused?.data.federationCheck, 'replay');
      expectInvalidClient(await send(await issuer.mint(githubClaims({ jti: undefined }), { now: a.s.now() })));
      assert.equal((await auditEvents(a, tenant.id)).find((e) => e.type === 'token.refused')?.data.federationCheck, 'jti');
      assert.equal(decodeParts(expectIssued(await send(await issuer.mint(kubernetesClaims(), { now: a.s.now() })))).payload.kind, 'agent');

      const expiring = expectStatus(await a.call<{ items: { id: string }[] }>('GET', `/tenants/${tenant.name}/credentials?expiringWithinDays=3`), 200);
      assert.deepEqual(expiring.items.map((c) => c.id), [bySubject.id]);
    });
  });
}
