/**
 * Tests of the descriptor parsers: link targets classified (real targets of a captured
 * process, and every kind), and /proc/PID/fdinfo/N from a capture and malformed.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFdTarget, parseFdInfo } from '../../../src/detail/parse/fd.js';
import { CHILD, hostB, hostBText } from '../fixture.js';

describe('classifyFdTarget', () => {
  it.each([
    ['/usr/bin/node', 'file', null],
    ['/tmp/x (deleted)', 'file', null],
    ['/memfd:sealed (deleted)', 'file', null],
    ['/dev/null', 'device', null],
    ['/dev/pts/0', 'device', null],
    ['/dev/shm/segment', 'file', null],
    ['socket:[69111]', 'socket', 69111],
    ['pipe:[66545]', 'pipe', 66545],
    ['anon_inode:[eventpoll]', 'anon_inode', null],
    ['anon_inode:inotify', 'anon_inode', null],
    ['net:[4026531833]', 'namespace', 4026531833],
    ['mystery:[1]', 'other', null],
    ['', 'other', null],
  ])('%s is %s', (target, kind, inode) => {
    expect(classifyFdTarget(target)).toEqual({ kind, inode });
  });

  it('classifies every descriptor of a captured process', () => {
    const dir = join(hostB('step0'), `proc/${CHILD.pid}/fd`);
    const targets = readdirSync(dir).map((fd) => readlinkSync(join(dir, fd)));
    const kinds = targets.map((target) => classifyFdTarget(target).kind);
    // The child opened its executable CHILD.files times.
    expect(targets.filter((target, i) => target.endsWith('/node') && kinds[i] === 'file')).toHaveLength(CHILD.files);
    expect(kinds).toContain('device');
    expect(kinds).toContain('socket');
    expect(kinds).toContain('pipe');
    expect(kinds).toContain('anon_inode');
    expect(kinds).not.toContain('other');
  });
});

describe('parseFdInfo', () => {
  it('reads pos and the octal flags of a captured descriptor', () => {
    // stdin, a pipe: O_CLOEXEC (02000000) | O_NONBLOCK (04000), read-only.
    expect(parseFdInfo(hostBText('step0', `proc/${CHILD.pid}/fdinfo/0`))).toEqual({ ok: true, value: { pos: 0, flags: 0o2004000 } });
    const text = 'pos:\t4096\nflags:\t02100002\nmnt_id:\t23\nino:\t3\n';
    expect(parseFdInfo(text)).toEqual({ ok: true, value: { pos: 4096, flags: 0o2100002 } });
  });

  it.each([
    ['no pos line', 'flags:\t02\n'],
    ['a word for pos', 'pos:\tx\nflags:\t02\n'],
    ['no flags line', 'pos:\t0\nmnt_id:\t23\n'],
    ['non-octal flags', 'pos:\t0\nflags:\t0289\n'],
    ['an empty file', ''],
  ])('returns PARSE_ERROR for %s', (_what, text) => {
    const parsed = parseFdInfo(text);
    expect(!parsed.ok && parsed.status.code).toBe('PARSE_ERROR');
  });
});
