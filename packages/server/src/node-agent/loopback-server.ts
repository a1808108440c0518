import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { IssuedToken } from './signet-client.js';
import { SignetRefusal } from './signet-client.js';

/** Azure IMDS token path (what `ManagedIdentityCredential` calls, host from AZURE_POD_IDENTITY_AUTHORITY_HOST). */
export const IMDS_PATH = '/metadata/identity/oauth2/token';
/** App Service-style endpoint; its full URL is what workloads get as IDENTITY_ENDPOINT. */
export const APP_SERVICE_PATH = '/msi/token';
const IMDS_MIN_API_VERSION = '2018-02-01';
const APP_SERVICE_API_VERSION = '2019-08-01';

export interface Identity {
  clientId: string;
  displayName: string;
}

/** Where the loopback server gets identities and tokens (the daemon: cached, refreshed ahead). */
export interface TokenSource {
  /** Assigned identities; `fresh` re-reads them from Signet (used once when a named identity is unknown). */
  identities(fresh: boolean): Promise<Identity[]>;
  token(identity: string, resource: string): Promise<IssuedToken>;
}

type Protocol = 'imds' | 'appService';

/** Azure IMDS allows 20 requests per second per machine and answers 429 beyond; so does the node. */
export const REQUESTS_PER_SECOND = 20;

/** A token bucket: `rate` requests per second, bursts up to `rate`. */
export function rateLimiter(rate: number, now: () => number = Date.now): () => boolean {
  let tokens = rate;
  let last = now();
  return () => {
    const t = now();
    tokens = Math.min(rate, tokens + ((t - last) / 1000) * rate);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/** A refusal in the protocol's own error shape. */
class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

function body(protocol: Protocol, e: ProtocolError): Record<string, unknown> {
  // IMDS answers like Entra's token endpoint (RFC 6749 §5.2 fields); App Service with statusCode/message.
  return protocol === 'imds' ? { error: e.error, error_description: e.message } : { statusCode: e.status, message: e.message, error: e.error };
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function one(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw new ProtocolError(400, 'invalid_request', `Parameter ${name} is repeated`);
  return values[0] === '' ? undefined : values[0];
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Picks the identity: by client_id or object_id (both the principal id in Signet), or by
 * msi_res_id / mi_res_id (the principal's display name); with no selector, the only assigned one.
 */
async function pick(source: TokenSource, query: URLSearchParams, protocol: Protocol): Promise<Identity> {
  const selectors = protocol === 'imds' ? ['client_id', 'object_id', 'msi_res_id'] : ['client_id', 'object_id', 'principal_id', 'mi_res_id'];
  const given = selectors.flatMap((name) => {
    const value = one(query, name);
    return value === undefined ? [] : [{ name, value }];
  });
  if (given.length > 1) throw new ProtocolError(400, 'invalid_request', `Specify at most one of ${selectors.join(', ')}`);
  const selector = given[0];
  const find = (list: Identity[]) => list.find((i) => (selector?.name.endsWith('res_id') ? i.displayName === selector.value : i.clientId === selector?.value));
  let identities = await source.identities(false);
  if (!selector) {
    if (identities.length === 1) return identities[0] as Identity;
    if (identities.length === 0) identities = await source.identities(true);
    if (identities.length === 1) return identities[0] as Identity;
    if (identities.length === 0) throw new ProtocolError(400, 'invalid_request', 'Identity not found');
    throw new ProtocolError(400, 'invalid_request', `Multiple managed identities are assigned to this node; specify one of ${selectors.join(', ')}`);
  }
  const found = find(identities) ?? find(await source.identities(true));
  if (!found) throw new ProtocolError(400, 'invalid_request', 'Identity not found');
  return found;
}

async function respond(source: TokenSource, protocol: Protocol, query: URLSearchParams): Promise<Record<string, string>> {
  const apiVersion = one(query, 'api-version');
  if (apiVersion === undefined) throw new ProtocolError(400, 'invalid_request', "Required query variable 'api-version' is missing");
  if (protocol === 'imds' ? !/^\d{4}-\d{2}-\d{2}$/.test(apiVersion) || apiVersion < IMDS_MIN_API_VERSION : apiVersion !== APP_SERVICE_API_VERSION) {
    throw new ProtocolError(400, 'invalid_request', `api-version ${apiVersion.slice(0, 40)} is not supported`);
  }
  const resource = one(query, 'resource');
  if (resource === undefined) throw new ProtocolError(400, 'invalid_request', 'Required audience parameter not specified');
  const identity = await pick(source, query, protocol);
  let token: IssuedToken;
  try {
    token = await source.token(identity.clientId, resource);
  } catch (error) {
    if (error instanceof SignetRefusal) throw new ProtocolError(400, error.error, error.description);
    throw new ProtocolError(503, 'temporarily_unavailable', 'Signet cannot be reached and no cached token is valid; retry later');
  }
  const expiresIn = Math.max(0, token.expiresAt - Math.floor(Date.now() / 1000));
  // Both protocols send numbers as strings: expires_on and not_before are epoch seconds.
  return protocol === 'imds'
    ? {
        access_token: token.accessToken,
        refresh_token: '',
        expires_in: String(expiresIn),
        expires_on: String(token.expiresAt),
        ext_expires_in: String(expiresIn),
        not_before: String(token.notBefore),
        resource,
        token_type: 'Bearer',
        client_id: identity.clientId,
      }
    : {
        access_token: token.accessToken,
        expires_on: String(token.expiresAt),
        not_before: String(token.notBefore),
        resource,
        token_type: 'Bearer',
        client_id: identity.clientId,
      };
}

/**
 * The daemon's loopback endpoint, speaking the two protocols Azure SDKs already use:
 * IMDS (`GET /metadata/identity/oauth2/token`, header `Metadata: true`) and App Service
 * (`GET $IDENTITY_ENDPOINT`, header `X-IDENTITY-HEADER: $IDENTITY_HEADER`, api-version 2019-08-01).
 * Both refuse requests carrying `X-Forwarded-For`: a proxied request is an SSRF, not a local workload.
 */
export function createLoopbackServer(source: TokenSource, identityHeader: string, onError: (error: unknown) => void, now: () => number = Date.now): Server {
  const allow = rateLimiter(REQUESTS_PER_SECOND, now);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    // msal-node canonicalises the IMDS URL with a trailing slash; IMDS accepts both.
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const protocol: Protocol | undefined = path === IMDS_PATH ? 'imds' : path === APP_SERVICE_PATH ? 'appService' : undefined;
    if (!protocol) return send(res, 404, { error: 'not_found', error_description: 'Unknown path' });
    const refuse = (e: ProtocolError) => send(res, e.status, body(protocol, e));
    if (!allow()) {
      res.setHeader('retry-after', '1');
      return refuse(new ProtocolError(429, 'too_many_requests', `Too many requests: at most ${REQUESTS_PER_SECOND} per second`));
    }
    if (req.method !== 'GET') return refuse(new ProtocolError(405, 'invalid_request', 'Only GET is allowed'));
    if (req.headers['x-forwarded-for'] !== undefined) return refuse(new ProtocolError(400, 'invalid_request', 'Request contains X-Forwarded-For header'));
    if (protocol === 'imds' && req.headers.metadata !== 'true') return refuse(new ProtocolError(400, 'invalid_request', 'Required metadata header not specified'));
    if (protocol === 'appService' && !sameSecret(req.headers['x-identity-header'], identityHeader)) {
      return refuse(new ProtocolError(401, 'unauthorized', 'X-IDENTITY-HEADER is missing or wrong'));
    }
    respond(source, protocol, url.searchParams).then(
      (payload) => send(res, 200, payload),
      (error: unknown) => {
        if (error instanceof ProtocolError) return refuse(error);
        onError(error);
        refuse(new ProtocolError(500, 'server_error', 'Internal error'));
      },
    );
  });
}
