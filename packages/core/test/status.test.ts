import { describe, expect, it } from 'vitest';
import {
  classifyErrno,
  err,
  fail,
  formatStatus,
  fromPromise,
  fromThrowable,
  isOk,
  isStatus,
  ok,
  OK,
  statusFromError,
  StatusCode,
  withSource,
} from '../src/index.js';

const errno = (code: string): Error => Object.assign(new Error(`${code}: something`), { code });

describe('Status', () => {
  it('builds failures on one line with default retryability per code', () => {
    const status = fail(StatusCode.UNAVAILABLE, 'store\nis busy', { source: 'duckdb', op: 'write' });
    expect(status).toMatchObject({ code: 'UNAVAILABLE', message: 'store is busy', retryable: true, source: 'duckdb', op: 'write' });
    expect(fail(StatusCode.INTERNAL, 'x').retryable).toBe(false);
    expect(fail(StatusCode.INTERNAL, 'x', { retryable: true }).retryable).toBe(true);
    expect(Object.isFrozen(status)).toBe(true);
  });

  it('recognises statuses structurally, so a second copy of core interoperates', () => {
    expect(isStatus(OK)).toBe(true);
    expect(isStatus({ code: 'NOT_FOUND', message: 'gone', retryable: false })).toBe(true);
    expect(isStatus({ code: 'NOPE', message: '', retryable: false })).toBe(false);
    expect(isStatus(new Error('x'))).toBe(false);
    expect(isStatus(null)).toBe(false);
  });

  it('formats as CODE source op: message', () => {
    expect(formatStatus(OK)).toBe('OK');
    expect(formatStatus(fail('TIMEOUT', 'too slow', { source: 'procfs', op: 'collect' }))).toBe('TIMEOUT procfs collect: too slow');
    expect(formatStatus(fail('TIMEOUT', 'too slow'))).toBe('TIMEOUT: too slow');
  });

  it('fills a missing source without overwriting one that is set', () => {
    const bare = fail('INTERNAL', 'x');
    expect(withSource(bare, 'a', 'op').source).toBe('a');
    expect(withSource(fail('INTERNAL', 'x', { source: 'b', op: 'o' }), 'a', 'op').source).toBe('b');
    expect(withSource(OK, 'a')).toBe(OK);
  });

  it.each([
    ['ENOENT', 'NOT_FOUND'],
    ['ESRCH', 'NOT_FOUND'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['EPERM', 'PERMISSION_DENIED'],
    ['EAGAIN', 'UNAVAILABLE'],
    ['EINTR', 'UNAVAILABLE'],
    ['ENOSPC', 'UNAVAILABLE'],
    ['ETIMEDOUT', 'TIMEOUT'],
    ['EINVAL', 'INVALID_ARGUMENT'],
    ['EOPNOTSUPP', 'UNSUPPORTED'],
    ['ENOSYS', 'UNSUPPORTED'],
    ['EWHATEVER', 'INTERNAL'],
  ])('classifies errno %s as %s', (code, expected) => {
    const status = classifyErrno(errno(code), 'read /proc/1/stat', 'procfs');
    expect(status.code).toBe(expected);
    expect(status.op).toBe('read /proc/1/stat');
    expect(status.source).toBe('procfs');
  });

  it('converts throws and rejections at the edge', async () => {
    expect(fromThrowable(() => 1, () => OK)).toEqual(ok(1));
    const thrown = fromThrowable(() => {
      throw errno('ENOENT');
    }, (e) => classifyErrno(e, 'open'));
    expect(thrown.ok ? 'ok' : thrown.status.code).toBe('NOT_FOUND');
    const rejected = await fromPromise(Promise.reject(new Error('boom')), (e) => statusFromError(e, { op: 'query' }));
    expect(rejected.ok ? 'ok' : rejected.status).toMatchObject({ code: 'INTERNAL', message: 'boom', op: 'query' });
    expect(await fromPromise(() => Promise.resolve(2), () => OK)).toEqual(ok(2));
    expect(err(OK).ok).toBe(false);
    expect(isOk(OK)).toBe(true);
  });

  it('passes an existing Status through statusFromError unchanged', () => {
    const status = fail('NOT_FOUND', 'gone');
    expect(statusFromError(status)).toBe(status);
    expect(statusFromError('plain string').message).toBe('plain string');
  });
});
