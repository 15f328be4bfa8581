/**
 * Tests of the /proc/PID/stat parser on real captures: command names with spaces and
 * parentheses, kernel threads, a zombie, negative nice values; and broken lines.
 */
import { describe, expect, it } from 'vitest';
import { parsePidStat } from '../../src/parse/pid-stat.js';
import { fixtureText } from '../helpers.js';

/** Fields of a stat line numbered as proc_pid_stat(5) numbers them, split the slow way. */
function fields(text: string): string[] {
  const close = text.lastIndexOf(')');
  return ['', text.slice(0, text.indexOf(' ')), text.slice(text.indexOf('(') + 1, close), ...text.slice(close + 2).trim().split(' ')];
}

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
    const text = fixtureText('host-a', 'step0', `proc/${pid}/stat`);
    const f = fields(text);
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

  it.each([
    ['no parentheses', '42 x S 1 2 3'],
    ['a pid that is not a number', 'x (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
    ['too few fields', '7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1'],
    ['a letter in a number field', '7 (a) S 1 7 7 0 -1 0 1 0 0 0 1 z 0 0 20 0 1 0 5 100 1'],
    ['no state', '7 (a)'],
    ['a pid out of int32 range', '99999999999 (a) S 1 7 7 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
    ['an empty file', ''],
    // Found by the fuzz test: a counter past int64 cannot be stored in an int64 column.
    ['a fault counter past 2^63 - 1', '7 (a) S 1 7 7 0 -1 0 18446744073709551615 0 0 0 1 1 0 0 20 0 1 0 5 100 1'],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parsePidStat(text);
    expect(!parsed.ok && parsed.status).toMatchObject({ code: 'PARSE_ERROR', op: 'parse /proc/[pid]/stat' });
  });
});
