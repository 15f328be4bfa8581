/**
 * The vanished-pid table: what each errno means for a path under /proc/PID and for a system
 * call taking a pid, and what a Status means when its cause carries no errno.
 */
import { classifyErrno, fail, StatusCode } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { classifyPidErrno, classifyPidStatus, PidErrno } from '../src/index.js';

describe('classifyPidErrno', () => {
  it.each([
    ['ENOENT', 'path', 'gone'],
    ['ESRCH', 'path', 'gone'],
    ['ENOTDIR', 'path', 'gone'],
    ['EACCES', 'path', 'refused'],
    ['EPERM', 'path', 'refused'],
    ['EIO', 'path', 'other'],
    ['EMFILE', 'path', 'other'],
    ['EINVAL', 'path', 'other'],
    ['ESRCH', 'call', 'gone'],
    // perf_event_open answers ENOENT for an event the kernel lacks: the process is still there.
    ['ENOENT', 'call', 'other'],
    ['ENOTDIR', 'call', 'other'],
    ['EACCES', 'call', 'refused'],
    ['EPERM', 'call', 'refused'],
    ['EBUSY', 'call', 'other'],
  ] as const)('%s by %s means %s', (errno, access, meaning) => {
    expect(classifyPidErrno(errno, access)).toBe(meaning);
  });

  it('reads paths by default and calls an absent errno other', () => {
    expect(classifyPidErrno('ENOENT')).toBe(PidErrno.GONE);
    expect(classifyPidErrno(undefined)).toBe(PidErrno.OTHER);
  });
});

describe('classifyPidStatus', () => {
  const fromErrno = (errno: string) => classifyErrno(Object.assign(new Error(`${errno}: test`), { code: errno }), 'read /proc/1/stat');

  it.each([
    ['ENOENT', 'gone'],
    ['ESRCH', 'gone'],
    ['ENOTDIR', 'gone'],
    ['EACCES', 'refused'],
    ['EPERM', 'refused'],
    ['EIO', 'other'],
  ] as const)('a read failing with %s means %s', (errno, meaning) => {
    expect(classifyPidStatus(fromErrno(errno))).toBe(meaning);
  });

  it.each([
    [StatusCode.NOT_FOUND, 'gone'],
    [StatusCode.PERMISSION_DENIED, 'refused'],
    [StatusCode.PARSE_ERROR, 'other'],
    [StatusCode.INTERNAL, 'other'],
  ] as const)('without an errno, %s means %s', (code, meaning) => {
    expect(classifyPidStatus(fail(code, 'from a reader without errno'))).toBe(meaning);
  });

  it('trusts a known errno over a wrong code from a third-party reader', () => {
    expect(classifyPidStatus(fail(StatusCode.INTERNAL, 'gone', { cause: Object.assign(new Error('gone'), { code: 'ESRCH' }) }))).toBe('gone');
    expect(classifyPidStatus(fail(StatusCode.NOT_FOUND, 'refused', { cause: Object.assign(new Error('no'), { code: 'EACCES' }) }))).toBe('refused');
  });
});
