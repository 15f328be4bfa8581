/**
 * The classification table: what each errno from perf_event_open, ioctl or read means, for
 * software and PMU events, per-CPU and per-process; and the advice a refusal carries (the
 * perf_event_paranoid value and what would allow the counter).
 */
import { StatusCode } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { classifyPerfError, findEvent, type PerfErrorContext } from '../src/index.js';

const context = (event: string, overrides: Partial<PerfErrorContext> = {}): PerfErrorContext => ({
  op: 'open',
  event: findEvent(event)!,
  scope: 'cpu',
  target: 'CPU 0',
  paranoid: 2,
  excludeKernel: false,
  ...overrides,
});

describe('classifyPerfError', () => {
  it.each([
    ['EACCES', 'context-switches', 'PERMISSION_DENIED'],
    ['EPERM', 'cycles', 'PERMISSION_DENIED'],
    ['ENOENT', 'cycles', 'UNSUPPORTED'],
    ['ENOENT', 'LLC-loads', 'UNSUPPORTED'],
    ['ENOENT', 'context-switches', 'UNSUPPORTED'],
    ['EOPNOTSUPP', 'instructions', 'UNSUPPORTED'],
    ['ENOTSUP', 'instructions', 'UNSUPPORTED'],
    ['ENODEV', 'branches', 'UNSUPPORTED'],
    ['EINVAL', 'cycles', 'UNSUPPORTED'],
    ['EINVAL', 'node-loads', 'UNSUPPORTED'],
    ['EINVAL', 'context-switches', 'INTERNAL'],
    ['ENOSYS', 'task-clock', 'UNSUPPORTED'],
    ['E2BIG', 'task-clock', 'UNSUPPORTED'],
    ['ESRCH', 'page-faults', 'NOT_FOUND'],
    ['EMFILE', 'page-faults', 'UNAVAILABLE'],
    ['ENFILE', 'cycles', 'UNAVAILABLE'],
    ['EBUSY', 'cycles', 'UNAVAILABLE'],
    ['EINTR', 'cpu-clock', 'UNAVAILABLE'],
    ['EAGAIN', 'cpu-clock', 'UNAVAILABLE'],
    ['ENOSPC', 'cycles', 'UNAVAILABLE'],
    ['ENOMEM', 'cycles', 'UNAVAILABLE'],
    ['EBADF', 'cycles', 'INTERNAL'],
    ['EFAULT', 'cycles', 'INTERNAL'],
    ['EFFI', 'cycles', 'INTERNAL'],
    ['E123', 'cs', 'INTERNAL'],
  ])('%s opening %s is %s', (errno, event, code) => {
    const status = classifyPerfError(errno, context(event));
    expect(status.code).toBe(code);
    expect(status.message).toContain(errno);
    expect(status.retryable).toBe(code === StatusCode.UNAVAILABLE);
  });

  it.each([
    ['read', 'EINVAL', 'INTERNAL'],
    ['read', 'EINTR', 'UNAVAILABLE'],
    ['enable', 'EINVAL', 'INTERNAL'],
    ['enable', 'ENOTTY', 'INTERNAL'],
  ] as const)('%s failing with %s on a PMU event is %s', (op, errno, code) => {
    expect(classifyPerfError(errno, context('cycles', { op })).code).toBe(code);
  });

  it('names the event and why it is unsupported, and that the others keep counting', () => {
    const status = classifyPerfError('ENOENT', context('cycles'));
    expect(status.message).toBe(
      'cycles: not supported here (ENOENT: no PMU on this machine provides it, as in a VM without a virtual PMU); the other events keep counting',
    );
    expect(status.op).toBe('perf_event_open cycles');
  });

  it.each([
    [2, 'cpu', false, '/proc/sys/kernel/perf_event_paranoid is 2; counting every CPU needs root or CAP_PERFMON, or perf_event_paranoid <= 0'],
    [3, 'cpu', false, '/proc/sys/kernel/perf_event_paranoid is 3;'],
    [-1, 'cpu', false, '/proc/sys/kernel/perf_event_paranoid is -1;'],
    [2, 'process', false, 'counting kernel events of a process needs root or CAP_PERFMON, or perf_event_paranoid <= 1'],
    [2, 'process', true, "counting another user's process needs root, or CAP_PERFMON and CAP_SYS_PTRACE"],
    [null, 'cpu', false, 'perf_event_paranoid could not be read;'],
  ] as const)('carries paranoid %s and what would allow a %s counter (user only: %s)', (paranoid, scope, excludeKernel, text) => {
    const status = classifyPerfError('EACCES', context('context-switches', { paranoid, scope, excludeKernel, target: scope === 'cpu' ? 'CPU 1' : 'pid 42 (nginx)' }));
    expect(status.code).toBe(StatusCode.PERMISSION_DENIED);
    expect(status.message).toContain(text);
    expect(status.message).toContain(scope === 'cpu' ? 'for CPU 1' : 'for pid 42 (nginx)');
  });

  it('adds the seccomp hint to EPERM only', () => {
    expect(classifyPerfError('EPERM', context('cs')).message).toContain('seccomp');
    expect(classifyPerfError('EACCES', context('cs')).message).not.toContain('seccomp');
  });
});
