/**
 * Parsers of a network namespace's socket tables: /proc/PID/net/{tcp,tcp6,udp,udp6} (one socket
 * a line, addresses as hex words) and /proc/PID/net/unix. An IPv4 address is one 32-bit word and
 * an IPv6 address four, each printed as the host reads the network-order bytes, so on a
 * little-endian host every word's bytes come reversed; ports are printed in host order.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';
import { isHex } from './hex.js';

/** A TCP or UDP socket of one table. */
export interface InetSocket {
  readonly inode: Count;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Kernel TCP state name (UDP uses the same numbers). */
  readonly state: string;
}

/** A Unix socket of /proc/net/unix. */
export interface UnixSocket {
  readonly inode: Count;
  /** LISTEN, UNCONNECTED, CONNECTING, CONNECTED or DISCONNECTING. */
  readonly state: string;
  /** The bound path, '@name' for abstract ones; null when unbound. */
  readonly path: string | null;
  /** The Protocol field (always 0). */
  readonly protocol: number;
}

/** include/net/tcp_states.h, numbered from 1. */
const TCP_STATES = ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];
/** socket_state of include/uapi/linux/net.h, numbered from 1 (SS_UNCONNECTED). */
const UNIX_STATES = ['UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];
/** __SO_ACCEPTCON in the Flags field: a listening socket. */
const SO_ACCEPTCON = 0x10000;

/** Parses a tcp, tcp6, udp or udp6 table (header first); sockets with inode 0 (TIME_WAIT, no owner) are left out. */
export function parseInetSockets(text: string, source: string, littleEndian: boolean): Result<InetSocket[]> {
  const sockets: InetSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fields = line.trim().split(/ +/);
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode …
    if (fields.length < 10) return parseError(source, `short line '${clip(line)}'`);
    const local = endpoint(fields[1]!, littleEndian);
    const remote = endpoint(fields[2]!, littleEndian);
    const st = fields[3]!;
    const state = isHex(st, 0, st.length) ? TCP_STATES[Number.parseInt(st, 16) - 1] : undefined;
    const inode = readCount(fields[9]!, 0, fields[9]!.length);
    if (local === undefined || remote === undefined || state === undefined || inode === undefined) return parseError(source, `malformed line '${clip(line)}'`);
    if (inode === 0) continue;
    sockets.push({ inode, localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, state });
  }
  return ok(sockets);
}

/** Parses /proc/net/unix (header first). */
export function parseUnixSockets(text: string): Result<UnixSocket[]> {
  const source = '/proc/[pid]/net/unix';
  const sockets: UnixSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    // Num: RefCount Protocol Flags Type St Inode [Path]; the path may hold spaces.
    const match = /^[0-9a-fA-F]+: ([0-9a-fA-F]{8}) ([0-9a-fA-F]{8}) ([0-9a-fA-F]{8}) ([0-9a-fA-F]{4}) ([0-9a-fA-F]{2}) +(\d+)(?: (.*))?$/.exec(line);
    if (match === null) return parseError(source, `malformed line '${clip(line)}'`);
    const flags = Number.parseInt(match[3]!, 16);
    const st = Number.parseInt(match[5]!, 16);
    const inode = readCount(match[6]!, 0, match[6]!.length);
    const state = (flags & SO_ACCEPTCON) !== 0 ? 'LISTEN' : UNIX_STATES[st - 1];
    if (inode === undefined || state === undefined) return parseError(source, `malformed line '${clip(line)}'`);
    const path = match[7] === undefined || match[7] === '' ? null : match[7];
    sockets.push({ inode, state, path, protocol: Number.parseInt(match[2]!, 16) });
  }
  return ok(sockets);
}

/** `ADDR:PORT` in hex: 8 digits for IPv4, 32 for IPv6. */
function endpoint(text: string, littleEndian: boolean): { address: string; port: number } | undefined {
  const colon = text.indexOf(':');
  if (colon < 0 || text.length - colon - 1 !== 4 || !isHex(text, colon + 1, text.length)) return undefined;
  const port = Number.parseInt(text.slice(colon + 1), 16);
  const bytes = addressBytes(text.slice(0, colon), littleEndian);
  if (bytes === undefined) return undefined;
  return { address: bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes), port };
}

/** Network-order bytes of an address printed as 32-bit words. */
export function addressBytes(hex: string, littleEndian: boolean): number[] | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const w = [0, 2, 4, 6].map((at) => Number.parseInt(hex.slice(word + at, word + at + 2), 16));
    bytes.push(...(littleEndian ? w.reverse() : w));
  }
  return bytes;
}

/** RFC 5952 text of 16 address bytes: lower-case, the longest run of two or more zero groups as ::, IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes[i]! * 256 + bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes.slice(12).join('.')}`;
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}
