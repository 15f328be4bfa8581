/**
 * Parser of /proc/PID/maps: one line per mapping, `start-end perms offset dev inode [path]`
 * (proc_pid_maps(5)). Addresses become 0x-prefixed 16-digit lower-case hex text: the same order
 * as the numbers, and exact above 2^63 ([vsyscall] is at 0xffffffffff600000).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';
import { hexCount, hexDifference, isHex, MAX_HEX_DIGITS } from './hex.js';

/** One mapping. */
export interface MapEntry {
  /** 0x and 16 hex digits. */
  readonly start: string;
  readonly end: string;
  readonly size: Count;
  readonly permissions: string;
  readonly offset: Count;
  /** major:minor in hex, as the kernel prints it. */
  readonly device: string;
  readonly inode: Count;
  /** Empty for an anonymous mapping. */
  readonly path: string;
  /** inode 0 and a path such as [heap]. */
  readonly pseudo: boolean;
}

const SOURCE = '/proc/[pid]/maps';
const ZEROS = '0'.repeat(MAX_HEX_DIGITS);

/** Parses /proc/PID/maps; PARSE_ERROR naming the first malformed line. */
export function parseMaps(text: string): Result<MapEntry[]> {
  const entries: MapEntry[] = [];
  const length = text.length;
  let from = 0;
  while (from < length) {
    let eol = text.indexOf('\n', from);
    if (eol < 0) eol = length;
    if (eol > from) {
      const entry = parseLine(text, from, eol);
      if (entry === undefined) return parseError(SOURCE, `malformed line '${clip(text.slice(from, eol))}'`);
      entries.push(entry);
    }
    from = eol + 1;
  }
  return ok(entries);
}

function parseLine(text: string, from: number, eol: number): MapEntry | undefined {
  const dash = text.indexOf('-', from);
  const f1 = text.indexOf(' ', from);
  if (dash < 0 || f1 < 0 || dash > f1 || f1 > eol) return undefined;
  if (!isHex(text, from, dash) || !isHex(text, dash + 1, f1)) return undefined;
  const startHex = text.slice(from, dash).toLowerCase();
  const endHex = text.slice(dash + 1, f1).toLowerCase();
  const size = hexDifference(startHex, endHex);
  if (size === undefined) return undefined;

  const f2 = text.indexOf(' ', f1 + 1);
  if (f2 !== f1 + 5 || f2 > eol) return undefined;
  const permissions = text.slice(f1 + 1, f2);
  const f3 = text.indexOf(' ', f2 + 1);
  if (f3 < 0 || f3 > eol || !isHex(text, f2 + 1, f3)) return undefined;
  const offset = hexCount(text.slice(f2 + 1, f3));
  if (offset === undefined) return undefined;
  const f4 = text.indexOf(' ', f3 + 1);
  if (f4 < 0 || f4 > eol) return undefined;
  const device = text.slice(f3 + 1, f4);
  if (!device.includes(':')) return undefined;
  let f5 = text.indexOf(' ', f4 + 1);
  if (f5 < 0 || f5 > eol) f5 = eol;
  const inode = readCount(text, f4 + 1, f5);
  if (inode === undefined) return undefined;
  // The path starts after the padding; it may itself contain spaces.
  let p = f5;
  while (p < eol && text.charCodeAt(p) === 32) p += 1;
  const path = text.slice(p, eol);
  return {
    start: pad(startHex),
    end: pad(endHex),
    size,
    permissions,
    offset,
    device,
    inode,
    path,
    pseudo: inode === 0 && path !== '',
  };
}

function pad(hex: string): string {
  return `0x${ZEROS.slice(hex.length)}${hex}`;
}
