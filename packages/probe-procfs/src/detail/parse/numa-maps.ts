/**
 * Parser of /proc/PID/numa_maps (numa(7)): one line per mapping, `address policy tokens…`, where
 * N<node>=<pages> says how many of its pages are on each node and kernelpagesize_kB their size.
 * Summed per (node, policy) and split by the mapping's kind, so a process has one row per node
 * it uses on a host with uniform policies. File paths are escaped by the kernel (no spaces).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, multiplyCount, parseError, readCount, readUint, toCount, type Count } from '@virtualeyes/linux';
import { isHex } from './hex.js';

/** The kinds of mapping pages are counted under. */
export type NumaKind = 'anon' | 'file' | 'heap' | 'stack' | 'huge';

/** Bytes on one node under one policy. */
export interface NumaUsage {
  readonly node: number;
  readonly policy: string;
  readonly total: Count;
  readonly anon: Count;
  readonly file: Count;
  readonly heap: Count;
  readonly stack: Count;
  readonly huge: Count;
}

const SOURCE = '/proc/[pid]/numa_maps';
const KIB = 1024;
/** Policies mpol_to_str prints with a space in their name. */
const SPACED_POLICIES = ['weighted interleave', 'prefer (many)'];
const MAX_NODE = 65535;

interface Sums {
  anon: bigint;
  file: bigint;
  heap: bigint;
  stack: bigint;
  huge: bigint;
}

/** Parses numa_maps into bytes per (node, policy), in order of first appearance; PARSE_ERROR naming the first malformed line. */
export function parseNumaMaps(text: string): Result<NumaUsage[]> {
  const sums = new Map<string, { node: number; policy: string; sums: Sums }>();
  const length = text.length;
  let from = 0;
  while (from < length) {
    let eol = text.indexOf('\n', from);
    if (eol < 0) eol = length;
    if (eol > from && !addLine(text.slice(from, eol), sums)) return parseError(SOURCE, `malformed line '${clip(text.slice(from, eol))}'`);
    from = eol + 1;
  }
  const usages: NumaUsage[] = [];
  for (const { node, policy, sums: s } of sums.values()) {
    const bytes = [s.anon, s.file, s.heap, s.stack, s.huge, s.anon + s.file + s.heap + s.stack + s.huge].map(toCount);
    const [anon, file, heap, stack, huge, total] = bytes;
    if (anon === undefined || file === undefined || heap === undefined || stack === undefined || huge === undefined || total === undefined) {
      return parseError(SOURCE, 'page counts past the int64 range');
    }
    usages.push({ node, policy, total, anon, file, heap, stack, huge });
  }
  return ok(usages);
}

function addLine(line: string, sums: Map<string, { node: number; policy: string; sums: Sums }>): boolean {
  const space = line.indexOf(' ');
  if (space <= 0 || !isHex(line, 0, space)) return false;
  let policyEnd = -1;
  for (const spaced of SPACED_POLICIES) if (line.startsWith(spaced, space + 1)) policyEnd = line.indexOf(' ', space + 1 + spaced.length);
  if (policyEnd < 0) policyEnd = line.indexOf(' ', space + 1);
  if (policyEnd < 0) policyEnd = line.length;
  const policy = line.slice(space + 1, policyEnd);
  if (policy === '') return false;
  let kind: NumaKind = 'anon';
  let pageKib: Count | undefined;
  const nodes: [number, Count][] = [];
  for (const token of line.slice(policyEnd + 1).split(' ')) {
    if (token === '') continue;
    // hugetlb wins over everything (a hugetlbfs file is huge pages); heap, stack and file= name the rest.
    if (token === 'huge') {
      kind = 'huge';
      continue;
    }
    if (token === 'heap' || token === 'stack') {
      if (kind === 'anon') kind = token;
      continue;
    }
    const eq = token.indexOf('=');
    if (eq <= 0) continue; // a flag numa_maps may add (such as "bind"), carrying no count
    if (token.startsWith('file=')) {
      if (kind === 'anon') kind = 'file';
      continue;
    }
    if (token.charCodeAt(0) === 78 /* N */ && eq > 1) {
      const node = readUint(token, 1, eq);
      const pages = readCount(token, eq + 1, token.length);
      if (node < 0 || node > MAX_NODE || pages === undefined) return false;
      nodes.push([node, pages]);
    } else if (token.startsWith('kernelpagesize_kB=')) {
      pageKib = readCount(token, eq + 1, token.length);
      if (pageKib === undefined) return false;
    } else if (readCount(token, eq + 1, token.length) === undefined) {
      return false;
    }
  }
  if (nodes.length === 0) return true;
  if (pageKib === undefined) return false;
  const pageBytes = multiplyCount(pageKib, KIB);
  if (pageBytes === undefined) return false;
  for (const [node, pages] of nodes) {
    const key = `${node} ${policy}`;
    let entry = sums.get(key);
    if (entry === undefined) {
      entry = { node, policy, sums: { anon: 0n, file: 0n, heap: 0n, stack: 0n, huge: 0n } };
      sums.set(key, entry);
    }
    entry.sums[kind] += BigInt(pages) * BigInt(pageBytes);
  }
  return true;
}
