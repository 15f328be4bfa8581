/**
 * The small-file parsers: perf_event_paranoid (possibly negative), CapEff and cgroup.procs,
 * on the captured paranoid value and on crafted files (btime's tests are in @virtualeyes/linux).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCapEff, parseIntFile, parsePidList } from '../../src/parse/values.js';
import { FIXTURES } from '../helpers.js';

describe('small files', () => {
  it('reads the captured perf_event_paranoid', () => {
    const text = readFileSync(join(FIXTURES, 'vm-2cpu', 'proc/sys/kernel/perf_event_paranoid'), 'utf8');
    expect(parseIntFile(text, 'paranoid')).toEqual({ ok: true, value: 2 });
  });

  it.each([
    ['-1\n', -1],
    ['4', 4],
  ])('reads the integer of %j', (text, value) => {
    expect(parseIntFile(text, 'x')).toEqual({ ok: true, value });
  });

  it.each(['', 'two\n', '1 2', '-'])('rejects %j as an integer file', (text) => {
    expect(parseIntFile(text, 'x').ok).toBe(false);
  });

  it('reads CapEff as a bit mask', () => {
    expect(parseCapEff('Name:\tx\nCapEff:\t000001ffffffffff\nCapBnd:\t0\n')).toEqual({ ok: true, value: 0x1ffffffffffn });
    expect(parseCapEff('CapEff:\t0000000000000000')).toEqual({ ok: true, value: 0n });
    expect(parseCapEff('CapInh:\t0\n').ok).toBe(false);
    expect(parseCapEff('CapEff:\tzz\n').ok).toBe(false);
  });

  it('reads cgroup.procs', () => {
    expect(parsePidList('1\n42\n', 'cgroup.procs')).toEqual({ ok: true, value: [1, 42] });
    expect(parsePidList('', 'cgroup.procs')).toEqual({ ok: true, value: [] });
    expect(parsePidList('1\nx\n', 'cgroup.procs').ok).toBe(false);
    expect(parsePidList('0\n', 'cgroup.procs').ok).toBe(false);
  });
});
