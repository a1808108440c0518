import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type Admin, createPrincipal, expectStatus, grant, startAdmin } from '../admin/helpers.js';
import { createResource, uniqueResourceId } from '../oauth/helpers.js';
import { loopbackGet, startDaemon, type RunningDaemon } from './daemon.js';
import { joinToken, managedSetup, type ManagedSetup } from './helpers.js';

const IMDS = '/metadata/identity/oauth2/token';

describe('signet node (a real process): IMDS and App Service on loopback', () => {
  let a: Admin;
  let setup: ManagedSetup;
  let daemon: RunningDaemon;
  let second: { id: string };
  before(async () => {
    a = await startAdmin();
    setup = await managedSetup(a);
    daemon = await startDaemon(a.s.url, setup.tenant.name, await joinToken(a, setup.tenant.name, { name: 'daemon-test' }));
    expectStatus(await a.call('PUT', `/tenants/${setup.tenant.name}/nodes/${daemon.nodeId}/identities/${setup.managed.id}`), 200);
  });
  after(async () => {
    await daemon?.stop();
    await a?.close().catch(() => undefined);
  });

  const imds = (query: Record<string, string>, headers: Record<string, string> = { Metadata: 'true' }) =>
    loopbackGet(`${daemon.url}${IMDS}?${new URLSearchParams({ 'api-version': '2018-02-01', ...query })}`, headers);

  it('IMDS: a token for the only assigned identity, every field as IMDS sends it (numbers as strings), verifiable against Signet JWKS', async () => {
    const res = await imds({ resource: setup.resource });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'client_id', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'refresh_token', 'resource', 'token_type']);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.resource, setup.resource);
    assert.equal(res.body.client_id, setup.managed.id);
    assert.equal(res.body.refresh_token, '');
    for (const field of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) assert.match(res.body[field] as string, /^\d+$/, field);
    const { payload } = await jwtVerify(res.body.access_token as string, createRemoteJWKSet(new URL(`${setup.issuer}/.well-known/jwks.json`)), { issuer: setup.issuer, audience: setup.resource });
    assert.equal(payload.sub, setup.managed.id);
    assert.equal(payload.kind, 'managed');
    assert.equal(String(payload.exp), res.body.expires_on);
    assert.equal(String(payload.nbf), res.body.not_before);
    assert.ok(Math.abs(Number(res.body.expires_in) - 600) <= 2);
  });

  it('IMDS refuses a request without the Metadata header, and one carrying X-Forwarded-For', async () => {
    assert.deepEqual(await imds({ resource: setup.resource }, {}), { status: 400, body: { error: 'invalid_request', error_description: 'Required metadata header not specified' } });
    assert.deepEqual(await imds({ resource: setup.resource }, { Metadata: 'false' }), { status: 400, body: { error: 'invalid_request', error_description: 'Required metadata header not specified' } });
    assert.deepEqual(await imds({ resource: setup.resource }, { Metadata: 'true', 'X-Forwarded-For': '203.0.113.7' }), { status: 400, body: { error: 'invalid_request', error_description: 'Request contains X-Forwarded-For header' } });
    const slash = await loopbackGet(`${daemon.url}${IMDS}/?${new URLSearchParams({ 'api-version': '2018-02-01', resource: setup.resource })}`, { Metadata: 'true' });
    assert.equal(slash.status, 200, 'msal-node adds a trailing slash to the IMDS path');
    assert.deepEqual(await imds({}), { status: 400, body: { error: 'invalid_request', error_description: 'Required audience parameter not specified' } });
    assert.deepEqual(await loopbackGet(`${daemon.url}${IMDS}?resource=x`, { Metadata: 'true' }), { status: 400, body: { error: 'invalid_request', error_description: "Required query variable 'api-version' is missing" } });
  });

  it('App Service: the X-IDENTITY-HEADER secret is required; the 2019-08-01 response fields', async () => {
    const url = `${daemon.identityEndpoint}?${new URLSearchParams({ 'api-version': '2019-08-01', resource: setup.resource })}`;
    assert.equal((await loopbackGet(url)).status, 401);
    const wrong = await loopbackGet(url, { 'X-IDENTITY-HEADER': 'x'.repeat(43) });
    assert.deepEqual(wrong, { status: 401, body: { statusCode: 401, message: 'X-IDENTITY-HEADER is missing or wrong', error: 'unauthorized' } });
    const res = await loopbackGet(url, { 'X-IDENTITY-HEADER': daemon.identityHeader });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'client_id', 'expires_on', 'not_before', 'resource', 'token_type']);
    assert.match(res.body.expires_on as string, /^\d+$/);
    assert.equal(res.body.client_id, setup.managed.id);
    const old = await loopbackGet(url.replace('2019-08-01', '2017-09-01'), { 'X-IDENTITY-HEADER': daemon.identityHeader });
    assert.equal(old.status, 400);
  });

  it('several identities: no selector is refused; client_id, object_id and msi_res_id pick one; an unassigned identity is not found', async () => {
    second = await createPrincipal(a, setup.tenant.name, { kind: 'managed', displayName: 'billing-worker' });
    await grant(a, setup.tenant.name, second.id, setup.resource, 'orders.read');
    expectStatus(await a.call('PUT', `/tenants/${setup.tenant.name}/nodes/${daemon.nodeId}/identities/${second.id}`), 200);
    const byClientId = await imds({ resource: setup.resource, client_id: second.id });
    assert.equal(byClientId.status, 200, JSON.stringify(byClientId.body));
    assert.equal(byClientId.body.client_id, second.id);
    assert.equal((await imds({ resource: setup.resource, object_id: second.id })).body.client_id, second.id);
    assert.equal((await imds({ resource: setup.resource, msi_res_id: 'orders-worker' })).body.client_id, setup.managed.id);
    const none = await imds({ resource: setup.resource });
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_request');
    assert.match(none.body.error_description as string, /^Multiple managed identities are assigned to this node/);
    const stranger = await createPrincipal(a, setup.tenant.name, { kind: 'managed', displayName: 'elsewhere' });
    assert.deepEqual(await imds({ resource: setup.resource, client_id: stranger.id }), { status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } });
  });

  it("Signet's refusals reach the workload with their OAuth error: a resource not granted, an unknown resource", async () => {
    const other = uniqueResourceId();
    await createResource(a, setup.tenant.name, other, ['x.read']);
    const notGranted = await imds({ resource: other, client_id: setup.managed.id });
    assert.equal(notGranted.status, 400);
    assert.equal(notGranted.body.error, 'invalid_scope');
    const unknown = await imds({ resource: 'api://nothing-here', client_id: setup.managed.id });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_target');
  });

  it('the node key is on disk only encrypted, with its secret and state readable by the owner alone', () => {
    const keyFile = readFileSync(join(daemon.stateDir, 'node-key.json'), 'utf8');
    assert.doesNotMatch(keyFile, /BEGIN|"d"/);
    const parsed = JSON.parse(keyFile) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed).sort(), ['ct', 'iv', 'kid', 'tag', 'v']);
    for (const file of ['node-key.json', 'node.secret', 'node.json', 'identity-header']) {
      assert.equal(statSync(join(daemon.stateDir, file)).mode & 0o777, 0o600, file);
    }
  });

  it('while Signet is unreachable, cached tokens are still served; an uncached one is 503 temporarily_unavailable', async () => {
    const cached = await imds({ resource: setup.resource, client_id: setup.managed.id });
    assert.equal(cached.status, 200);
    const other = uniqueResourceId();
    await createResource(a, setup.tenant.name, other, ['orders.read']);
    await grant(a, setup.tenant.name, setup.managed.id, other, 'orders.read');
    await a.close();
    const again = await imds({ resource: setup.resource, client_id: setup.managed.id });
    assert.equal(again.status, 200);
    assert.equal(again.body.access_token, cached.body.access_token);
    const uncached = await imds({ resource: other, client_id: setup.managed.id });
    assert.equal(uncached.status, 503);
    assert.equal(uncached.body.error, 'temporarily_unavailable');
  });
});
