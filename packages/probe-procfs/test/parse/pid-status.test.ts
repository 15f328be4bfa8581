/**
 * Tests of the /proc/PID/status parser on real captures (a user process, another user's, a
 * kernel thread and a zombie, which have no VmRSS) and on malformed files.
 */
import { describe, expect, it } from 'vitest';
import { parsePidStatus } from '../../src/parse/pid-status.js';
import { fixtureText } from '../helpers.js';

const line = (text: string, key: string): string[] | undefined =>
  text.split('\n').find((candidate) => candidate.startsWith(`${key}:`))?.split(/\s+/).slice(1);

describe('parsePidStatus', () => {
  it.each(['1', '2', '9805', '9806', '9810'])('reads /proc/%s/status of host-a', (pid) => {
    const text = fixtureText('host-a', 'step1', `proc/${pid}/status`);
    const rss = line(text, 'VmRSS');
    expect(parsePidStatus(text)).toEqual({
      ok: true,
      value: {
        uid: Number(line(text, 'Uid')![1]),
        gid: Number(line(text, 'Gid')![1]),
        rss: rss === undefined ? null : Number(rss[0]) * 1024,
        voluntaryCtxtSwitches: Number(line(text, 'voluntary_ctxt_switches')![0]),
        nonvoluntaryCtxtSwitches: Number(line(text, 'nonvoluntary_ctxt_switches')![0]),
      },
    });
  });

  it('takes the effective ids, not the real ones', () => {
    const text = 'Name:\tpasswd\nUid:\t1000\t0\t0\t0\nGid:\t1000\t42\t42\t42\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n';
    expect(parsePidStatus(text)).toMatchObject({ ok: true, value: { uid: 0, gid: 42, rss: null } });
  });

  it.each([
    ['no Uid line', 'Gid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n'],
    ['a Uid line with one id', 'Uid:\t0\nGid:\t0\t0\t0\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n'],
    ['VmRSS in MB', 'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t  1 MB\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n'],
    ['no context switch lines', 'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parsePidStatus(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});
