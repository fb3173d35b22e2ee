import { BlockList, isIP } from 'node:net';

/**
 * The proxies whose `X-Forwarded-For` the gateway believes (`--trust-proxy`). Without any,
 * the TCP peer is the client: a header anyone can send must not choose the address that
 * tokens' `--source-cidr` and the audit log go by.
 */
export interface TrustedProxies {
  /** What was configured, for logs and errors: `loopback,10.0.0.0/8`. */
  readonly description: string;
  trusts(address: string): boolean;
}

export const NO_TRUSTED_PROXIES: TrustedProxies = { description: 'none', trusts: () => false };

/** Thrown for a bad `--trust-proxy` value; the message names the option and the entry. */
export class TrustProxyError extends Error {
  override readonly name = 'TrustProxyError';
}

/**
 * Parses `--trust-proxy`: comma-separated entries, each `loopback` (127.0.0.0/8 and ::1), an
 * address (`10.1.2.3`, `fd00::1`) or a block (`10.0.0.0/8`, `fd00::/8`).
 */
export function parseTrustedProxies(text: string, option = '--trust-proxy'): TrustedProxies {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return NO_TRUSTED_PROXIES;
  const list = new BlockList();
  for (const entry of entries) {
    if (entry === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!family || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
      throw new TrustProxyError(
        `${option}: expected loopback, an IP address or a CIDR block such as 10.0.0.0/8, got "${entry}"`,
      );
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { description: entries.join(','), trusts: (address) => matches(list, address) };
}

/**
 * The client's address: the TCP peer, unless the peer is a trusted proxy; then
 * `X-Forwarded-For` is read from the right (each proxy appends the address it saw), skipping
 * trusted proxies, and the first address not trusted is the client. An entry that is not an
 * address stops the walk at the proxy that sent it: beyond it nothing can be believed.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: TrustedProxies,
): string {
  let client = plain(peer ?? '');
  if (!proxies.trusts(client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => plain(h.trim()))
    .filter(Boolean);
  for (const hop of hops.reverse()) {
    if (!isIP(hop)) return client;
    client = hop;
    if (!proxies.trusts(hop)) return hop;
  }
  return client;
}

/** `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) as `10.1.2.3`, so IPv4 blocks match it. */
function plain(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

function matches(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
