/**
 * The one place this package decides what a failed read means. A missing /proc/PID/stat is
 * a process that exited (normal); a missing /proc/PID/exe is a kernel thread or a zombie;
 * EACCES on io or exe is a lack of privilege whose value becomes null; a missing host-wide
 * file (/proc/stat) is a wrong root or an unmounted procfs, which must not pass as normal.
 */
import { errnoOf, fail, StatusCode, type Status } from '@virtualeyes/core';
import { classifyPidErrno, classifyPidStatus, PidErrno } from '@virtualeyes/linux';

/** Files read per process. */
export type PidFile = 'stat' | 'status' | 'cmdline' | 'io' | 'exe';

/** What a failed read of a per-process file means for the scan. */
export const ReadOutcome = {
  /** The process exited while being read: skip it, count it, NOT_FOUND at most. */
  EXITED: 'exited',
  /** The OS refused: the value is null (io, exe) or the process is hidden (hidepid). */
  DENIED: 'denied',
  /** The file does not exist for this live process (exe of a kernel thread, io without task accounting). */
  ABSENT: 'absent',
  /** Anything else: reported with its own Status. */
  FAILED: 'failed',
} as const;

/** One of the {@link ReadOutcome} strings. */
export type ReadOutcome = (typeof ReadOutcome)[keyof typeof ReadOutcome];

/** Files every live process has: their absence means the process is gone. */
const ALWAYS_PRESENT: ReadonlySet<PidFile> = new Set<PidFile>(['stat', 'status', 'cmdline']);

/**
 * Classifies a failed read of `/proc/PID/<file>`: whether the process is gone or the read was
 * refused is @virtualeyes/linux's call (errno first, then code); which files every live
 * process has is this probe's.
 */
export function classifyPidRead(status: Status, file: PidFile): ReadOutcome {
  switch (classifyPidStatus(status)) {
    case PidErrno.GONE:
      return ALWAYS_PRESENT.has(file) ? ReadOutcome.EXITED : ReadOutcome.ABSENT;
    case PidErrno.REFUSED:
      return ReadOutcome.DENIED;
    default:
      return ReadOutcome.FAILED;
  }
}

/**
 * What a failed read of a host-wide file (/proc/stat, /proc/meminfo, the /proc listing) is
 * reported as: NOT_FOUND would pass for a vanished process and be logged at debug, so a missing
 * file becomes UNAVAILABLE naming the root to check; other failures keep their code.
 */
export function classifyHostRead(status: Status, root: string): Status {
  const missing = classifyPidErrno(errnoOf(status.cause)) === PidErrno.GONE || status.code === StatusCode.NOT_FOUND;
  if (!missing) return status;
  return fail(StatusCode.UNAVAILABLE, `${status.message} (is ${root} a mounted procfs or sysfs, and the right root?)`, {
    ...(status.op === undefined ? {} : { op: status.op }),
    cause: status.cause,
  });
}
