/**
 * The numastat parser on the real capture from test/fixtures/vm-2cpu and on variants: extra
 * counters of newer kernels, counters beyond 2^53, and malformed or incomplete files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNumastat } from '../../src/parse/numastat.js';
import { FIXTURES } from '../helpers.js';

const capture = readFileSync(join(FIXTURES, 'vm-2cpu', 'sys/devices/system/node/node0/numastat'), 'utf8');

describe('parseNumastat', () => {
  it('parses the captured node0', () => {
    const parsed = parseNumastat(capture);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.keys(parsed.value)).toEqual(['numaHit', 'numaMiss', 'numaForeign', 'interleaveHit', 'localNode', 'otherNode']);
    // One node: every allocation is a hit and local.
    expect(parsed.value.numaHit).toBe(parsed.value.localNode);
    expect([parsed.value.numaMiss, parsed.value.numaForeign, parsed.value.otherNode]).toEqual([0, 0, 0]);
  });

  it('ignores counters it does not know and keeps huge ones exact', () => {
    const text = `${capture}numa_future 7\n`.replace(/^numa_hit \d+$/m, 'numa_hit 18446744073709551');
    const parsed = parseNumastat(text);
    expect(parsed.ok && parsed.value.numaHit).toBe(18446744073709551n);
  });

  it.each([
    ['a missing counter', capture.replace(/^other_node.*\n/m, '')],
    ['a repeated counter', `${capture}numa_hit 1\n`],
    ['a negative value', capture.replace(/^numa_miss 0$/m, 'numa_miss -1')],
    ['a value beyond int64', capture.replace(/^numa_miss 0$/m, 'numa_miss 9223372036854775808')],
    ['a line without a value', capture.replace(/^numa_miss 0$/m, 'numa_miss')],
    ['a tab instead of a space', capture.replace(/^numa_miss 0$/m, 'numa_miss\t0')],
    ['an empty file', ''],
  ])('rejects %s with PARSE_ERROR', (_what, text) => {
    const parsed = parseNumastat(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.status.code).toBe('PARSE_ERROR');
  });
});
