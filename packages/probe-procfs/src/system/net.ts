/**
 * interfaces and net_dev. Interface attributes come from /sys/class/net/NAME; IPv6 addresses
 * from /proc/net/if_inet6; IPv4 addresses, which procfs lists nowhere per interface, from the
 * local addresses of /proc/net/fib_trie, each given the interface and prefix of the longest
 * directly connected route in /proc/net/route that contains it (127/8 is lo). That stays within
 * files (so roots and fixtures apply, and no native code or netlink socket is needed); what it
 * cannot see is an address with no connected route (a /32 with noprefixroute).
 */
import { type Batch, type Row } from '@virtualeyes/core';
import type { Budget } from '../group.js';
import { isMissing, missingSource, type Io } from './io.js';
import { ipv4Number, parseDirectRoutes, parseFibTrieLocal, parseIfInet6, parseNetDev, NET_DEV_FIELDS, type DirectRoute } from './parse/net.js';
import { SystemTable } from './tables.js';

const NET_DIR = '/sys/class/net';
const LOOPBACK_NETWORK = ipv4Number('127.0.0.0');
const LOOPBACK_PREFIX = 8;

/** net_dev rows from /proc/net/dev. */
export function collectNetDev(io: Io): Batch | undefined {
  const ts = io.clock.now();
  const text = io.host('/proc/net/dev');
  const parsed = text.ok ? parseNetDev(text.value) : text;
  if (!parsed.ok) {
    io.errors.push(parsed.status);
    return undefined;
  }
  const rows = parsed.value.map((line) => {
    const row: Record<string, string | number | bigint> = { interface: line.name };
    NET_DEV_FIELDS.forEach((field, i) => {
      row[field] = line.counters[i]!;
    });
    return row;
  });
  return { table: SystemTable.NET_DEV, ts, rows, snapshot: true };
}

/** interfaces rows: one per entry of /sys/class/net, with its addresses. */
export function collectInterfaces(io: Io, budget: Budget): Batch | undefined {
  const ts = io.clock.now();
  const listing = io.files.readDir(NET_DIR);
  if (!listing.ok) {
    if (isMissing(listing.status)) io.once('net', missingSource(SystemTable.INTERFACES, `no ${NET_DIR} (sysfs not mounted)`));
    else io.errors.push(listing.status);
    return undefined;
  }
  const names = listing.value.filter((name) => !name.startsWith('.') && name !== 'bonding_masters').sort();
  const addresses = addressesByInterface(io);
  const rows: Row[] = [];
  for (const name of names) {
    if (budget.expired()) {
      io.errors.push(budget.cutShort(SystemTable.INTERFACES, rows.length, names.length));
      return { table: SystemTable.INTERFACES, ts, rows, snapshot: false };
    }
    const dir = `${NET_DIR}/${name}`;
    const int = (attribute: string, radix = 10): number | null => {
      const text = io.attribute(`${dir}/${attribute}`);
      if (text === null) return null;
      const value = radix === 16 ? Number.parseInt(text, 16) : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(value) ? value : null;
    };
    const mac = io.attribute(`${dir}/address`);
    const speed = int('speed');
    rows.push({
      interface: name,
      ifindex: int('ifindex'),
      mac: mac === null || mac === '' ? null : mac,
      mtu: int('mtu'),
      operstate: io.attribute(`${dir}/operstate`),
      // Virtual and down links answer EINVAL or -1 (SPEED_UNKNOWN).
      link_speed: speed === null || speed < 0 ? null : speed,
      type: int('type'),
      flags: int('flags', 16),
      addresses: addresses.get(name) ?? [],
    });
  }
  return { table: SystemTable.INTERFACES, ts, rows, snapshot: true };
}

/** interface → `address/prefix` list, IPv4 in numeric order (fib_trie's), then IPv6 sorted as text; a missing source leaves its family out (reported once). */
function addressesByInterface(io: Io): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  const add = (name: string, address: string): void => {
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [address]);
    else if (!list.includes(address)) list.push(address);
  };
  const fib = io.files.readText('/proc/net/fib_trie');
  const route = io.files.readText('/proc/net/route');
  const locals = fib.ok ? parseFibTrieLocal(fib.value) : fib;
  const routes = route.ok ? parseDirectRoutes(route.value) : route;
  if (locals.ok && routes.ok) {
    for (const address of locals.value) {
      const owner = ownerOf(ipv4Number(address), routes.value);
      if (owner !== undefined) add(owner.name, `${address}/${owner.prefix}`);
    }
  } else {
    const failed = locals.ok ? (routes.ok ? undefined : routes.status) : locals.status;
    if (failed !== undefined) {
      if (isMissing(failed)) io.once('ipv4', missingSource(SystemTable.INTERFACES, 'no /proc/net/fib_trie or /proc/net/route (a kernel without IPv4); IPv4 addresses stay out'));
      else io.errors.push(failed);
    }
  }
  const inet6 = io.files.readText('/proc/net/if_inet6');
  const v6 = inet6.ok ? parseIfInet6(inet6.value) : inet6;
  // if_inet6 follows a hash table's order, which moves as addresses come and go: sorted, a
  // reordering alone never makes a new interfaces version.
  if (v6.ok) for (const { name, address } of [...v6.value].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))) add(name, address);
  else if (isMissing(v6.status)) io.once('ipv6', missingSource(SystemTable.INTERFACES, 'no /proc/net/if_inet6 (IPv6 disabled); IPv6 addresses stay out'));
  else io.errors.push(v6.status);
  return byName;
}

/**
 * The longest directly connected route containing `address`. Loopback addresses belong to lo
 * (their routes are in the local table, which /proc/net/route does not show), and a gateway-less
 * default route (`default dev wg0`) says nothing about which interface owns an address.
 */
export function ownerOf(address: number, routes: readonly DirectRoute[]): DirectRoute | undefined {
  if (sameNetwork(address, LOOPBACK_NETWORK, LOOPBACK_PREFIX)) return { name: 'lo', network: LOOPBACK_NETWORK, prefix: LOOPBACK_PREFIX };
  let best: DirectRoute | undefined;
  for (const route of routes) {
    if (route.prefix === 0 || (best !== undefined && route.prefix <= best.prefix)) continue;
    if (sameNetwork(address, route.network, route.prefix)) best = route;
  }
  return best;
}

function sameNetwork(address: number, network: number, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}
