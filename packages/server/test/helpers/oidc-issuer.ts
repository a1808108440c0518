import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * A real OIDC issuer on loopback for federation tests: jose keys, served over plain HTTP with a
 * discovery document and a JWKS, minting GitHub Actions– and Kubernetes–shaped tokens.
 */
export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** SPKI PEM of the public key (for HS256-with-the-public-key attacks and PEM-configured credentials). */
  publicPem: string;
}

export interface MintOptions {
  /** Signing key (default: the first published key). */
  key?: IssuerKey;
  /** `kid` header; `null` leaves it out. Default: the key's kid. */
  kid?: string | null;
  /** Server time in ms to derive iat/nbf/exp from (default Date.now()). */
  now?: number;
  /** Lifetime in seconds (default 300). */
  ttl?: number;
}

export interface OidcIssuer {
  /** The issuer URL, e.g. http://127.0.0.1:41234 (iss of every token). */
  url: string;
  keys: IssuerKey[];
  /** How many times each path was requested. */
  hits: Map<string, number>;
  /** Cache-Control header sent with the JWKS (default `max-age=300`). */
  jwksCacheControl: string;
  /** Adds a key to the published JWKS and returns it. */
  addKey(alg?: 'RS256' | 'ES256'): Promise<IssuerKey>;
  /** A key that is not published (unknown kid / wrong key tests). */
  unpublishedKey(alg?: 'RS256' | 'ES256'): Promise<IssuerKey>;
  /** Signs `claims` (iss, iat, nbf, exp and jti filled in unless given; `undefined` removes a claim). */
  mint(claims: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** An unsigned token (`alg: none`). */
  mintNone(claims: Record<string, unknown>): string;
  /** HS256 with the issuer's PUBLIC key (PEM) as the HMAC secret: the classic key-confusion attack. */
  mintHs256WithPublicKey(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

async function newKey(alg: 'RS256' | 'ES256'): Promise<IssuerKey> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = randomUUID();
  return { kid, alg, privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(pair.publicKey) };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Starts an issuer on `host` (default 127.0.0.1) with one RS256 key, as GitHub Actions uses. */
export async function startOidcIssuer(host = '127.0.0.1'): Promise<OidcIssuer> {
  const keys = [await newKey('RS256')];
  const hits = new Map<string, number>();
  let url = '';
  const issuer: OidcIssuer = {
    url: '',
    keys,
    hits,
    jwksCacheControl: 'max-age=300',
    async addKey(alg = 'RS256') {
      const key = await newKey(alg);
      keys.push(key);
      return key;
    },
    unpublishedKey: (alg = 'RS256') => newKey(alg),
    async mint(claims, o = {}) {
      const key = o.key ?? (keys[0] as IssuerKey);
      const iat = Math.floor((o.now ?? Date.now()) / 1000);
      const full: Record<string, unknown> = { iss: url, iat, nbf: iat, exp: iat + (o.ttl ?? 300), jti: randomUUID(), ...claims };
      for (const [name, value] of Object.entries(full)) if (value === undefined) delete full[name];
      const kid = o.kid === undefined ? key.kid : o.kid;
      return new SignJWT(full).setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }) }).sign(key.privateKey);
    },
    mintNone(claims) {
      const iat = Math.floor(Date.now() / 1000);
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: url, iat, nbf: iat, exp: iat + 300, jti: randomUUID(), ...claims })}.`;
    },
    mintHs256WithPublicKey(claims) {
      const key = keys[0] as IssuerKey;
      const iat = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64({ iss: url, iat, nbf: iat, exp: iat + 300, jti: randomUUID(), ...claims })}`;
      return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'], response_types_supported: ['id_token'], subject_types_supported: ['public'] }));
    } else if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': issuer.jwksCacheControl });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  url = `http://${host}:${typeof address === 'object' && address ? address.port : 0}`;
  issuer.url = url;
  return issuer;
}

/** Claims of a GitHub Actions OIDC token (docs.github.com: "About security hardening with OpenID Connect"). */
export function githubClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'repo:acme/api:environment:prod',
    aud: 'api://signet-ci',
    ref: 'refs/heads/release/2026.11',
    sha: '3f2b6c1d4e5f60718293a4b5c6d7e8f901234567',
    repository: 'acme/api',
    repository_owner: 'acme',
    repository_id: '123456',
    run_id: '987654321',
    run_attempt: '1',
    actor: 'octocat',
    workflow: 'deploy',
    event_name: 'push',
    ref_type: 'branch',
    environment: 'prod',
    job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/release/2026.11',
    runner_environment: 'github-hosted',
    ...over,
  };
}

/** Claims of a Kubernetes projected service account token (a nested `kubernetes.io` claim). */
export function kubernetesClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'system:serviceaccount:payments:api',
    aud: ['signet'],
    'kubernetes.io': {
      namespace: 'payments',
      node: { name: 'node-1', uid: randomUUID() },
      pod: { name: 'api-7d9c8b6f5-x2x9z', uid: randomUUID() },
      serviceaccount: { name: 'api', uid: randomUUID() },
    },
    ...over,
  };
}
