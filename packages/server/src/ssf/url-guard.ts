import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard for receiver URLs: https only, no credentials or fragment, and every address the host
 * resolves to must be public. Plain-http loopback receivers are allowed only when the operator set
 * SIGNET_SSF_ALLOW_HTTP_LOOPBACK (local tests). The check runs at registration (literal addresses)
 * and again at every connection (`guardedLookup`), so a name that later resolves inward is refused.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96], ['64:ff9b::', 96]] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** Whether a receiver may be reached at `address`. */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const f = family(address);
  if (allowLoopback && LOOPBACK.check(address, f)) return true;
  return !PRIVATE.check(address, f);
}

/** Why `raw` cannot be a receiver endpoint, or null when it can (before DNS). */
export function receiverUrlProblem(raw: string, allowHttpLoopback: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'endpointUrl is not a URL';
  }
  if (url.username || url.password) return 'endpointUrl must not carry credentials';
  if (url.hash) return 'endpointUrl must not have a fragment';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) !== 0;
  const loopbackHost = host === 'localhost' || (literal && LOOPBACK.check(host, family(host)));
  if (url.protocol === 'http:') {
    if (!(allowHttpLoopback && loopbackHost)) return 'endpointUrl must be https';
  } else if (url.protocol !== 'https:') {
    return 'endpointUrl must be https';
  }
  if (host === 'localhost' && !allowHttpLoopback) return 'endpointUrl must be on a public address';
  if (literal && !addressAllowed(host, allowHttpLoopback)) return 'endpointUrl must be on a public address';
  return null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for node:http(s) that refuses non-public addresses at connection time. */
export function guardedLookup(allowLoopback: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const refused = list.find((a) => !addressAllowed(a.address, allowLoopback));
      if (refused || list.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`receiver host ${hostname} resolves to a non-public address`);
        e.code = 'ESSRF';
        return callback(e, []);
      }
      const all = (options as { all?: boolean }).all === true;
      if (all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
