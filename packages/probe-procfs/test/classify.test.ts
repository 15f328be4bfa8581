/**
 * The classification table: what each errno (or, from a reader that gives no errno, each
 * status code) means when reading each per-process file.
 */
import { classifyErrno, fail, StatusCode, type Status } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { classifyHostRead, classifyPidRead, type PidFile } from '../src/index.js';

const fromErrno = (errno: string, file: PidFile): Status =>
  classifyErrno(Object.assign(new Error(`${errno}: test`), { code: errno }), `read /proc/1/${file}`);

describe('classifyPidRead', () => {
  it.each([
    ['ENOENT', 'stat', 'exited'],
    ['ESRCH', 'stat', 'exited'],
    ['ENOENT', 'status', 'exited'],
    ['ESRCH', 'status', 'exited'],
    ['ENOENT', 'cmdline', 'exited'],
    ['ENOTDIR', 'stat', 'exited'],
    ['ENOENT', 'exe', 'absent'],
    ['ESRCH', 'exe', 'absent'],
    ['ENOENT', 'io', 'absent'],
    ['EACCES', 'io', 'denied'],
    ['EPERM', 'io', 'denied'],
    ['EACCES', 'exe', 'denied'],
    ['EACCES', 'stat', 'denied'],
    ['EPERM', 'cmdline', 'denied'],
    ['EIO', 'stat', 'failed'],
    ['EMFILE', 'status', 'failed'],
    ['EINVAL', 'io', 'failed'],
    ['EAGAIN', 'exe', 'failed'],
  ] as const)('%s reading %s means %s', (errno, file, outcome) => {
    expect(classifyPidRead(fromErrno(errno, file), file)).toBe(outcome);
  });

  it.each([
    [StatusCode.NOT_FOUND, 'stat', 'exited'],
    [StatusCode.NOT_FOUND, 'exe', 'absent'],
    [StatusCode.PERMISSION_DENIED, 'io', 'denied'],
    [StatusCode.UNAVAILABLE, 'stat', 'failed'],
    [StatusCode.INTERNAL, 'exe', 'failed'],
  ] as const)('without an errno, %s reading %s means %s', (code, file, outcome) => {
    expect(classifyPidRead(fail(code, 'from a reader without errno'), file)).toBe(outcome);
  });

  it('trusts a known errno over a wrong code from a third-party reader', () => {
    const cause = Object.assign(new Error('gone'), { code: 'ESRCH' });
    expect(classifyPidRead(fail(StatusCode.INTERNAL, 'gone', { cause }), 'stat')).toBe('exited');
  });
});

describe('classifyHostRead', () => {
  it.each([
    ['ENOENT', 'UNAVAILABLE'],
    ['ENOTDIR', 'UNAVAILABLE'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['EIO', 'INTERNAL'],
    ['EMFILE', 'UNAVAILABLE'],
  ])('reports %s reading a host-wide file as %s', (errno, code) => {
    const status = classifyHostRead(fromErrno(errno, 'stat'), '/host/proc');
    expect(status.code).toBe(code);
    if (errno === 'ENOENT') expect(status.message).toContain('/host/proc');
  });

  it('treats NOT_FOUND without an errno as a missing file too', () => {
    expect(classifyHostRead(fail(StatusCode.NOT_FOUND, 'gone'), '/proc').code).toBe('UNAVAILABLE');
  });
});
