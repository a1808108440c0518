// The cost floor for this runtime: a minimal Fastify token endpoint that parses the same form body,
// authenticates the same client from memory (HMAC of the secret, constant-time compare) and signs
// the same RFC 9068 claims with ES256 through node:crypto. Nothing else: no storage, no policy,
// no metrics, no logging. Uses the same fastify and @fastify/formbody as Signet.
import { createHmac, createPrivateKey, randomBytes, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ready, serverConfig } from './common.mjs';

const config = serverConfig();
const require = createRequire(join(config.signetDir, 'package.json'));
const Fastify = require('fastify');
const formbody = require('@fastify/formbody');

const issuer = `http://127.0.0.1:${config.port}/default`;
const pepper = randomBytes(32);
const digest = (secret) => createHmac('sha256', pepper).update(secret).digest();
const clients = new Map([[config.secretClient.id, { digest: digest(config.secretClient.secret), kind: 'service', roles: [config.role] }]]);
const key = createPrivateKey({ key: config.signingJwk, format: 'jwk' });
const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: config.signingJwk.kid, typ: 'at+jwt' })).toString('base64url');
const TTL = 600;

const app = Fastify({ logger: false });
await app.register(formbody, { bodyLimit: 64 * 1024 });

const refuse = (reply, status, error) => reply.status(status).header('cache-control', 'no-store').send({ error });

app.post('/default/oauth2/token', async (request, reply) => {
  const body = request.body ?? {};
  if (body.grant_type !== 'client_credentials') return refuse(reply, 400, 'unsupported_grant_type');
  const authorization = request.headers.authorization ?? '';
  if (!/^basic /i.test(authorization)) return refuse(reply, 401, 'invalid_client');
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return refuse(reply, 401, 'invalid_client');
  const clientId = decodeURIComponent(decoded.slice(0, colon));
  const client = clients.get(clientId);
  const presented = digest(decodeURIComponent(decoded.slice(colon + 1)));
  if (!client || !timingSafeEqual(presented, client.digest)) return refuse(reply, 401, 'invalid_client');
  if (body.resource !== config.resource) return refuse(reply, 400, 'invalid_target');

  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: clientId, aud: config.resource, roles: client.roles, iss: issuer, iat: now, nbf: now, exp: now + TTL, jti: randomUUID(), client_id: clientId, tid: config.tenantId, kind: client.kind };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({ access_token: `${input}.${signature}`, token_type: 'Bearer', expires_in: TTL });
});

app.get('/default/.well-known/jwks.json', async () => {
  const { d, ...publicJwk } = config.signingJwk;
  return { keys: [publicJwk] };
});

await app.listen({ port: config.port, host: '127.0.0.1' });
ready(config.port);
