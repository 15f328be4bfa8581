/**
 * Parsers of the network files: /proc/net/dev (per-interface counters), /proc/net/if_inet6
 * (IPv6 addresses), and the pair used for IPv4 addresses without netlink: /proc/net/fib_trie
 * (the addresses the kernel treats as local) and /proc/net/route (which interface reaches which
 * subnet directly).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';

/** The 16 counters of a /proc/net/dev line, in file order. */
export const NET_DEV_FIELDS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'rx_fifo',
  'rx_frame',
  'rx_compressed',
  'rx_multicast',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
  'tx_fifo',
  'tx_collisions',
  'tx_carrier',
  'tx_compressed',
] as const;

/** One interface's line of /proc/net/dev. */
export interface NetDevLine {
  readonly name: string;
  /** {@link NET_DEV_FIELDS} in order. */
  readonly counters: readonly Count[];
}

const NET_DEV = '/proc/net/dev';

/** Parses /proc/net/dev (two header lines, then `name: 16 counters`); PARSE_ERROR on a malformed line. */
export function parseNetDev(text: string): Result<NetDevLine[]> {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').includes('|') || !(lines[1] ?? '').includes('|')) return parseError(NET_DEV, 'no header lines');
  const out: NetDevLine[] = [];
  for (let i = 2; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    // Counters never hold a colon, so the last one ends the name.
    const colon = line.lastIndexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || fields.length !== NET_DEV_FIELDS.length) return parseError(NET_DEV, `malformed line '${clip(line)}'`);
    if (out.some((seen) => seen.name === name)) return parseError(NET_DEV, `${name} appears twice`);
    const counters: Count[] = [];
    for (const field of fields) {
      const value = readCount(field, 0, field.length);
      if (value === undefined) return parseError(NET_DEV, `malformed counter in '${clip(line)}'`);
      counters.push(value);
    }
    out.push({ name, counters });
  }
  return ok(out);
}

/** One address of /proc/net/if_inet6. */
export interface Inet6Address {
  readonly name: string;
  /** Compressed text form with the prefix length, `fe80::1/64`. */
  readonly address: string;
}

const IF_INET6 = '/proc/net/if_inet6';

/** Parses /proc/net/if_inet6 (`addr32hex ifindex prefix scope flags name`); PARSE_ERROR on a malformed line. */
export function parseIfInet6(text: string): Result<Inet6Address[]> {
  const out: Inet6Address[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [hex, , prefix, , , name] = fields;
    if (fields.length !== 6 || !/^[0-9a-f]{32}$/i.test(hex!) || !/^[0-9a-f]{2}$/i.test(prefix!)) return parseError(IF_INET6, `malformed line '${clip(line)}'`);
    out.push({ name: name!, address: `${ipv6Text(hex!)}/${Number.parseInt(prefix!, 16)}` });
  }
  return ok(out);
}

/** RFC 5952 text of a 32-hex-digit IPv6 address: lower case, leading zeros dropped, the longest run of two or more zero groups as `::`. */
export function ipv6Text(hex: string): string {
  const groups: string[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(Number.parseInt(hex.slice(i, i + 4), 16).toString(16));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j += 1;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

const FIB_TRIE = '/proc/net/fib_trie';

/**
 * The local IPv4 addresses in /proc/net/fib_trie: leaves (`|-- 192.0.2.2`) carrying a
 * `/32 host LOCAL` entry, each once (the file repeats them per routing table), in file order.
 */
export function parseFibTrieLocal(text: string): Result<string[]> {
  const found = new Set<string>();
  let leaf: string | undefined;
  let tables = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) {
      tables += 1;
      leaf = undefined;
      continue;
    }
    const leafMatch = /^\s+\|-- (\d{1,3}(?:\.\d{1,3}){3})$/.exec(line);
    if (leafMatch !== null) {
      leaf = leafMatch[1]!;
      continue;
    }
    if (/^\s+\+-- /.test(line)) {
      leaf = undefined;
      continue;
    }
    const entry = /^\s+\/(\d{1,2}) (\S+) (\S+)/.exec(line);
    if (entry === null) return parseError(FIB_TRIE, `malformed line '${clip(line)}'`);
    if (leaf !== undefined && entry[1] === '32' && entry[3] === 'LOCAL') found.add(leaf);
  }
  if (tables === 0 && text.trim() !== '') return parseError(FIB_TRIE, 'no table header');
  return ok([...found]);
}

/** A directly connected IPv4 subnet from /proc/net/route (no gateway). */
export interface DirectRoute {
  readonly name: string;
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  /** Prefix length, 0-32. */
  readonly prefix: number;
}

const ROUTE = '/proc/net/route';

/** The gateway-less routes of /proc/net/route (little-endian hex fields); PARSE_ERROR on a malformed line. */
export function parseDirectRoutes(text: string): Result<DirectRoute[]> {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('Iface')) return parseError(ROUTE, 'no header line');
  const out: DirectRoute[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [name, destination, gateway, , , , , mask] = fields;
    if (fields.length < 8 || ![destination, gateway, mask].every((hex) => /^[0-9A-Fa-f]{8}$/.test(hex!))) return parseError(ROUTE, `malformed line '${clip(line)}'`);
    if (Number.parseInt(gateway!, 16) !== 0) continue;
    const maskValue = littleEndian(mask!);
    const prefix = popcount(maskValue);
    out.push({ name: name!, network: littleEndian(destination!), prefix });
  }
  return ok(out);
}

/** An IPv4 dotted quad as an unsigned 32-bit number. */
export function ipv4Number(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

/** The /proc/net/route hex form of a field (host byte order, little-endian on every Linux this runs on) as a number. */
function littleEndian(hex: string): number {
  const bytes = [hex.slice(6, 8), hex.slice(4, 6), hex.slice(2, 4), hex.slice(0, 2)];
  return Number.parseInt(bytes.join(''), 16);
}

function popcount(value: number): number {
  let bits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 2)) bits += v % 2;
  return bits;
}
