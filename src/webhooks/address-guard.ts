import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a webhook must never reach (server-side request forgery): unspecified, loopback, private, shared
 * (CGNAT), link-local, benchmarking, documentation, IETF protocol, multicast, reserved and broadcast IPv4; and
 * unspecified, loopback, unique-local, site-local, link-local, documentation and multicast IPv6. IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-compatible and NAT64 (`64:ff9b::/96`) IPv6 addresses are judged by the IPv4 inside.
 */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fec0::', 10], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) forbidden.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (mapped, compatible or NAT64), or undefined. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True when `address` (an IP literal) is one a webhook must not reach. Anything that is not an IP address counts as forbidden. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return forbidden.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return forbidden.check(v4, 'ipv4');
    return forbidden.check(bare, 'ipv6');
  }
  return true;
}

/** Why a webhook URL may not be used, or undefined when it may. */
export type UrlRefusal = string | undefined;

/**
 * Checks a webhook URL's host: an IP literal (the WHATWG URL parser has already turned `0x7f.1` or `2130706433`
 * into dotted form) must be public; a name must resolve, and only to public addresses. `allowPrivate`
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS) lifts the address rule, not the resolution.
 */
export async function checkWebhookUrl(url: string, allowPrivate: boolean): Promise<UrlRefusal> {
  const { hostname } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return allowPrivate || !isForbiddenAddress(host) ? undefined : `${hostname} is a loopback, private, link-local or otherwise non-public address`;
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return `${hostname} is a loopback name`;
  let addresses: LookupAddress[];
  try {
    addresses = await new Promise((resolve, reject) => dnsLookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found))));
  } catch {
    return `${hostname} does not resolve`;
  }
  if (allowPrivate) return undefined;
  const bad = addresses.find((a) => isForbiddenAddress(a.address));
  return bad ? `${hostname} resolves to ${bad.address}, a non-public address` : undefined;
}

/**
 * A `lookup` for http.request that refuses non-public results, so the address connected to is the one checked
 * (a name cannot resolve to a public address at registration and to 127.0.0.1 at delivery).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const list = addresses as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isForbiddenAddress(a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a non-public address`), { code: 'EFORBIDDENADDRESS' }), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}
