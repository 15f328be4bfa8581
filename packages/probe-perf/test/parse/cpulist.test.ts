/**
 * The CPU list parser on the captured online list and node cpulist, and on the forms the
 * kernel writes (ranges, singles, empty for a memory-only node).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCpuList } from '../../src/parse/cpulist.js';
import { FIXTURES } from '../helpers.js';

describe('parseCpuList', () => {
  it('parses the captured lists', () => {
    const online = readFileSync(join(FIXTURES, 'vm-2cpu', 'sys/devices/system/cpu/online'), 'utf8');
    const node0 = readFileSync(join(FIXTURES, 'vm-2cpu', 'sys/devices/system/node/node0/cpulist'), 'utf8');
    expect(parseCpuList(online)).toEqual({ ok: true, value: [0, 1] });
    expect(parseCpuList(node0)).toEqual({ ok: true, value: [0, 1] });
  });

  it.each([
    ['0-3,8,10-11\n', [0, 1, 2, 3, 8, 10, 11]],
    ['5', [5]],
    ['\n', []],
    ['', []],
    ['3,1,1-2', [1, 2, 3]],
  ])('parses %j', (text, cpus) => {
    expect(parseCpuList(text)).toEqual({ ok: true, value: cpus });
  });

  it.each(['a', '1-', '-1', '3-1', '1,,2', '0-99999', '1 2', ' 1'])('rejects %j with PARSE_ERROR', (text) => {
    const parsed = parseCpuList(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.status.code).toBe('PARSE_ERROR');
  });
});
