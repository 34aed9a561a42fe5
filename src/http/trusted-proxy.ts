/**
 * Which peers may speak for someone else: a list of proxy addresses (IPv4 or IPv6 CIDRs, or bare
 * addresses) matched with `net.BlockList`. A header that names a client (a certificate header,
 * `X-Forwarded-For`) is believed only when the connection comes from one of them, because anyone
 * else can send any header.
 */
import { BlockList, isIP } from 'node:net';

/** The trust decision for one configured list of proxies. */
export interface ProxyTrust {
  /** Whether `address` (a socket's remote address) is a trusted proxy; false when absent or not an IP. */
  trusts(address: string | undefined): boolean;
  /**
   * The client a request stands for: the peer, or, when the peer is a trusted proxy, the
   * right-most `X-Forwarded-For` entry that is not a trusted proxy (walking right to left). An
   * unparsable entry stops the walk at the last trusted hop. `'unknown'` when the peer is absent.
   */
  clientAddress(
    peer: string | undefined,
    forwardedFor: string | readonly string[] | undefined,
  ): string;
}

/** Loopback (`127.0.0.0/8`, `::1`): the proxies the node adapter trusts when none are given. */
export const LOOPBACK_PROXIES: readonly string[] = ['127.0.0.0/8', '::1'];

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const V4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * An address in one spelling per host: IPv4-mapped IPv6 as IPv4, IPv6 in lower case without a
 * zone, brackets or port. `undefined` when `text` is not an IP address.
 */
export function normalizeAddress(text: string): string | undefined {
  let a = text.trim();
  a = BRACKETED.exec(a)?.[1] ?? V4_PORT.exec(a)?.[1] ?? a;
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  a = MAPPED_V4.exec(a)?.[1] ?? a;
  const family = isIP(a);
  if (family === 4) return a;
  if (family === 6) return a.toLowerCase();
  return undefined;
}

function addEntry(list: BlockList, entry: string): void {
  const slash = entry.indexOf('/');
  const address = normalizeAddress(slash === -1 ? entry : entry.slice(0, slash));
  const type = address === undefined ? undefined : isIP(address) === 4 ? 'ipv4' : 'ipv6';
  if (address === undefined || type === undefined)
    throw new TypeError(`not an IP address or CIDR: "${entry}"`);
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const text = entry.slice(slash + 1);
  const prefix = Number(text);
  if (!/^\d{1,3}$/.test(text) || prefix > (type === 'ipv4' ? 32 : 128))
    throw new TypeError(`not an IP address or CIDR: "${entry}"`);
  list.addSubnet(address, prefix, type);
}

function hopsOf(forwardedFor: string | readonly string[] | undefined): string[] {
  if (forwardedFor === undefined) return [];
  const joined = typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',');
  return joined
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
}

/**
 * Creates the trust decision for `proxies` (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`, `::1`); an
 * empty list trusts no one. Throws TypeError naming the first entry that is not an IP or CIDR.
 */
export function createProxyTrust(proxies: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of proxies) addEntry(list, entry.trim());
  const trusted = (address: string): boolean =>
    list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  return {
    trusts(address) {
      const a = address === undefined ? undefined : normalizeAddress(address);
      return a !== undefined && trusted(a);
    },
    clientAddress(peer, forwardedFor) {
      const from = peer === undefined ? undefined : normalizeAddress(peer);
      if (from === undefined) return 'unknown';
      let client = from;
      if (!trusted(from)) return client;
      const hops = hopsOf(forwardedFor);
      for (let i = hops.length - 1; i >= 0; i--) {
        // Each entry was appended by the trusted hop to its right, so it can be believed.
        const hop = normalizeAddress(hops[i] ?? '');
        if (hop === undefined) break;
        client = hop;
        if (!trusted(hop)) break;
      }
      return client;
    },
  };
}
