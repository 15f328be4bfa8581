/**
 * Tests of the /proc/PID/cmdline parser: real captures with spaces and UTF-8 in arguments,
 * kernel threads and zombies (empty), rewritten titles and the length limit.
 */
import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/parse/cmdline.js';
import { fixtureText } from '../helpers.js';

describe('parseCmdline', () => {
  it.each([
    ['9808', 'bash -c sleep 600; : x y ünïcödé'],
    ['9802', '/tmp/vfx/a b) c) 600'],
    ['9803', '(sd-pam) 600'],
    ['2', ''],
    ['9810', ''],
  ])('joins the arguments of /proc/%s/cmdline of host-a', (pid, expected) => {
    expect(parseCmdline(fixtureText('host-a', 'step0', `proc/${pid}/cmdline`))).toEqual({ ok: true, value: expected });
  });

  it('keeps a title rewritten without NULs (setproctitle) as it is', () => {
    expect(parseCmdline('postgres: checkpointer   ')).toEqual({ ok: true, value: 'postgres: checkpointer   ' });
  });

  it('keeps empty arguments between NULs and drops the trailing ones', () => {
    expect(parseCmdline('a\0\0b\0\0\0')).toEqual({ ok: true, value: 'a  b' });
  });

  it('cuts at maxChars and keeps whole lines when it is 0', () => {
    const long = `${'x'.repeat(5000)}\0`;
    expect(parseCmdline(long, 4096)).toEqual({ ok: true, value: 'x'.repeat(4096) });
    expect(parseCmdline(long, 0)).toEqual({ ok: true, value: 'x'.repeat(5000) });
  });
});
