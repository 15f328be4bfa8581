/**
 * Parser of /proc/diskstats: `major minor name` and 11 (before 4.18), 15 (4.18+: discards) or
 * 17 (5.5+: flushes) numbers per block device. See Documentation/admin-guide/iostats.rst.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError, readCount, type Count } from '@virtualeyes/linux';

/** The numbers after the name, in file order. */
export const DISKSTATS_FIELDS = [
  'reads_completed',
  'reads_merged',
  'sectors_read',
  'read_time',
  'writes_completed',
  'writes_merged',
  'sectors_written',
  'write_time',
  'in_flight',
  'io_time',
  'weighted_io_time',
  'discards_completed',
  'discards_merged',
  'sectors_discarded',
  'discard_time',
  'flushes_completed',
  'flush_time',
] as const;

/** One diskstats field name. */
export type DiskstatsField = (typeof DISKSTATS_FIELDS)[number];

/** One device's line. */
export interface DiskstatsLine {
  readonly major: number;
  readonly minor: number;
  readonly name: string;
  /** Fields the kernel writes; the discard and flush ones are absent on older kernels. */
  readonly values: ReadonlyMap<DiskstatsField, Count>;
}

const SOURCE = '/proc/diskstats';
const FIELD_COUNTS: ReadonlySet<number> = new Set([11, 15, 17]);

/** Parses /proc/diskstats; PARSE_ERROR on a line with another field count or a non-number. */
export function parseDiskstats(text: string): Result<DiskstatsLine[]> {
  const out: DiskstatsLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const major = Number(fields[0]);
    const minor = Number(fields[1]);
    const numbers = fields.slice(3);
    if (!/^\d+$/.test(fields[0]!) || !/^\d+$/.test(fields[1] ?? '') || fields[2] === undefined || !FIELD_COUNTS.has(numbers.length)) {
      return parseError(SOURCE, `malformed line '${clip(line.trim())}'`);
    }
    const values = new Map<DiskstatsField, Count>();
    for (let i = 0; i < numbers.length; i += 1) {
      const value = readCount(numbers[i]!, 0, numbers[i]!.length);
      if (value === undefined) return parseError(SOURCE, `malformed number in '${clip(line.trim())}'`);
      values.set(DISKSTATS_FIELDS[i]!, value);
    }
    out.push({ major, minor, name: fields[2], values });
  }
  return ok(out);
}
