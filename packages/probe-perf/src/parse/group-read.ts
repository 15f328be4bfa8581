/**
 * Decoder of what read() returns for a counter opened with PERF_FORMAT_GROUP |
 * TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING | ID: { u64 nr; u64 time_enabled; u64 time_running;
 * { u64 value; u64 id; } values[nr]; }, little-endian. Lengths and counts are checked, so a
 * short or corrupt buffer is a PARSE_ERROR, never an out-of-range read.
 */
import { ok, type Result } from '@virtualeyes/core';
import { INT64_MAX, parseError } from '@virtualeyes/linux';

/** One member of a group reading. */
export interface GroupValue {
  /** The event's id (PERF_EVENT_IOC_ID of its fd). */
  readonly id: bigint;
  /** Raw count, unscaled. */
  readonly value: bigint;
}

/** One group read: the group's times and each member's count. */
export interface GroupReading {
  /** Nanoseconds the group was enabled (summed over inherited children). */
  readonly timeEnabled: bigint;
  /** Nanoseconds the group was actually on the PMU (summed over inherited children). */
  readonly timeRunning: bigint;
  /** Leader first, then the members in the order they joined. */
  readonly values: readonly GroupValue[];
}

const SOURCE = 'perf group read';
const HEADER_BYTES = 24;
const VALUE_BYTES = 16;
/** More members than any group this probe opens, and than a PMU could schedule at once. */
export const MAX_GROUP_MEMBERS = 64;

/** Decodes the first `length` bytes of `bytes`; PARSE_ERROR when they are not one whole group reading. */
export function decodeGroupRead(bytes: Uint8Array, length: number): Result<GroupReading> {
  if (!Number.isInteger(length) || length < HEADER_BYTES || length > bytes.length) {
    return parseError(SOURCE, `read returned ${length} bytes, a group reading needs at least ${HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const nr = view.getBigUint64(0, true);
  if (nr < 1n || nr > BigInt(MAX_GROUP_MEMBERS)) return parseError(SOURCE, `implausible member count ${nr}`);
  const count = Number(nr);
  if (length !== HEADER_BYTES + count * VALUE_BYTES) {
    return parseError(SOURCE, `${length} bytes for ${count} members, expected ${HEADER_BYTES + count * VALUE_BYTES}`);
  }
  const timeEnabled = view.getBigUint64(8, true);
  const timeRunning = view.getBigUint64(16, true);
  if (timeEnabled > INT64_MAX || timeRunning > INT64_MAX) return parseError(SOURCE, 'a time is beyond int64');
  const values: GroupValue[] = [];
  const ids = new Set<bigint>();
  for (let i = 0; i < count; i += 1) {
    const at = HEADER_BYTES + i * VALUE_BYTES;
    const value = view.getBigUint64(at, true);
    const id = view.getBigUint64(at + 8, true);
    if (value > INT64_MAX) return parseError(SOURCE, `member ${i} counts beyond int64`);
    if (ids.has(id)) return parseError(SOURCE, `id ${id} appears twice`);
    ids.add(id);
    values.push({ id, value });
  }
  return ok({ timeEnabled, timeRunning, values });
}
