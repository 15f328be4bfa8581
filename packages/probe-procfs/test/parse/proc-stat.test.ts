/**
 * Tests of the /proc/stat parser on real captures and on the shapes older kernels and broken
 * files produce.
 */
import { describe, expect, it } from 'vitest';
import { parseProcStat } from '../../src/parse/proc-stat.js';
import { fixtureText } from '../helpers.js';

describe('parseProcStat', () => {
  it('reads every cpu line, btime and the counters of a real capture', () => {
    const text = fixtureText('host-a', 'step0', 'proc/stat');
    const parsed = parseProcStat(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const lines = text.split('\n');
    const cpuLines = lines.filter((line) => line.startsWith('cpu'));
    expect(parsed.value.cpus.map((cpu) => cpu.cpu)).toEqual(['all', ...cpuLines.slice(1).map((line) => line.split(' ')[0]!.slice(3))]);
    const first = cpuLines[0]!.split(/\s+/).slice(1).map(Number);
    expect(parsed.value.cpus[0]).toEqual({
      cpu: 'all',
      user: first[0],
      nice: first[1],
      system: first[2],
      idle: first[3],
      iowait: first[4],
      irq: first[5],
      softirq: first[6],
      steal: first[7],
      guest: first[8],
      guestNice: first[9],
    });
    const value = (name: string): number => Number(lines.find((line) => line.startsWith(`${name} `))!.split(' ')[1]);
    expect(parsed.value).toMatchObject({
      btime: value('btime'),
      ctxt: value('ctxt'),
      processes: value('processes'),
      procsRunning: value('procs_running'),
      procsBlocked: value('procs_blocked'),
      intr: value('intr'),
      softirq: value('softirq'),
    });
  });

  it('accepts the seven-column cpu lines and missing softirq line of 2.6.10-era kernels', () => {
    const parsed = parseProcStat('cpu  10 1 5 100 2 0 3\ncpu0 10 1 5 100 2 0 3\nintr 55 0 1\nctxt 9\nbtime 1700000000\nprocesses 4\nprocs_running 1\nprocs_blocked 0\n');
    expect(parsed.ok && parsed.value.cpus[1]).toEqual({
      cpu: '0', user: 10, nice: 1, system: 5, idle: 100, iowait: 2, irq: 0, softirq: 3, steal: null, guest: null, guestNice: null,
    });
    expect(parsed.ok && parsed.value.softirq).toBeNull();
  });

  it('keeps counters past 2^53 exact as bigint, up to int64 (the column type)', () => {
    const parsed = parseProcStat('cpu  1 1 1 1 1 1 1\nintr 9223372036854775807\nctxt 9007199254740993\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n');
    expect(parsed.ok && parsed.value.intr).toBe(9223372036854775807n);
    expect(parsed.ok && parsed.value.ctxt).toBe(9007199254740993n);
    const beyond = parseProcStat('cpu  1 1 1 1 1 1 1\nintr 18446744073709551615\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n');
    expect(!beyond.ok && beyond.status.code).toBe('PARSE_ERROR');
  });

  it.each([
    ['no cpu line', 'intr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'],
    ['no btime', 'cpu  1 1 1 1 1 1 1\nintr 1\nctxt 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'],
    ['a word for a number', 'cpu  1 1 x 1 1 1 1\nintr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'],
    ['a cpu before the summary', 'cpu0 1 1 1 1 1 1 1\ncpu  1 1 1 1 1 1 1\nintr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'],
    ['a cpu twice', 'cpu  1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1\nintr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'],
    ['a truncated file', 'cpu  1 1 1'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseProcStat(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.status).toMatchObject({ code: 'PARSE_ERROR', op: 'parse /proc/stat' });
  });
});
