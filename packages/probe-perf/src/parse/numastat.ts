/**
 * Parser of /sys/devices/system/node/nodeN/numastat: one `name value` line per counter of
 * page allocations on that node (numa_hit, numa_miss, numa_foreign, interleave_hit,
 * local_node, other_node). Counters a newer kernel adds are ignored; missing ones fail.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';

/** The counters of one node, in pages allocated since boot. */
export interface Numastat {
  /** Allocations intended for this node that succeeded here. */
  readonly numaHit: Count;
  /** Allocations intended for another node that landed here because it was short of memory. */
  readonly numaMiss: Count;
  /** Allocations intended for this node that landed on another one. */
  readonly numaForeign: Count;
  /** Interleaved allocations intended for this node that succeeded here. */
  readonly interleaveHit: Count;
  /** Allocations here by a process running on this node. */
  readonly localNode: Count;
  /** Allocations here by a process running on another node. */
  readonly otherNode: Count;
}

const SOURCE = 'numastat';
const FIELDS = {
  numa_hit: 'numaHit',
  numa_miss: 'numaMiss',
  numa_foreign: 'numaForeign',
  interleave_hit: 'interleaveHit',
  local_node: 'localNode',
  other_node: 'otherNode',
} as const satisfies Record<string, keyof Numastat>;

/** Parses one numastat file; PARSE_ERROR on a malformed line, a repeated counter or a missing one. */
export function parseNumastat(text: string): Result<Numastat> {
  const values = new Map<string, Count>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    if (space <= 0 || line.indexOf(' ', space + 1) !== -1) return parseError(SOURCE, `malformed line '${clip(line)}'`);
    const name = line.slice(0, space);
    const value = readCount(line, space + 1, line.length);
    if (value === undefined) return parseError(SOURCE, `malformed value in '${clip(line)}'`);
    if (values.has(name)) return parseError(SOURCE, `${clip(name)} appears twice`);
    values.set(name, value);
  }
  const out: Partial<Record<keyof Numastat, Count>> = {};
  for (const [name, key] of Object.entries(FIELDS)) {
    const value = values.get(name);
    if (value === undefined) return parseError(SOURCE, `no ${name} line`);
    out[key] = value;
  }
  return ok(out as Numastat);
}
