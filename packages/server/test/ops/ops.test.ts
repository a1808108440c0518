import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdmin, type Admin } from '../admin/helpers.js';
import { basicAuth, createResource, expectInvalidClient, expectIssued, postToken, secretClient, uniqueResourceId, type SecretClient } from '../oauth/helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The value of one Prometheus sample line (exact name and label set), or 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('operations endpoints', () => {
  let a: Admin;
  let orders: string;
  let client: SecretClient;
  const metrics = async () => {
    const response = await fetch(`${a.s.url}/metrics`);
    assert.equal(response.status, 200);
    return { headers: response.headers, text: await response.text() };
  };
  const issue = (secret = client.secret) =>
    postToken(a.s.url, 'default', { grant_type: 'client_credentials', scope: `${orders}/.default` }, { authorization: basicAuth(client.id, secret) });

  before(async () => {
    a = await startAdmin();
    orders = uniqueResourceId();
    await createResource(a, 'default', orders, ['orders.read']);
    client = await secretClient(a, 'default', orders, ['orders.read']);
  });
  after(() => a.close());

  it('/healthz is 200 {status: ok}', async () => {
    const response = await fetch(`${a.s.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  it('/readyz is 200 when the database answers', async () => {
    const response = await fetch(`${a.s.url}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ready' });
  });

  it('/metrics is Prometheus text that counts issued tokens by grant type and outcome', async () => {
    const series = 'signet_token_requests_total{grant_type="client_credentials",outcome="issued"}';
    const first = await metrics();
    assert.match(first.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(first.text, /^# HELP signet_token_requests_total /m);
    assert.match(first.text, /^# TYPE signet_token_requests_total counter$/m);
    const before = sample(first.text, series);
    const N = 4;
    for (let i = 0; i < N; i += 1) expectIssued(await issue());
    const text = (await metrics()).text;
    assert.equal(sample(text, series), before + N);
    assert.ok(sample(text, 'signet_token_request_duration_seconds_count{grant_type="client_credentials"}') >= before + N);
  });

  it('/metrics counts a failed client authentication under outcome="invalid_client"', async () => {
    const series = 'signet_token_requests_total{grant_type="client_credentials",outcome="invalid_client"}';
    const before = sample((await metrics()).text, series);
    expectInvalidClient(await issue('sgn_wrong'));
    const text = (await metrics()).text;
    assert.ok(text.includes(`${series} ${before + 1}`), `no ${series} ${before + 1} line`);
  });

  it('/metrics names no client and no secret', async () => {
    const { text } = await metrics();
    assert.equal(text.includes(client.id), false);
    assert.equal(text.includes(client.secret), false);
  });

  it('every response carries an x-request-id; a sane incoming one is echoed', async () => {
    for (const path of ['/healthz', '/metrics', '/default/.well-known/jwks.json', '/no-such-route']) {
      const response = await fetch(`${a.s.url}${path}`);
      assert.match(response.headers.get('x-request-id') ?? '', UUID, path);
    }
    assert.match((await issue()).headers.get('x-request-id') ?? '', UUID);
    const echoed = await fetch(`${a.s.url}/healthz`, { headers: { 'x-request-id': 'trace-42.abc_DEF' } });
    assert.equal(echoed.headers.get('x-request-id'), 'trace-42.abc_DEF');
    const tokenEchoed = await postToken(a.s.url, 'default', { grant_type: 'client_credentials' }, { 'x-request-id': 'token-call-1' });
    assert.equal(tokenEchoed.headers.get('x-request-id'), 'token-call-1');
  });

  it('an unsafe incoming x-request-id is replaced, not echoed', async () => {
    for (const given of ['has spaces', 'a'.repeat(65), '<script>', 'semi;colon']) {
      const response = await fetch(`${a.s.url}/healthz`, { headers: { 'x-request-id': given } });
      assert.match(response.headers.get('x-request-id') ?? '', UUID, given);
    }
  });

  it('an unknown route is 404 JSON {code: not_found}', async () => {
    for (const [method, path] of [['GET', '/no-such-route'], ['POST', '/nope'], ['GET', '/admin/v1/no-such-thing']] as const) {
      const response = await fetch(`${a.s.url}${path}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, 'not_found', JSON.stringify(body));
      assert.equal(typeof body.message, 'string');
    }
  });
});
