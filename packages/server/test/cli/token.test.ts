import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { credentialsDir, FakeServer, runCli, type Recorded } from './fake-server.js';

const CLIENT = 'svc-1';

/** A signed JWT access token, so --decode has something real to decode. */
async function accessToken(): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new SignJWT({ scope: 'orders.read' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer('http://x/default')
    .setSubject(CLIENT)
    .setIssuedAt(1_700_000_000)
    .setExpirationTime(1_700_000_600)
    .sign(privateKey);
}

describe('signet token get', () => {
  const server = new FakeServer();
  let dir = '';
  let remove: () => Promise<void> = async () => {};
  let token = '';

  before(async () => {
    await server.start();
    ({ dir, remove } = await credentialsDir(server.url));
    token = await accessToken();
    server.routes.set('POST /acme/oauth2/token', { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: 600, scope: 'orders.read' } });
  });
  after(async () => {
    await server.stop();
    await remove();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  const form = (request: Recorded | undefined) => new URLSearchParams(request?.body ?? '');

  it('authenticates with client_secret_basic at <base>/<tenant>/oauth2/token', async () => {
    const result = await runCli(
      ['token', 'get', '--client-id', CLIENT, '--client-secret', 's3cr:t', '--tenant', 'acme', '--scope', 'orders.read', '--scope', 'orders.write', '--resource', 'api://orders', '--issuer-url', `${server.url}/`],
      '/nonexistent-signet-dir',
    );
    assert.equal(result.code, 0, result.stderr);
    const [request] = server.requests;
    assert.equal(request?.path, '/acme/oauth2/token');
    assert.equal(request?.headers.authorization, `Basic ${Buffer.from('svc-1:s3cr%3At').toString('base64')}`);
    assert.deepEqual([...form(request)], [
      ['grant_type', 'client_credentials'],
      ['scope', 'orders.read orders.write'],
      ['resource', 'api://orders'],
    ]);
    assert.match(result.stdout, /│ token_type +│ Bearer +│/);
    assert.ok(result.stdout.endsWith(`\naccess_token: ${token}\n`));
    assert.equal(result.stdout.includes(`│ ${token}`), false);
  });

  it('finds the public base URL in the credentials file', async () => {
    const result = await runCli(['token', 'get', '--client-id', CLIENT, '--client-secret', 's', '--tenant', 'acme'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests[0]?.path, '/acme/oauth2/token');
  });

  it('signs a private_key_jwt client assertion with a PEM key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(dir, 'client.pem');
    await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const result = await runCli(['token', 'get', '--client-id', CLIENT, '--key', keyFile, '--tenant', 'acme'], dir);
    assert.equal(result.code, 0, result.stderr);
    const request = server.requests[0];
    assert.equal(request?.headers.authorization, undefined);
    const body = form(request);
    assert.equal(body.get('client_id'), CLIENT);
    assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const endpoint = `${server.url}/acme/oauth2/token`;
    const { payload, protectedHeader } = await jwtVerify(body.get('client_assertion') ?? '', publicKey, { issuer: CLIENT, subject: CLIENT, audience: endpoint });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(typeof payload.jti, 'string');
    assert.ok((payload.exp ?? 0) - (payload.iat ?? 0) <= 60);
  });

  it('takes alg and kid from a private JWK', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'client.jwk.json');
    await writeFile(keyFile, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'key-1' }));
    const result = await runCli(['token', 'get', '--client-id', CLIENT, '--key', keyFile, '--tenant', 'acme'], dir);
    assert.equal(result.code, 0, result.stderr);
    const assertion = form(server.requests[0]).get('client_assertion') ?? '';
    assert.deepEqual(decodeProtectedHeader(assertion), { alg: 'EdDSA', kid: 'key-1' });
    await jwtVerify(assertion, publicKey);
  });

  it('refuses a public key for --key', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'public.jwk.json');
    await writeFile(keyFile, JSON.stringify(publicKey.export({ format: 'jwk' })));
    const result = await runCli(['token', 'get', '--client-id', CLIENT, '--key', keyFile, '--tenant', 'acme'], dir);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `error: invalid_key: ${keyFile} holds a public key; --key needs the private key\n`);
    assert.equal(server.requests.length, 0);
  });

  it('needs exactly one of --client-secret and --key', async () => {
    const result = await runCli(['token', 'get', '--client-id', CLIENT], dir);
    assert.deepEqual(result, { code: 1, stdout: '', stderr: 'error: usage: give exactly one of --client-secret <secret> or --key <file>\n' });
  });

  it('decodes the access token with --decode', async () => {
    const table = await runCli(['token', 'get', '--client-id', CLIENT, '--client-secret', 's', '--tenant', 'acme', '--decode'], dir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\nheader\n[^]*│ typ +│ at\+jwt +│/);
    assert.match(table.stdout, /\nclaims\n[^]*│ exp +│ 1700000600 \(2023-11-14T22:23:20\.000Z\) +│/);
    const json = await runCli(['token', 'get', '--client-id', CLIENT, '--client-secret', 's', '--tenant', 'acme', '--decode', '--json'], dir);
    const body = JSON.parse(json.stdout) as { access_token: string; decoded: { header: unknown; claims: { sub: string; exp: number } } };
    assert.equal(body.access_token, token);
    assert.deepEqual(body.decoded.header, { alg: 'ES256', kid: 'k1', typ: 'at+jwt' });
    assert.equal(body.decoded.claims.sub, CLIENT);
    assert.equal(body.decoded.claims.exp, 1_700_000_600);
  });

  it('reports the OAuth error of a refused request', async () => {
    server.routes.set('POST /other/oauth2/token', { status: 400, body: { error: 'invalid_scope', error_description: 'scope "x" is not granted' } });
    const result = await runCli(['token', 'get', '--client-id', CLIENT, '--client-secret', 's', '--tenant', 'other', '--scope', 'x'], dir);
    assert.deepEqual(result, { code: 1, stdout: '', stderr: 'error: invalid_scope: scope "x" is not granted\n' });
  });
});

describe('signet credential add with keys', () => {
  const server = new FakeServer();
  let dir = '';
  let remove: () => Promise<void> = async () => {};

  before(async () => {
    await server.start();
    ({ dir, remove } = await credentialsDir(server.url));
    server.routes.set('POST /admin/v1/tenants/default/principals/p-1/credentials', { status: 201, body: { id: 'c-1', type: 'key', thumbprint: 't' } });
  });
  after(async () => {
    await server.stop();
    await remove();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('sends only the public half of a private JWK, keeping kid', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(dir, 'key.json');
    await writeFile(keyFile, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'k-1' }));
    const result = await runCli(['credential', 'add', 'p-1', '--jwk', keyFile, '--description', 'ci'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const body = JSON.parse(server.apiRequests[0]?.body ?? '') as { jwk: Record<string, unknown> };
    assert.deepEqual(body, { type: 'key', jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'k-1' }, description: 'ci' });
    assert.equal('d' in body.jwk, false);
  });

  it('converts a PEM public key to a JWK', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'key.pub.pem');
    await writeFile(keyFile, publicKey.export({ format: 'pem', type: 'spki' }));
    assert.equal((await runCli(['credential', 'add', 'p-1', '--jwk', keyFile], dir)).code, 0);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { type: 'key', jwk: publicKey.export({ format: 'jwk' }) });
  });

  it('sends a certificate file as PEM text', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const certFile = join(dir, 'client.crt');
    await writeFile(certFile, pem);
    assert.equal((await runCli(['credential', 'add', 'p-1', '--certificate', certFile], dir)).code, 0);
    assert.deepEqual(JSON.parse(server.apiRequests[0]?.body ?? ''), { type: 'key', certificate: pem });
  });

  it('names the file it cannot read', async () => {
    const result = await runCli(['credential', 'add', 'p-1', '--certificate', 'missing.crt'], dir);
    assert.deepEqual(result, { code: 1, stdout: '', stderr: `error: file_unreadable: cannot read certificate file missing.crt (ENOENT)\n` });
  });
});
