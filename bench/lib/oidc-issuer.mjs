// A minimal OIDC issuer in the harness process for the federation scenario: OIDC discovery and a
// JWKS with one ES256 key, on loopback. Signet fetches them once and caches them, so this server
// sees a request or two per run, never load.
import { createServer } from 'node:http';
import { es256KeyPair } from './jwt.mjs';
import { LOOPBACK } from './http.mjs';

export async function startBenchIssuer() {
  const kid = 'bench-issuer-1';
  const pair = es256KeyPair(kid);
  let url = '';
  const hits = { discovery: 0, jwks: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    } else if (req.url === '/jwks') {
      hits.jwks += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(JSON.stringify({ keys: [pair.publicJwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, LOOPBACK, resolve));
  url = `http://${LOOPBACK}:${server.address().port}`;
  return {
    url,
    kid,
    hits,
    privateKeyPem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
