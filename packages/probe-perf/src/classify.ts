/**
 * The one place this package decides what a failed perf system call means. The kernel answers
 * a counter it cannot provide with ENOENT, EOPNOTSUPP, ENODEV (or EINVAL from a PMU that
 * rejects a config): UNSUPPORTED, and the other events keep counting. Refusals name the
 * perf_event_paranoid value and what would allow the counter.
 */
import { fail, StatusCode, type Status } from '@virtualeyes/core';
import { classifyPidErrno, PidErrno } from '@virtualeyes/linux';
import { isPmuEvent, type EventDef } from './events.js';

/** Which counters were being opened or read. */
export type Scope = 'cpu' | 'process';

/** The system call that failed. */
export type PerfOp = 'open' | 'enable' | 'read';

/** What the classification needs to know besides the errno. */
export interface PerfErrorContext {
  /** The system call. */
  readonly op: PerfOp;
  /** The event being opened, or the group leader being read. */
  readonly event: EventDef;
  /** System-wide per-CPU counters or per-process counters. */
  readonly scope: Scope;
  /** Who was counted, for messages: `CPU 1`, `pid 42 (nginx)`. */
  readonly target: string;
  /** /proc/sys/kernel/perf_event_paranoid, or null when it could not be read. */
  readonly paranoid: number | null;
  /** Whether the counter excluded kernel events (unprivileged per-process counting). */
  readonly excludeKernel: boolean;
}

/** errno → status code for perf_event_open, ioctl and read on perf fds, past what @virtualeyes/linux says about the pid. */
const CODES: Readonly<Record<string, StatusCode>> = {
  ENOENT: StatusCode.UNSUPPORTED,
  EOPNOTSUPP: StatusCode.UNSUPPORTED,
  ENOTSUP: StatusCode.UNSUPPORTED,
  ENODEV: StatusCode.UNSUPPORTED,
  ENOSYS: StatusCode.UNSUPPORTED,
  E2BIG: StatusCode.UNSUPPORTED,
  EMFILE: StatusCode.UNAVAILABLE,
  ENFILE: StatusCode.UNAVAILABLE,
  EBUSY: StatusCode.UNAVAILABLE,
  EINTR: StatusCode.UNAVAILABLE,
  EAGAIN: StatusCode.UNAVAILABLE,
  ENOSPC: StatusCode.UNAVAILABLE,
  ENOMEM: StatusCode.UNAVAILABLE,
};

/** Why the kernel lacks an event, per errno. */
const UNSUPPORTED_WHY: Readonly<Record<string, string>> = {
  ENOENT: 'no PMU on this machine provides it, as in a VM without a virtual PMU',
  EOPNOTSUPP: 'its PMU cannot count it in this mode',
  ENOTSUP: 'its PMU cannot count it in this mode',
  ENODEV: 'its PMU is not present',
  EINVAL: 'its PMU rejects this event',
  ENOSYS: 'the kernel has no perf_event_open (built without CONFIG_PERF_EVENTS, or blocked by a seccomp filter)',
  E2BIG: 'the kernel predates Linux 4.1 and rejects this perf_event_attr size',
};

/**
 * Classifies a failed perf system call. UNSUPPORTED means "this event, here": the caller drops
 * the event and goes on; every other code stops opening counters for this target.
 */
export function classifyPerfError(errno: string, context: PerfErrorContext): Status {
  const { event, target, op } = context;
  const call = op === 'open' ? 'perf_event_open' : op === 'enable' ? 'ioctl(PERF_EVENT_IOC_ENABLE)' : 'read';
  const options = { op: `${call} ${event.name}` };
  // A PMU answering EINVAL to a generic event means it has no mapping for it (x86 does this for cache events).
  const code = errno === 'EINVAL' && op === 'open' && isPmuEvent(event) ? StatusCode.UNSUPPORTED : codeOf(errno);
  switch (code) {
    case StatusCode.UNSUPPORTED: {
      const why = UNSUPPORTED_WHY[errno] ?? (isPmuEvent(event) ? 'its PMU rejects it' : 'this kernel does not know it');
      return fail(code, `${event.name}: not supported here (${errno}: ${why}); the other events keep counting`, options);
    }
    case StatusCode.PERMISSION_DENIED:
      return fail(code, `${call} of ${event.name} for ${target} refused (${errno}): ${permissionAdvice(errno, context)}`, options);
    case StatusCode.NOT_FOUND:
      return fail(code, `${target} exited (${errno})`, options);
    case StatusCode.UNAVAILABLE:
      return fail(code, `${call} of ${event.name} for ${target} failed (${errno}): ${unavailableAdvice(errno)}`, { ...options, retryable: true });
    default:
      return fail(StatusCode.INTERNAL, `${call} of ${event.name} for ${target} failed (${errno}); please report this`, options);
  }
}

/** The pid's fate first (ESRCH: the process exited; EACCES, EPERM: refused), then the perf-specific table. */
function codeOf(errno: string): StatusCode {
  switch (classifyPidErrno(errno, 'call')) {
    case PidErrno.GONE:
      return StatusCode.NOT_FOUND;
    case PidErrno.REFUSED:
      return StatusCode.PERMISSION_DENIED;
    default:
      return CODES[errno] ?? StatusCode.INTERNAL;
  }
}

function permissionAdvice(errno: string, context: PerfErrorContext): string {
  const paranoid =
    context.paranoid === null ? 'perf_event_paranoid could not be read' : `/proc/sys/kernel/perf_event_paranoid is ${context.paranoid}`;
  const needs =
    context.scope === 'cpu'
      ? 'counting every CPU needs root or CAP_PERFMON, or perf_event_paranoid <= 0'
      : context.excludeKernel
        ? "counting another user's process needs root, or CAP_PERFMON and CAP_SYS_PTRACE"
        : 'counting kernel events of a process needs root or CAP_PERFMON, or perf_event_paranoid <= 1';
  const seccomp = errno === 'EPERM' ? '; in a container, a seccomp profile may also block perf_event_open' : '';
  return `${paranoid}; ${needs}${seccomp}`;
}

function unavailableAdvice(errno: string): string {
  switch (errno) {
    case 'EMFILE':
    case 'ENFILE':
      return 'out of file descriptors; lower maxProcesses or maxFds, or raise the limit (ulimit -n)';
    case 'EBUSY':
      return 'another tool holds the PMU exclusively';
    case 'ENOSPC':
      return 'no free counter slot';
    case 'ENOMEM':
      return 'the kernel is short of memory';
    default:
      return 'interrupted; the next collection tries again';
  }
}
