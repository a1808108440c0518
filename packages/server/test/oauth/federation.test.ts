import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, createPrincipal, createTenant, expectError, expectStatus, grant, startAdmin, type Admin, type CreatedCredential, type TenantView } from '../admin/helpers.js';
import { githubClaims, kubernetesClaims, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.js';
import { createResource, decodeParts, expectInvalidClient, expectIssued, JWT_BEARER, LENIENT_THROTTLE, postToken, uniqueResourceId, type TokenResponse } from './helpers.js';

const GH_AUDIENCE = 'api://signet-ci';
const RELEASE_EXPRESSION = 'repository == "acme/api" && ref matches "refs/heads/release/*" && environment == "prod"';

describe('token endpoint: workload identity federation (client_assertion from an external issuer)', () => {
  let a: Admin;
  let tenant: TenantView;
  let orders: string;
  let gh: OidcIssuer;
  let k8s: OidcIssuer;
  let untrusted: OidcIssuer;
  let privateIssuer: OidcIssuer;
  /** Keys configured on the credential: never fetched. */
  let offline: OidcIssuer;
  /** Its own key cache, for counting fetches. */
  let rotating: OidcIssuer;
  let bySubject: string;
  let byExpression: string;
  let kube: string;
  let subjectCredential: CreatedCredential;

  const send = (assertion: string, extra: Record<string, string> = {}): Promise<TokenResponse> =>
    postToken(a.s.url, tenant.name, { grant_type: 'client_credentials', scope: `${orders}/.default`, client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra });
  const now = () => a.s.now();

  async function federatedPrincipal(credentials: Record<string, unknown>[]): Promise<{ id: string; credentials: CreatedCredential[] }> {
    const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'ci deployer' });
    await grant(a, tenant.name, p.id, orders, 'orders.write');
    const created: CreatedCredential[] = [];
    for (const body of credentials) {
      created.push(expectStatus(await a.call<CreatedCredential>('POST', `/tenants/${tenant.name}/principals/${p.id}/credentials`, { type: 'federated', ...body }), 201));
    }
    return { id: p.id, credentials: created };
  }

  /** The newest token.refused event's data: which federation check failed, and why. */
  async function lastRefusal(): Promise<Record<string, unknown>> {
    const event = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.refused');
    assert.ok(event, 'no token.refused event');
    return event.data;
  }

  async function expectRefused(res: TokenResponse, check: string): Promise<Record<string, unknown>> {
    expectInvalidClient(res);
    const data = await lastRefusal();
    assert.equal(data.error, 'invalid_client');
    assert.equal(data.federationCheck, check, JSON.stringify(data));
    return data;
  }

  before(async () => {
    [gh, k8s, untrusted, privateIssuer, offline, rotating] = await Promise.all([
      startOidcIssuer(),
      startOidcIssuer(),
      startOidcIssuer(),
      startOidcIssuer('127.0.0.2'),
      startOidcIssuer(),
      startOidcIssuer(),
    ]);
    a = await startAdmin({
      ...LENIENT_THROTTLE,
      SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS: [gh, k8s, untrusted, privateIssuer, offline, rotating].map((i) => i.url).join(','),
      SIGNET_FEDERATION_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
    });
    tenant = await createTenant(a);
    orders = uniqueResourceId();
    await createResource(a, tenant.name, orders, ['orders.write']);
    const s = await federatedPrincipal([{ issuer: gh.url, audience: GH_AUDIENCE, subject: 'repo:acme/api:environment:prod', description: 'deploy from prod environment' }]);
    bySubject = s.id;
    subjectCredential = s.credentials[0] as CreatedCredential;
    byExpression = (await federatedPrincipal([{ issuer: gh.url, audience: 'api://signet-release', claims: RELEASE_EXPRESSION }])).id;
    kube = (await federatedPrincipal([{ issuer: k8s.url, audience: 'signet', claims: 'kubernetes.io.namespace == "payments" && kubernetes.io.serviceaccount.name == "api"' }])).id;
  });
  after(async () => {
    await a.close();
    await Promise.all([gh, k8s, untrusted, privateIssuer, offline, rotating].map((i) => i.close()));
  });

  describe('accepts', () => {
    it('a GitHub Actions token whose subject a credential names exactly, and records the match in token.issued', async () => {
      const external = await gh.mint(githubClaims(), { now: now() });
      const res = await send(external, { client_id: bySubject });
      const token = decodeParts(expectIssued(res)).payload;
      assert.equal(token.sub, bySubject);
      assert.equal(token.client_id, bySubject);
      assert.deepEqual(token.roles, ['orders.write']);
      const event = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.issued' && e.jti === token.jti);
      assert.ok(event);
      assert.equal(event.credentialId, subjectCredential.id);
      assert.equal(event.credentialType, 'federated');
      assert.equal(event.data.authMethod, 'federated_jwt');
      assert.deepEqual(event.data.federation, { credentialId: subjectCredential.id, issuer: gh.url, subject: 'repo:acme/api:environment:prod', jti: decodeParts(external).payload.jti });
    });

    // Kubernetes hands a pod the same projected token until 80 % of its life, and Azure Identity / MSAL
    // send it for every token they need meanwhile (another resource, a refresh, a restarted process).
    it('the same external token again, until it expires (single use is opt-in: SIGNET_FEDERATION_SINGLE_USE)', async () => {
      const external = await k8s.mint(kubernetesClaims(), { now: now(), ttl: 3600 });
      const first = decodeParts(expectIssued(await send(external))).payload;
      try {
        a.s.advance(30 * 60_000);
        const second = decodeParts(expectIssued(await send(external))).payload;
        assert.equal(second.sub, kube);
        assert.notEqual(second.jti, first.jti);
        const uses = (await auditEvents(a, tenant.id)).filter((e) => e.type === 'token.issued' && (e.data.federation as { jti?: string } | undefined)?.jti === decodeParts(external).payload.jti);
        assert.deepEqual(uses.map((e) => e.jti).sort(), [first.jti, second.jti].sort());
        a.s.advance(31 * 60_000);
        await expectRefused(await send(external), 'expired');
      } finally {
        a.s.advance(-61 * 60_000);
      }
    });

    it('a token without jti (Kubernetes before 1.29), recorded without one', async () => {
      const token = decodeParts(expectIssued(await send(await k8s.mint(kubernetesClaims({ jti: undefined }), { now: now() })))).payload;
      const event = (await auditEvents(a, tenant.id)).find((e) => e.type === 'token.issued' && e.jti === token.jti);
      assert.deepEqual(Object.keys(event?.data.federation as object).sort(), ['credentialId', 'issuer', 'subject']);
    });

    it('the same token without client_id: the principal is found by issuer, audience and subject', async () => {
      const token = decodeParts(expectIssued(await send(await gh.mint(githubClaims(), { now: now() })))).payload;
      assert.equal(token.sub, bySubject);
    });

    it('a token matching a claims expression (glob on ref)', async () => {
      const claims = githubClaims({ aud: 'api://signet-release', sub: 'repo:acme/api:ref:refs/heads/release/2026.11' });
      assert.equal(decodeParts(expectIssued(await send(await gh.mint(claims, { now: now() })))).payload.sub, byExpression);
    });

    it('a Kubernetes service account token, through the nested kubernetes.io claim', async () => {
      assert.equal(decodeParts(expectIssued(await send(await k8s.mint(kubernetesClaims(), { now: now() })))).payload.sub, kube);
    });

    it('keys configured on the credential (PEM), without discovery', async () => {
      const p = await federatedPrincipal([{ issuer: offline.url, audience: 'signet', subject: 'system:serviceaccount:jobs:batch', keys: [(offline.keys[0] as { publicPem: string }).publicPem] }]);
      const res = await send(await offline.mint(kubernetesClaims({ sub: 'system:serviceaccount:jobs:batch' }), { now: now() }), { client_id: p.id });
      assert.equal(decodeParts(expectIssued(res)).payload.sub, p.id);
      assert.equal(offline.hits.size, 0, 'no discovery or JWKS fetch');
    });
  });

  describe('refuses, each with invalid_client and the failed check in the audit trail', () => {
    it('wrong issuer', async () => {
      await expectRefused(await send(await untrusted.mint(githubClaims(), { now: now() })), 'issuer');
    });

    it('wrong audience', async () => {
      await expectRefused(await send(await gh.mint(githubClaims({ aud: 'api://someone-else' }), { now: now() })), 'audience');
    });

    it('expired', async () => {
      await expectRefused(await send(await gh.mint(githubClaims(), { now: now() - 400_000, ttl: 300 })), 'expired');
    });

    it('nbf in the future beyond the allowed skew', async () => {
      await expectRefused(await send(await gh.mint(githubClaims({ nbf: Math.floor(now() / 1000) + 120 }), { now: now() })), 'nbf');
    });

    it('iat in the future', async () => {
      const iat = Math.floor(now() / 1000) + 120;
      await expectRefused(await send(await gh.mint(githubClaims({ iat, nbf: undefined, exp: iat + 300 }), { now: now() })), 'iat');
    });

    it('older than the maximum assertion age', async () => {
      const iat = Math.floor(now() / 1000) - 7200;
      await expectRefused(await send(await gh.mint(githubClaims({ iat, nbf: iat, exp: iat + 86_000 }), { now: now() })), 'age');
    });

    it('lifetime over 24 hours', async () => {
      await expectRefused(await send(await gh.mint(githubClaims(), { now: now(), ttl: 2 * 86_400 })), 'lifetime');
    });

    it('unknown kid', async () => {
      const stranger = await gh.unpublishedKey();
      await expectRefused(await send(await gh.mint(githubClaims(), { now: now(), key: stranger })), 'kid');
    });

    it('a published kid with a signature by another key', async () => {
      const stranger = await gh.unpublishedKey();
      await expectRefused(await send(await gh.mint(githubClaims(), { now: now(), key: stranger, kid: (gh.keys[0] as { kid: string }).kid })), 'signature');
    });

    it('alg none', async () => {
      await expectRefused(await send(gh.mintNone(githubClaims())), 'alg');
    });

    it('HS256 signed with the issuer\'s public key', async () => {
      await expectRefused(await send(gh.mintHs256WithPublicKey(githubClaims())), 'alg');
    });

    it('subject mismatch', async () => {
      await expectRefused(await send(await gh.mint(githubClaims({ sub: 'repo:acme/api:environment:staging' }), { now: now() }), { client_id: bySubject }), 'subject');
    });

    it('claims expression mismatch (ref outside release/*)', async () => {
      const claims = githubClaims({ aud: 'api://signet-release', ref: 'refs/heads/main' });
      await expectRefused(await send(await gh.mint(claims, { now: now() })), 'claims');
    });

    it('claims expression mismatch (another namespace)', async () => {
      const claims = kubernetesClaims({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'api' } } });
      await expectRefused(await send(await k8s.mint(claims, { now: now() })), 'claims');
    });

    it('an issuer URL pointing at a private address (never contacted)', async () => {
      const p = await federatedPrincipal([{ issuer: privateIssuer.url, audience: 'signet', subject: 'system:serviceaccount:payments:api' }]);
      const data = await expectRefused(await send(await privateIssuer.mint(kubernetesClaims(), { now: now() }), { client_id: p.id }), 'keys');
      assert.match(String(data.reason), /address: .*127\.0\.0\.2.*private, loopback, link-local or reserved/);
      assert.equal(privateIssuer.hits.size, 0);
    });

    it('a client_id whose principal holds no credential for the issuer', async () => {
      await expectRefused(await send(await gh.mint(githubClaims({ aud: 'api://signet-release' }), { now: now() }), { client_id: bySubject }), 'audience');
    });

    it('a token that matches credentials of two principals, without client_id', async () => {
      const twin = await federatedPrincipal([{ issuer: gh.url, audience: GH_AUDIENCE, subject: 'repo:acme/twin:environment:prod' }]);
      await federatedPrincipal([{ issuer: gh.url, audience: GH_AUDIENCE, claims: 'repository == "acme/twin"' }]);
      const claims = githubClaims({ sub: 'repo:acme/twin:environment:prod', repository: 'acme/twin' });
      await expectRefused(await send(await gh.mint(claims, { now: now() })), 'ambiguous');
      assert.equal(decodeParts(expectIssued(await send(await gh.mint(claims, { now: now() }), { client_id: twin.id }))).payload.sub, twin.id);
    });

    it('a disabled principal', async () => {
      const p = await federatedPrincipal([{ issuer: gh.url, audience: GH_AUDIENCE, subject: 'repo:acme/disabled:environment:prod' }]);
      expectStatus(await a.call('POST', `/tenants/${tenant.name}/principals/${p.id}/disable`), 200);
      expectInvalidClient(await send(await gh.mint(githubClaims({ sub: 'repo:acme/disabled:environment:prod' }), { now: now() })));
    });

    it('an expired credential, at once', async () => {
      const p = await federatedPrincipal([{ issuer: gh.url, audience: GH_AUDIENCE, subject: 'repo:acme/expiring:environment:prod', expiresAt: new Date(now() + 60_000).toISOString() }]);
      const claims = githubClaims({ sub: 'repo:acme/expiring:environment:prod' });
      expectIssued(await send(await gh.mint(claims, { now: now() }), { client_id: p.id }));
      a.s.advance(61_000);
      try {
        await expectRefused(await send(await gh.mint(claims, { now: now() }), { client_id: p.id }), 'credential');
      } finally {
        a.s.advance(-61_000);
      }
    });
  });

  describe('issuer keys', () => {
    it('are fetched once and cached (Cache-Control), re-fetched once for an unknown kid, and re-fetches are rate-limited', async () => {
      const issuer = rotating;
      {
        const p = await federatedPrincipal([{ issuer: issuer.url, audience: 'signet', claims: 'sub matches "system:serviceaccount:payments:*"' }]);
        const mint = (o: Parameters<OidcIssuer['mint']>[1] = {}) => issuer.mint(kubernetesClaims(), { now: now(), ...o });
        for (let i = 0; i < 3; i++) expectIssued(await send(await mint(), { client_id: p.id }));
        assert.equal(issuer.hits.get('/jwks'), 1);
        assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1);

        // Within the refetch interval an unknown kid causes no fetch at all.
        const next = await issuer.addKey('ES256');
        await expectRefused(await send(await mint({ key: next }), { client_id: p.id }), 'kid');
        assert.equal(issuer.hits.get('/jwks'), 1);

        // After it, one re-fetch finds the new key.
        a.s.advance(31_000);
        try {
          expectIssued(await send(await mint({ key: next }), { client_id: p.id }));
          assert.equal(issuer.hits.get('/jwks'), 2);
          const stranger = await issuer.unpublishedKey();
          await expectRefused(await send(await mint({ key: stranger }), { client_id: p.id }), 'kid');
          await expectRefused(await send(await mint({ key: stranger }), { client_id: p.id }), 'kid');
          assert.equal(issuer.hits.get('/jwks'), 2, 'unknown kids right after a fetch cause no re-fetch');
        } finally {
          a.s.advance(-31_000);
        }
      }
    });
  });

  describe('admin API', () => {
    it('rejects an invalid claims expression with 400 and the error position', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'bad expression' });
      const res = await a.call<{ code: string; message: string; details: { position: number } }>('POST', `/tenants/${tenant.name}/principals/${p.id}/credentials`, {
        type: 'federated',
        issuer: gh.url,
        audience: 'x',
        claims: 'repository == "acme/api" && ref matches',
      });
      expectError(res, 400, 'invalid_request');
      assert.equal(res.body.details.position, 39);
      assert.match(res.body.message, /^claims: expected a quoted glob pattern after "matches" but found the end of the expression at position 39/);
    });

    it('refuses plain http issuers that are not allowed, subject and claims together, and users', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service', displayName: 'http issuer' });
      const path = `/tenants/${tenant.name}/principals/${p.id}/credentials`;
      expectError(await a.call('POST', path, { type: 'federated', issuer: 'http://issuer.example', audience: 'x', subject: 's' }), 400, 'invalid_request');
      expectError(await a.call('POST', path, { type: 'federated', issuer: 'https://issuer.example', audience: 'x', subject: 's', claims: 'a == "b"' }), 400, 'invalid_request');
      expectError(await a.call('POST', path, { type: 'federated', issuer: 'https://issuer.example', audience: 'x' }), 400, 'invalid_request');
      const user = await createPrincipal(a, tenant.name, { kind: 'user', displayName: 'Ada' });
      expectError(await a.call('POST', `/tenants/${tenant.name}/principals/${user.id}/credentials`, { type: 'federated', issuer: 'https://issuer.example', audience: 'x', subject: 's' }), 400, 'invalid_request');
      expectStatus(await a.call('POST', path, { type: 'federated', issuer: 'https://issuer.example', audience: 'x', subject: 's' }), 201);
      expectError(await a.call('POST', path, { type: 'federated', issuer: 'https://issuer.example', audience: 'x', subject: 's' }), 409, 'conflict');
    });

    it('shows issuer, audience, subject and claims, and lists last use', async () => {
      const list = expectStatus(await a.call<{ items: (CreatedCredential & { issuer: string; subject: string | null; claims: string | null })[] }>('GET', `/tenants/${tenant.name}/principals/${bySubject}/credentials`), 200);
      const [c] = list.items;
      assert.ok(c);
      assert.equal(c.type, 'federated');
      assert.equal(c.issuer, gh.url);
      assert.equal(c.subject, 'repo:acme/api:environment:prod');
      assert.equal(c.claims, null);
      assert.equal(typeof c.lastUsedAt, 'string');
    });
  });
});
