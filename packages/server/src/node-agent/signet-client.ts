import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, SignJWT, type JWK } from 'jose';

/** Client assertion type of a managed identity's token request made by a node (server: oauth/client-auth/node-assertion.ts). */
export const NODE_ASSERTION_TYPE = 'urn:signet:params:oauth:client-assertion-type:node-jwt';
const REQUEST_TIMEOUT_MS = 10_000;
const ASSERTION_LIFETIME_S = 60;

/** A refusal from Signet (an OAuth error body), as opposed to Signet being unreachable. */
export class SignetRefusal extends Error {
  override name = 'SignetRefusal';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/** Signet could not be reached (connection refused, timeout, 5xx). */
export class SignetUnreachable extends Error {
  override name = 'SignetUnreachable';
}

export interface NodeKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export async function generateNodeKey(): Promise<NodeKey> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), privateKey: pair.privateKey, publicJwk };
}

export interface IssuedToken {
  accessToken: string;
  /** Epoch seconds, from the token's own claims. */
  issuedAt: number;
  notBefore: number;
  expiresAt: number;
}

/** POSTs `body` (GET when undefined); sorts the outcome into a result, a refusal or unreachability. */
async function request(url: string, body: string | undefined, contentType: string): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    const init: RequestInit = body === undefined ? { method: 'GET', headers: { accept: 'application/json' } } : { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body };
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    throw new SignetUnreachable(`cannot reach ${new URL(url).origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.status >= 500 || parsed === undefined) throw new SignetUnreachable(`${url} answered ${response.status}`);
  if (response.status >= 400) {
    const e = parsed as { error?: unknown; error_description?: unknown };
    throw new SignetRefusal(response.status, typeof e.error === 'string' ? e.error : 'invalid_request', typeof e.error_description === 'string' ? e.error_description : '');
  }
  return parsed;
}

/**
 * The tenant's issuer as Signet names it (its discovery document), which every audience the node
 * signs for is built from; it may differ from the URL the node reaches Signet at (a proxy, an alias).
 */
export async function discoverIssuer(tenantUrl: string): Promise<string> {
  const metadata = (await request(`${tenantUrl}/.well-known/openid-configuration`, undefined, '')) as { issuer?: unknown };
  if (typeof metadata.issuer !== 'string') throw new SignetUnreachable(`${tenantUrl} has no OpenID discovery document`);
  return metadata.issuer;
}

/** The calls `signet node` makes to Signet, each authenticated by a fresh assertion signed with the node key. */
export class SignetNodeClient {
  private readonly base: string;

  constructor(
    /** The tenant's issuer, e.g. https://signet.example.com/acme: the base of every audience. */
    readonly issuer: string,
    /** Where requests go (default: the issuer itself), e.g. http://127.0.0.1:8080/acme. */
    base?: string,
  ) {
    this.base = base ?? issuer;
  }

  async join(joinToken: string, key: NodeKey, name: string | undefined): Promise<{ nodeId: string; keyExpiresAt: number }> {
    // Proof of possession of the key being registered: signed by it, for the join endpoint.
    const proof = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setAudience(`${this.issuer}/nodes/join`).setIssuedAt().setExpirationTime(`${ASSERTION_LIFETIME_S}s`).setJti(randomUUID()).sign(key.privateKey);
    const body = (await request(`${this.base}/nodes/join`, JSON.stringify({ join_token: joinToken, jwk: key.publicJwk, proof, ...(name ? { name } : {}) }), 'application/json')) as { node_id: string; key_expires_at: number };
    return { nodeId: body.node_id, keyExpiresAt: body.key_expires_at };
  }

  /** Registers `next`, authenticated by `current`; the assertion's `jkt` names the new key. */
  async rotateKey(nodeId: string, current: NodeKey, next: NodeKey): Promise<{ keyExpiresAt: number }> {
    const assertion = await this.assertion(nodeId, nodeId, `${this.issuer}/nodes/keys`, current, { jkt: next.kid });
    const body = (await request(`${this.base}/nodes/keys`, JSON.stringify({ assertion, jwk: next.publicJwk }), 'application/json')) as { key_expires_at: number };
    return { keyExpiresAt: body.key_expires_at };
  }

  async identities(nodeId: string, key: NodeKey): Promise<Array<{ clientId: string; displayName: string }>> {
    const assertion = await this.assertion(nodeId, nodeId, `${this.issuer}/nodes/identities`, key);
    const body = (await request(`${this.base}/nodes/identities`, JSON.stringify({ assertion }), 'application/json')) as { identities: Array<{ client_id: string; display_name: string }> };
    return body.identities.map((i) => ({ clientId: i.client_id, displayName: i.display_name }));
  }

  /** client_credentials for a managed identity, authenticated by the node's assertion (sub = the identity). */
  async token(nodeId: string, key: NodeKey, identity: string, resource: string): Promise<IssuedToken> {
    const assertion = await this.assertion(nodeId, identity, `${this.issuer}/oauth2/token`, key);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: NODE_ASSERTION_TYPE, client_assertion: assertion, resource });
    const body = (await request(`${this.base}/oauth2/token`, form.toString(), 'application/x-www-form-urlencoded')) as { access_token: string };
    const claims = decodeJwt(body.access_token);
    const now = Math.floor(Date.now() / 1000);
    return { accessToken: body.access_token, issuedAt: claims.iat ?? now, notBefore: claims.nbf ?? claims.iat ?? now, expiresAt: claims.exp ?? now };
  }

  private assertion(nodeId: string, subject: string, audience: string, key: NodeKey, extra: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(extra)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(nodeId)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${ASSERTION_LIFETIME_S}s`)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }
}
