/**
 * Parsers of the `name value` files the kernel writes one counter a line: /proc/vmstat,
 * /sys/devices/system/node/nodeN/numastat, cgroup cpu.stat, memory.events, memory.stat; and of
 * the per-node meminfo (`Node 0 MemTotal:  4548344 kB`). Values stay exact (see readCount).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, multiplyCount, parseError, readCount, type Count } from '@virtualeyes/linux';

const KIB = 1024;

/** Parses `name value` lines into a map; PARSE_ERROR naming `source` on a line that is not one. Empty text is an empty map. */
export function parseKeyed(text: string, source: string): Result<ReadonlyMap<string, Count>> {
  const values = new Map<string, Count>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const value = space > 0 ? readCount(line, space + 1, line.length) : undefined;
    if (value === undefined) return parseError(source, `malformed line '${clip(line)}'`);
    values.set(line.slice(0, space), value);
  }
  return ok(values);
}

/** Parses a node's meminfo (`Node N Key: value kB`) into key → bytes (or count for the HugePages lines). */
export function parseNodeMeminfo(text: string, source: string): Result<ReadonlyMap<string, Count>> {
  const values = new Map<string, Count>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^Node \d+ ([^:\s]+):\s+(\d+)(?: (kB))?\s*$/.exec(line);
    const number = match === null ? undefined : readCount(match[2]!, 0, match[2]!.length);
    const value = number === undefined ? undefined : match?.[3] === 'kB' ? multiplyCount(number, KIB) : number;
    if (match === null || value === undefined) return parseError(source, `malformed line '${clip(line)}'`);
    values.set(match[1]!, value);
  }
  if (!values.has('MemTotal')) return parseError(source, 'no MemTotal line');
  return ok(values);
}
