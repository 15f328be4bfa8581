/**
 * The /proc/PID/stat parser on real captures (command names with spaces and parentheses,
 * kernel threads, a zombie, negative nice values), on this process's live stat line, and on
 * crafted and broken lines. Merges the cases of probe-procfs' and probe-perf's former parsers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePidStat } from '../src/index.js';
import { fixtureText, statFields } from './helpers.js';

/** A tail after `pid (comm) ` as the kernel prints it: 52 fields, starttime 4242, vsize 12345678. */
const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 4242 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n';

describe('parsePidStat', () => {
  it.each([
    ['9802', 'a b) c)', 'S'],
    ['9803', '(sd-pam)', 'S'],
    ['9810', 'true', 'Z'],
    ['2', 'kthreadd', 'S'],
    ['4', 'kworker/R-rcu_gp', 'I'],
    ['1', 'process_api', 'S'],
    ['9806', 'dd', 'R'],
  ])('reads /proc/%s/stat of host-a (comm %j)', (pid, comm, state) => {
    const text = fixtureText('host-a', `proc/${pid}/stat`);
    const f = statFields(text);
    expect(parsePidStat(text)).toEqual({
      ok: true,
      value: {
        pid: Number(pid),
        comm,
        state,
        ppid: Number(f[4]),
        pgid: Number(f[5]),
        sid: Number(f[6]),
        ttyNr: Number(f[7]),
        flags: Number(f[9]),
        minflt: Number(f[10]),
        majflt: Number(f[12]),
        utime: Number(f[14]),
        stime: Number(f[15]),
        nice: Number(f[19]),
        threads: Number(f[20]),
        starttime: Number(f[22]),
        vsize: Number(f[23]),
      },
    });
  });

  it.skipIf(process.platform !== 'linux')("parses this process's own stat", () => {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const parsed = parsePidStat(text);
    expect(parsed.ok && parsed.value.pid).toBe(process.pid);
    expect(parsed.ok && parsed.value.state).toBe('R');
    expect(parsed.ok && parsed.value.starttime).toBe(Number(statFields(text)[22]));
  });

  it.each([
    ['42 (nginx) ', { pid: 42, comm: 'nginx', state: 'S', starttime: 4242 }],
    ['7 (a (b) c) ', { pid: 7, comm: 'a (b) c', state: 'S', starttime: 4242 }],
    ['8 () ', { pid: 8, comm: '', state: 'S', starttime: 4242 }],
    ['9 (x)) ', { pid: 9, comm: 'x)', state: 'S', starttime: 4242 }],
  ])('parses %j…', (head, expected) => {
    expect(parsePidStat(head + tail)).toMatchObject({ ok: true, value: { ...expected, ppid: 1, flags: 4194560, minflt: 100, utime: 5, stime: 3, vsize: 12345678 } });
  });

  it('reads a comm holding a newline and ") " as the kernel prints it', () => {
    const parsed = parsePidStat('42 (x) S 1 2\n) R 7 42 42 0 -1 4194304 1 0 2 0 3 4 0 0 20 5 1 0 99 4096 1 18446744073709551615\n');
    expect(parsed).toMatchObject({ ok: true, value: { pid: 42, comm: 'x) S 1 2\n', state: 'R', ppid: 7, nice: 5, starttime: 99, vsize: 4096 } });
  });

  it('keeps counters past 2^53 exact as bigint, up to int64', () => {
    const parsed = parsePidStat('7 (a) S 1 7 7 0 -1 0 9223372036854775807 0 9007199254740993 0 1 1 0 0 20 0 1 0 5 100 1');
    expect(parsed).toMatchObject({ ok: true, value: { minflt: 9223372036854775807n, majflt: 9007199254740993n } });
  });

  it('stops at vsize, so a line cut after it still parses', () => {
    expect(parsePidStat('7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 5 100\n')).toMatchObject({ ok: true, value: { vsize: 100 } });
  });

  it('accepts a starttime up to MAX_TICKS and refuses one past it', () => {
    const line = (starttime: string): string => `7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 ${starttime} 100 1`;
    expect(parsePidStat(line('9007199254740'))).toMatchObject({ ok: true, value: { starttime: 9007199254740 } });
    expect(parsePidStat(line('9007199254741')).ok).toBe(false);
    expect(parsePidStat(line('9007199254740993')).ok).toBe(false);
  });

  it.each([
    ['no parentheses', '42 x S 1 2 3'],
    ['no comm', `42 nginx ${tail}`],
    ['a pid that is not a number', 'x (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
    ['a bad pid', `x (a) ${tail}`],
    ['pid 0', `0 (a) ${tail}`],
    ['too few fields', '7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1'],
    ['too few fields (perf)', '42 (a) S 1 1 1'],
    ['a letter in a number field', '7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 z 0 0 20 0 1 0 5 100 1'],
    ['a bad starttime', `42 (a) ${tail.replace(' 4242 ', ' -3 ')}`],
    ['no state', '7 (a)'],
    ['nothing after comm', '42 (a)'],
    ['a pid out of int32 range', '99999999999 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
    ['an empty file', ''],
    // Found by the fuzz test: a counter past int64 cannot be stored in an int64 column.
    ['a fault counter past 2^63 - 1', '7 (a) S 1 7 7 0 -1 0 18446744073709551615 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
    ['flags past 2^53 (not exact as a number)', '7 (a) S 1 7 7 0 -1 9007199254740993 1 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parsePidStat(text);
    expect(!parsed.ok && parsed.status).toMatchObject({ code: 'PARSE_ERROR', op: 'parse /proc/[pid]/stat' });
  });
});
