import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  createPrincipal,
  createTenant,
  expectAudit,
  expectError,
  expectStatus,
  grant,
  selfSignedCertificate,
  startAdmin,
  type Admin,
  type CreatedCredential,
  type CredentialView,
  type PrincipalView,
  type TenantView,
} from './helpers.js';
import { createBlueprint } from '../agents/helpers.js';

const DAY_MS = 86_400_000;

function publicJwk(type: 'ec' | 'ed25519' | 'rsa2048' | 'rsa1024'): JWK {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: type === 'rsa2048' ? 2048 : 1024 });
  return pair.publicKey.export({ format: 'jwk' }) as JWK;
}

function privateJwk(): JWK {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK;
}

describe('admin API: credentials', () => {
  let a: Admin;
  let tenant: TenantView;
  let service: PrincipalView;
  const credentials = (principalId: string) => `/tenants/${tenant.name}/principals/${principalId}/credentials`;
  const add = (principalId: string, body: unknown) => a.call<CreatedCredential>('POST', credentials(principalId), body);
  const list = async (principalId: string) => expectStatus(await a.call<{ items: CredentialView[] }>('GET', credentials(principalId)), 200).items;

  before(async () => {
    a = await startAdmin();
    tenant = await createTenant(a);
    service = await createPrincipal(a, tenant.name, { kind: 'service' });
  });
  after(() => a.close());

  describe('secrets', () => {
    it('a secret is returned once at creation and never in the list', async () => {
      const created = expectStatus(await add(service.id, { type: 'secret', description: 'ci' }), 201);
      assert.match(created.secret ?? '', /^sgn_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.type, 'secret');
      assert.equal(created.description, 'ci');
      assert.equal(created.thumbprint, null);
      assert.equal(created.publicJwk, null);
      const listed = (await list(service.id)).find((c) => c.id === created.id);
      assert.ok(listed);
      assert.ok(!('secret' in listed));
      assert.ok(!JSON.stringify(await list(service.id)).includes(created.secret ?? '-'));
      const event = await expectAudit(a, tenant.id, 'credential.added', created.id);
      assert.ok(!JSON.stringify(event.data).includes(created.secret ?? '-'), 'the audit event never holds the secret');
    });

    it('the secret authenticates its principal at the token endpoint', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service' });
      const created = expectStatus(await add(p.id, { type: 'secret' }), 201);
      await grant(a, tenant.name, p.id, 'urn:signet:admin', 'tenant.reader');
      const token = await a.s.tokenFor(tenant.name, p.id, created.secret ?? '', 'urn:signet:admin/.default');
      expectStatus(await a.call('GET', `/tenants/${tenant.name}/principals`, undefined, token), 200);
    });

    it('a secret without expiresAt expires after the tenant default of 90 days', async () => {
      const start = a.s.now();
      const created = expectStatus(await add(service.id, { type: 'secret' }), 201);
      const expiresAt = Date.parse(created.expiresAt ?? '');
      assert.ok(Math.abs(expiresAt - (start + 90 * DAY_MS)) < 60_000, created.expiresAt ?? 'null');
    });

    it('a secret may expire earlier than the default, on request', async () => {
      const wanted = new Date(a.s.now() + 7 * DAY_MS).toISOString();
      const created = expectStatus(await add(service.id, { type: 'secret', expiresAt: wanted }), 201);
      assert.equal(created.expiresAt, wanted);
    });

    it('an expiry beyond the tenant maximum is 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'secret', expiresAt: new Date(a.s.now() + 366 * DAY_MS).toISOString() }), 400, 'invalid_request');
    });

    it('an expiry in the past or not an ISO instant is 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'secret', expiresAt: new Date(a.s.now() - 1000).toISOString() }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'secret', expiresAt: 'next tuesday' }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'secret', expiresAt: a.s.now() + DAY_MS }), 400, 'invalid_request');
    });

    it('a tenant with allowSecrets:false refuses secrets with 400 invalid_request', async () => {
      const strict = await createTenant(a, { settings: { allowSecrets: false } });
      const p = await createPrincipal(a, strict.name, { kind: 'service' });
      expectError(await a.call('POST', `/tenants/${strict.name}/principals/${p.id}/credentials`, { type: 'secret' }), 400, 'invalid_request');
    });

    it('the tenant default lifetime follows its settings', async () => {
      const short = await createTenant(a, { settings: { secretDefaultLifetimeDays: 3, secretMaxLifetimeDays: 10 } });
      const p = await createPrincipal(a, short.name, { kind: 'service' });
      const start = a.s.now();
      const created = expectStatus(await a.call<CreatedCredential>('POST', `/tenants/${short.name}/principals/${p.id}/credentials`, { type: 'secret' }), 201);
      assert.ok(Math.abs(Date.parse(created.expiresAt ?? '') - (start + 3 * DAY_MS)) < 60_000);
    });

    // The kinds table decides this; the service reports it as an invalid request (see report).
    for (const kind of ['managed', 'user'] as const) {
      it(`a secret on a ${kind} principal is refused with 400 invalid_request`, async () => {
        const p = await createPrincipal(a, tenant.name, { kind });
        expectError(await add(p.id, { type: 'secret' }), 400, 'invalid_request');
        assert.deepEqual(await list(p.id), []);
      });
    }

    it('an agent may hold a secret', async () => {
      const user = await createPrincipal(a, tenant.name, { kind: 'user' });
      const agent = await createPrincipal(a, tenant.name, { kind: 'agent', blueprint: (await createBlueprint(a, tenant.name)).id, sponsors: [user.id] });
      expectStatus(await add(agent.id, { type: 'secret' }), 201);
    });
  });

  describe('keys', () => {
    for (const type of ['ec', 'ed25519', 'rsa2048'] as const) {
      it(`a public ${type} JWK is accepted and its RFC 7638 thumbprint recorded`, async () => {
        const jwk = publicJwk(type);
        const created = expectStatus(await add(service.id, { type: 'key', jwk: { ...jwk, kid: 'k1' } }), 201);
        assert.equal(created.thumbprint, await calculateJwkThumbprint(jwk, 'sha256'));
        assert.equal(created.secret, undefined);
        assert.equal(created.publicJwk?.kid, 'k1');
        assert.equal(created.expiresAt, null);
        await expectAudit(a, tenant.id, 'credential.added', created.id);
      });
    }

    // Signet holds a managed identity's key pair; a key someone else holds would be a way around it.
    it('a key on a managed principal is refused with 400 invalid_request', async () => {
      const managed = await createPrincipal(a, tenant.name, { kind: 'managed' });
      expectError(await add(managed.id, { type: 'key', jwk: publicJwk('ec') }), 400, 'invalid_request');
      assert.deepEqual(await list(managed.id), []);
    });

    it('a private JWK is 400 invalid_request and nothing is stored', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service' });
      expectError(await add(p.id, { type: 'key', jwk: privateJwk() }), 400, 'invalid_request');
      assert.deepEqual(await list(p.id), []);
    });

    it('a symmetric (oct) JWK is 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'key', jwk: { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' } }), 400, 'invalid_request');
    });

    it('an RSA 1024 key is 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'key', jwk: publicJwk('rsa1024') }), 400, 'invalid_request');
    });

    it('an unsupported curve, a malformed key or an HMAC alg is 400 invalid_request', async () => {
      const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' });
      expectError(await add(service.id, { type: 'key', jwk: secp256k1 }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'key', jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'key', jwk: { ...publicJwk('ec'), alg: 'HS256' } }), 400, 'invalid_request');
    });

    it('a key credential needs exactly one of jwk and certificate', async () => {
      expectError(await add(service.id, { type: 'key' }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'key', jwk: publicJwk('ec'), certificate: selfSignedCertificate() }), 400, 'invalid_request');
    });

    it('a PEM certificate is accepted: its public key, thumbprint and expiry are recorded', async () => {
      const pem = selfSignedCertificate();
      const cert = new X509Certificate(pem);
      const jwk = cert.publicKey.export({ format: 'jwk' }) as JWK;
      const created = expectStatus(await add(service.id, { type: 'key', certificate: pem }), 201);
      assert.equal(created.thumbprint, await calculateJwkThumbprint(jwk, 'sha256'));
      assert.equal(created.publicJwk?.x, jwk.x);
      assert.equal(created.expiresAt, new Date(cert.validTo).toISOString());
    });

    it('a certificate that is not PEM is 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'key', certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), 400, 'invalid_request');
    });

    it('the same key twice on one principal is 409 conflict (also via its certificate)', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service' });
      const jwk = publicJwk('ec');
      expectStatus(await add(p.id, { type: 'key', jwk }), 201);
      expectError(await add(p.id, { type: 'key', jwk: { ...jwk, kid: 'other-kid' } }), 409, 'conflict');
      const pem = selfSignedCertificate();
      expectStatus(await add(p.id, { type: 'key', certificate: pem }), 201);
      expectError(await add(p.id, { type: 'key', jwk: new X509Certificate(pem).publicKey.export({ format: 'jwk' }) }), 409, 'conflict');
      assert.equal((await list(p.id)).length, 2);
    });

    it('a key on a user is 400 invalid_request', async () => {
      const user = await createPrincipal(a, tenant.name, { kind: 'user' });
      expectError(await add(user.id, { type: 'key', jwk: publicJwk('ec') }), 400, 'invalid_request');
    });
  });

  describe('requests', () => {
    it('unknown fields, an unknown type and wrong types are 400 invalid_request', async () => {
      expectError(await add(service.id, { type: 'secret', secret: 'chosen-by-me' }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'secret', jwk: publicJwk('ec') }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'password' }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'key', jwk: 'not-an-object' }), 400, 'invalid_request');
      expectError(await add(service.id, { type: 'secret', description: 5 }), 400, 'invalid_request');
      expectError(await add(service.id, {}), 400, 'invalid_request');
    });

    it('an unknown principal is 404 not_found; a deleted one is 409 conflict', async () => {
      const missing = '00000000-0000-7000-8000-000000000000';
      expectError(await add(missing, { type: 'secret' }), 404, 'not_found');
      expectError(await a.call('GET', credentials(missing)), 404, 'not_found');
      const p = await createPrincipal(a, tenant.name, { kind: 'service' });
      assert.equal((await a.call('DELETE', `/tenants/${tenant.name}/principals/${p.id}`)).status, 204);
      expectError(await add(p.id, { type: 'secret' }), 409, 'conflict');
    });

    it('DELETE removes a credential (204), audits credential.removed; again is 404 not_found', async () => {
      const p = await createPrincipal(a, tenant.name, { kind: 'service' });
      const created = expectStatus(await add(p.id, { type: 'secret' }), 201);
      assert.equal((await a.call('DELETE', `${credentials(p.id)}/${created.id}`)).status, 204);
      assert.deepEqual(await list(p.id), []);
      await expectAudit(a, tenant.id, 'credential.removed', created.id);
      expectError(await a.call('DELETE', `${credentials(p.id)}/${created.id}`), 404, 'not_found');
      const check = await a.s.token(tenant.name, p.id, created.secret ?? '', { scope: 'urn:signet:admin/.default' });
      assert.equal(check.status, 401, 'a removed secret no longer authenticates');
    });

    it('a credential is addressed only through its own principal', async () => {
      const owner = await createPrincipal(a, tenant.name, { kind: 'service' });
      const other = await createPrincipal(a, tenant.name, { kind: 'service' });
      const created = expectStatus(await add(owner.id, { type: 'secret' }), 201);
      expectError(await a.call('DELETE', `${credentials(other.id)}/${created.id}`), 404, 'not_found');
      assert.equal((await list(owner.id)).length, 1);
    });
  });
});
