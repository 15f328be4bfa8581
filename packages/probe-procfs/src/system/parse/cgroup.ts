/**
 * Parsers of cgroup files beyond the `name value` ones (see keyed.ts): v2 io.stat
 * (`8:0 rbytes=… wbytes=… rios=… wios=…` per device), v1 blkio `_recursive` files
 * (`8:0 Read 123` per device and operation), and one-value files with `max` for no limit.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';

/** Bytes and operations summed over every device. */
export interface IoTotals {
  readonly rbytes: bigint;
  readonly wbytes: bigint;
  readonly rios: bigint;
  readonly wios: bigint;
}

const IO_KEYS: ReadonlySet<string> = new Set(['rbytes', 'wbytes', 'rios', 'wios']);

/** Sums v2 io.stat over devices; keys other than rbytes/wbytes/rios/wios (dbytes, dios, cost.*) are skipped. */
export function parseIoStat(text: string, source: string): Result<IoTotals> {
  const totals = { rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [device, ...pairs] = line.trim().split(/\s+/);
    if (!/^\d+:\d+$/.test(device!)) return parseError(source, `malformed line '${clip(line)}'`);
    for (const pair of pairs) {
      const equals = pair.indexOf('=');
      const key = pair.slice(0, equals);
      if (!IO_KEYS.has(key)) continue;
      if (!/^\d+$/.test(pair.slice(equals + 1))) return parseError(source, `malformed value '${clip(pair)}'`);
      totals[key as keyof IoTotals] += BigInt(pair.slice(equals + 1));
    }
  }
  return ok(totals);
}

/** Sums a v1 blkio file (`major:minor Read|Write|Sync|Async|Discard|Total value`, then `Total value`) into Read and Write totals. */
export function parseBlkio(text: string, source: string): Result<{ readonly read: bigint; readonly write: bigint }> {
  let read = 0n;
  let write = 0n;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields[0] === 'Total' && fields.length === 2) continue;
    if (fields.length !== 3 || !/^\d+:\d+$/.test(fields[0]!) || !/^\d+$/.test(fields[2]!)) return parseError(source, `malformed line '${clip(line)}'`);
    if (fields[1] === 'Read') read += BigInt(fields[2]!);
    else if (fields[1] === 'Write') write += BigInt(fields[2]!);
  }
  return ok({ read, write });
}

/** A one-value limit file: the number, or null for `max` (v2) or a v1 "unlimited" at or above `unlimitedFrom`. */
export function parseLimit(text: string, source: string, unlimitedFrom?: bigint): Result<Count | null> {
  const value = text.trim();
  if (value === 'max') return ok(null);
  const count = readCount(value, 0, value.length);
  if (count === undefined) {
    // v1 writes its "unlimited" (PAGE_COUNTER_MAX pages in bytes) past int64 on no kernel, but a u64 -1 on some.
    if (/^\d{19,20}$/.test(value) && unlimitedFrom !== undefined) return ok(null);
    return parseError(source, `malformed value '${clip(value)}'`);
  }
  if (unlimitedFrom !== undefined && BigInt(count) >= unlimitedFrom) return ok(null);
  return ok(count);
}
