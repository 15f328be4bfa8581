/**
 * The one place that decides what an errno says about a pid: the process is gone (it exited
 * between listing and reading; normal, NOT_FOUND at most and logged at debug), the OS refused
 * (hidepid, ptrace access mode: a lack of privilege), or something else worth reporting.
 */
import { errnoOf, StatusCode, type Status } from '@virtualeyes/core';

/** What a failure says about the pid it concerned. */
export const PidErrno = {
  /** The process no longer exists. */
  GONE: 'gone',
  /** The process exists, but the OS refused this caller. */
  REFUSED: 'refused',
  /** Neither: the failure is about something else and keeps its own Status. */
  OTHER: 'other',
} as const;

/** One of the {@link PidErrno} strings. */
export type PidErrno = (typeof PidErrno)[keyof typeof PidErrno];

/**
 * How the pid was reached: `path`, a file or folder under /proc/PID (where a vanished pid shows
 * as ENOENT, ENOTDIR or ESRCH); `call`, a system call taking the pid such as perf_event_open
 * (where only ESRCH means "no such process", and ENOENT means something of the call's own).
 */
export type PidAccess = 'path' | 'call';

/** Errnos by which a read under /proc/PID says the process is gone. */
const GONE_BY_PATH: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);
/** Errnos by which a system call taking a pid says the process is gone. */
const GONE_BY_CALL: ReadonlySet<string> = new Set(['ESRCH']);
/** Errnos that mean "not allowed". */
const REFUSED: ReadonlySet<string> = new Set(['EACCES', 'EPERM']);

/** What the errno name of a failure under a pid means; OTHER for an unknown or absent errno. */
export function classifyPidErrno(errno: string | undefined, access: PidAccess = 'path'): PidErrno {
  if (errno === undefined) return PidErrno.OTHER;
  if ((access === 'path' ? GONE_BY_PATH : GONE_BY_CALL).has(errno)) return PidErrno.GONE;
  return REFUSED.has(errno) ? PidErrno.REFUSED : PidErrno.OTHER;
}

/**
 * What a failed read under /proc/PID means, by the errno its cause carries when this module
 * knows it (whatever code a third-party FileReader put on the Status), else by its code.
 */
export function classifyPidStatus(status: Status): PidErrno {
  const byErrno = classifyPidErrno(errnoOf(status.cause));
  if (byErrno !== PidErrno.OTHER) return byErrno;
  if (status.code === StatusCode.NOT_FOUND) return PidErrno.GONE;
  return status.code === StatusCode.PERMISSION_DENIED ? PidErrno.REFUSED : PidErrno.OTHER;
}
