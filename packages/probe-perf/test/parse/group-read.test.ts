/**
 * The group read decoder on the real capture from test/fixtures/vm-2cpu (seven software
 * events read as one group on CPU 0) and on hand-made buffers at the edges of the layout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGroupRead } from '../../src/parse/group-read.js';
import { FIXTURES } from '../helpers.js';

const capture = JSON.parse(readFileSync(join(FIXTURES, 'vm-2cpu', 'group-read.json'), 'utf8')) as { events: { event: string; id: string }[]; bytes: string };

function reading(nr: number, enabled: bigint, running: bigint, values: readonly (readonly [bigint, bigint])[]): Buffer {
  const buffer = Buffer.alloc(24 + 16 * values.length);
  buffer.writeBigUInt64LE(BigInt(nr), 0);
  buffer.writeBigUInt64LE(enabled, 8);
  buffer.writeBigUInt64LE(running, 16);
  values.forEach(([value, id], index) => {
    buffer.writeBigUInt64LE(value, 24 + index * 16);
    buffer.writeBigUInt64LE(id, 32 + index * 16);
  });
  return buffer;
}

describe('decodeGroupRead', () => {
  it('decodes the captured software group: times, then each member in open order with its id', () => {
    const bytes = Buffer.from(capture.bytes, 'hex');
    const decoded = decodeGroupRead(bytes, bytes.length);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const { timeEnabled, timeRunning, values } = decoded.value;
    expect(values.map((value) => value.id.toString())).toEqual(capture.events.map((event) => event.id));
    expect(timeEnabled).toBe(timeRunning);
    expect(timeEnabled).toBeGreaterThan(100_000_000n);
    const [cpuClock, taskClock] = values;
    // cpu-clock and task-clock count nanoseconds of the same window on CPU 0.
    expect(Number(cpuClock!.value)).toBeCloseTo(Number(timeEnabled), -7);
    expect(Number(taskClock!.value)).toBeCloseTo(Number(timeEnabled), -7);
  });

  it('reads only the length read() returned, not the rest of the buffer', () => {
    const buffer = Buffer.concat([reading(1, 10n, 5n, [[3n, 9n]]), Buffer.alloc(64, 0xff)]);
    expect(decodeGroupRead(buffer, 40)).toEqual({ ok: true, value: { timeEnabled: 10n, timeRunning: 5n, values: [{ id: 9n, value: 3n }] } });
  });

  it.each([
    ['shorter than the header', reading(1, 1n, 1n, [[1n, 1n]]).subarray(0, 20), 20],
    ['a length past the buffer', reading(1, 1n, 1n, [[1n, 1n]]), 56],
    ['a negative length', reading(1, 1n, 1n, [[1n, 1n]]), -1],
    ['no members', reading(0, 1n, 1n, []), 24],
    ['more members than the bytes hold', reading(2, 1n, 1n, [[1n, 1n]]), 40],
    ['fewer members than the bytes hold', reading(1, 1n, 1n, [[1n, 1n], [2n, 2n]]), 56],
    ['an implausible member count', reading(1000, 1n, 1n, [[1n, 1n]]), 40],
    ['a count beyond int64', reading(1, 1n, 1n, [[2n ** 63n, 1n]]), 40],
    ['a time beyond int64', reading(1, 2n ** 64n - 1n, 1n, [[1n, 1n]]), 40],
    ['a repeated id', reading(2, 1n, 1n, [[1n, 4n], [2n, 4n]]), 56],
  ])('rejects %s with PARSE_ERROR', (_what, bytes, length) => {
    const decoded = decodeGroupRead(bytes, length);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.status.code).toBe('PARSE_ERROR');
  });
});
