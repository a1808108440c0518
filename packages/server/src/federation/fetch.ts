import { lookup } from 'node:dns/promises';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { FederationConfig } from '../config.js';

/**
 * Fetching documents from external issuers (OIDC discovery, JWKS), hardened against server-side
 * request forgery:
 * - https only; plain http only for origins listed in SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS;
 * - the host name is resolved first and EVERY address it resolves to is checked against private,
 *   loopback, link-local and other special-purpose ranges (RFC 6890) unless a configured CIDR
 *   allows it; the connection then goes to the checked address (no second lookup: no DNS rebinding);
 * - redirects are followed only within the same origin, at most 3;
 * - one timeout covers resolve, connect, headers and body; bodies are capped in size.
 */
export type FetchCheck = 'scheme' | 'address' | 'redirect' | 'timeout' | 'size' | 'status' | 'content' | 'network';

export class FetchRefused extends Error {
  override name = 'FetchRefused';
  constructor(
    readonly check: FetchCheck,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedJson {
  body: unknown;
  /** The response's Cache-Control header, for the caller's caching. */
  cacheControl: string | undefined;
}

const MAX_REDIRECTS = 3;

/**
 * RFC 6890 special-purpose ranges and the like: never fetched from unless explicitly allowed.
 * IPv4-mapped IPv6 (::ffff:0:0/96) is not listed: BlockList would then match every IPv4 address;
 * `permits` judges mapped addresses as the IPv4 address they carry.
 */
const SPECIAL_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const SPECIAL_V6 = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23],
  ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const;

const special = new BlockList();
for (const [net, bits] of SPECIAL_V4) special.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of SPECIAL_V6) special.addSubnet(net, bits, 'ipv6');

/** The address policy of one configuration. */
export class AddressPolicy {
  private readonly allowed = new BlockList();
  constructor(allowCidrs: readonly string[]) {
    for (const cidr of allowCidrs) {
      const [net, bits] = cidr.split('/') as [string, string];
      this.allowed.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Whether `address` may be connected to. IPv4-mapped IPv6 addresses are judged as IPv4. */
  permits(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(ip, family)) return true;
    return !special.check(ip, family);
  }
}

export class SafeFetcher {
  private readonly addresses: AddressPolicy;
  constructor(private readonly config: Pick<FederationConfig, 'allowHttpOrigins' | 'allowPrivateNetworks' | 'fetchTimeoutMs' | 'maxResponseBytes'>) {
    this.addresses = new AddressPolicy(config.allowPrivateNetworks);
  }

  /** Whether a URL's scheme is acceptable for an external issuer (https, or http for allowed origins). */
  schemeAllowed(url: URL): boolean {
    return url.protocol === 'https:' || (url.protocol === 'http:' && this.config.allowHttpOrigins.includes(url.origin));
  }

  /** GETs a JSON document under every guard above; throws FetchRefused naming the guard that refused. */
  async json(target: string): Promise<FetchedJson> {
    const deadline = Date.now() + this.config.fetchTimeoutMs;
    let url = this.parse(target);
    for (let hop = 0; ; hop++) {
      const response = await this.get(url, deadline);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.resume();
        const location = response.headers.location;
        if (!location || hop >= MAX_REDIRECTS) throw new FetchRefused('redirect', `${url.origin} redirected ${location ? 'too often' : 'without a Location'}`);
        const next = this.parse(new URL(location, url).toString());
        if (next.origin !== url.origin) throw new FetchRefused('redirect', `${url.origin} redirected to another origin (${next.origin})`);
        url = next;
        continue;
      }
      if (status !== 200) {
        response.resume();
        throw new FetchRefused('status', `${url.toString()} answered ${status}`);
      }
      const text = await this.read(response, deadline);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new FetchRefused('content', `${url.toString()} did not return JSON`);
      }
      const cacheControl = response.headers['cache-control'];
      return { body, cacheControl };
    }
  }

  private parse(target: string): URL {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new FetchRefused('scheme', `"${target.slice(0, 200)}" is not a URL`);
    }
    if (!this.schemeAllowed(url)) throw new FetchRefused('scheme', `${url.origin} is not https (plain http only for SIGNET_FEDERATION_ALLOW_HTTP_ISSUERS)`);
    if (url.username || url.password) throw new FetchRefused('scheme', 'URLs with credentials are not fetched');
    return url;
  }

  /** Resolves the host and checks every address it has; returns the one to connect to. */
  private async resolve(host: string, deadline: number): Promise<{ address: string; family: 4 | 6 }> {
    const literal = host.replace(/^\[|\]$/g, '');
    let answers: { address: string; family: number }[];
    if (isIP(literal)) {
      answers = [{ address: literal, family: isIP(literal) }];
    } else {
      answers = await withDeadline(lookup(literal, { all: true, verbatim: true }), deadline, `resolving ${host}`).catch((error: unknown) => {
        if (error instanceof FetchRefused) throw error;
        throw new FetchRefused('network', `cannot resolve ${host}`);
      });
    }
    const refused = answers.find((a) => !this.addresses.permits(a.address));
    if (refused) throw new FetchRefused('address', `${host} resolves to ${refused.address}, a private, loopback, link-local or reserved address`);
    const first = answers[0];
    if (!first) throw new FetchRefused('network', `${host} has no address`);
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private async get(url: URL, deadline: number): Promise<IncomingMessage> {
    const { address, family } = await this.resolve(url.hostname, deadline);
    // Connect to the address that was checked, whatever the resolver would say now.
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ClientRequest | undefined;
    return withDeadline(
      new Promise<IncomingMessage>((resolve, reject) => {
        req = send(url, { method: 'GET', lookup: pinned, agent: false, headers: { accept: 'application/json', 'user-agent': 'signet-federation' } }, resolve);
        req.on('error', () => reject(new FetchRefused('network', `cannot reach ${url.origin}`)));
        req.end();
      }),
      deadline,
      `fetching ${url.toString()}`,
      () => req?.destroy(),
    );
  }

  private async read(response: IncomingMessage, deadline: number): Promise<string> {
    const limit = this.config.maxResponseBytes;
    const declared = Number(response.headers['content-length'] ?? 0);
    if (declared > limit) {
      response.destroy();
      throw new FetchRefused('size', `response is ${declared} bytes, more than ${limit}`);
    }
    return withDeadline(
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            response.destroy();
            reject(new FetchRefused('size', `response is more than ${limit} bytes`));
          } else {
            chunks.push(chunk);
          }
        });
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', () => reject(new FetchRefused('network', 'the response was cut off')));
        response.on('close', () => {
          if (!response.complete) reject(new FetchRefused('network', 'the response was cut off'));
        });
      }),
      deadline,
      'reading the response',
      () => response.destroy(),
    );
  }
}

function withDeadline<T>(promise: Promise<T>, deadline: number, what: string, onTimeout?: () => void): Promise<T> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new FetchRefused('timeout', `timed out ${what}`));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new FetchRefused('timeout', `timed out ${what}`));
    }, remaining);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
