/**
 * Parser of /proc/PID/stat (proc_pid_stat(5)), the hottest path of a process scan. The command
 * name sits in parentheses and may itself hold spaces, parentheses and newlines, so fields are
 * counted from the LAST ')'. Numbers are read straight from char codes, without splitting.
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError } from './parse-error.js';
import { readCount, readInt, type Count } from './scan.js';
import { MAX_TICKS } from './ticks.js';

/** The fields of /proc/PID/stat the Linux probes read; times in clock ticks (USER_HZ). */
export interface PidStat {
  /** Field 1. */
  readonly pid: number;
  /** Field 2: the command name as the kernel keeps it (at most 15 bytes, any characters). */
  readonly comm: string;
  /** Field 3: one-letter state (R, S, D, Z for a zombie, I, T, t, X…). */
  readonly state: string;
  /** Field 4. */
  readonly ppid: number;
  /** Field 5: process group. */
  readonly pgid: number;
  /** Field 6: session. */
  readonly sid: number;
  /** Field 7: controlling terminal (device number), 0 for none. */
  readonly ttyNr: number;
  /** Field 9: PF_* flags of the task. */
  readonly flags: number;
  /** Field 10: minor faults. */
  readonly minflt: Count;
  /** Field 12: major faults. */
  readonly majflt: Count;
  /** Field 14: user-mode CPU time, ticks. */
  readonly utime: number;
  /** Field 15: kernel-mode CPU time, ticks. */
  readonly stime: number;
  /** Field 19: nice value, -20..19. */
  readonly nice: number;
  /** Field 20: thread count. */
  readonly threads: number;
  /** Field 22: start time after boot, ticks (with btime, the process's identity). */
  readonly starttime: number;
  /** Field 23: virtual memory size, bytes. */
  readonly vsize: Count;
}

const SOURCE = '/proc/[pid]/stat';
/** Last field (1-based, per proc_pid_stat(5)) this parser needs: vsize, present since Linux 1.x. */
const LAST_FIELD = 23;
const SPACE = 32;
const NEWLINE = 10;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Parses one /proc/PID/stat line; PARSE_ERROR when a field up to vsize is missing or not a
 * number, an id is out of int32, a time is negative or past {@link MAX_TICKS}, or a counter
 * passes int64. Fields after vsize are ignored, so older and newer kernels both parse.
 */
export function parsePidStat(text: string): Result<PidStat> {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open + 1) return parseError(SOURCE, 'no (comm) field');
  const pid = readInt(text, 0, open);
  if (!(pid > 0 && pid <= INT32_MAX)) return parseError(SOURCE, `malformed pid '${text.slice(0, Math.min(open, 20))}'`);
  if (text.charCodeAt(close + 1) !== SPACE || close + 2 >= text.length || text.charCodeAt(close + 3) !== SPACE) {
    return parseError(SOURCE, `malformed state after comm in pid ${pid}`);
  }
  const comm = text.slice(open + 2, close);
  const state = text.charAt(close + 2);

  // Fields 4..LAST_FIELD, each a decimal integer followed by a space.
  let ppid = 0;
  let pgid = 0;
  let sid = 0;
  let ttyNr = 0;
  let flags = 0;
  let minflt: Count = 0;
  let majflt: Count = 0;
  let utime = 0;
  let stime = 0;
  let nice = 0;
  let threads = 0;
  let starttime = 0;
  let vsize: Count = 0;
  let start = close + 4;
  for (let field = 4; field <= LAST_FIELD; field += 1) {
    let end = text.indexOf(' ', start);
    if (end < 0) {
      end = text.length;
      if (text.charCodeAt(end - 1) === NEWLINE) end -= 1;
      if (field < LAST_FIELD || end <= start) return parseError(SOURCE, `pid ${pid} has ${field - 1} fields, expected ${LAST_FIELD} or more`);
    }
    switch (field) {
      case 10:
        minflt = readCount(text, start, end) ?? -1;
        break;
      case 12:
        majflt = readCount(text, start, end) ?? -1;
        break;
      case 23:
        vsize = readCount(text, start, end) ?? -1;
        break;
      default: {
        const value = readInt(text, start, end);
        if (Number.isNaN(value)) return parseError(SOURCE, `pid ${pid}: field ${field} is not a number`);
        if (field === 4) ppid = value;
        else if (field === 5) pgid = value;
        else if (field === 6) sid = value;
        else if (field === 7) ttyNr = value;
        else if (field === 9) flags = value;
        else if (field === 14) utime = value;
        else if (field === 15) stime = value;
        else if (field === 19) nice = value;
        else if (field === 20) threads = value;
        else if (field === 22) starttime = value;
      }
    }
    start = end + 1;
  }
  if (minflt === -1 || majflt === -1 || vsize === -1) return parseError(SOURCE, `pid ${pid}: a counter is not a number or passes int64`);
  if (!isInt32(ppid) || !isInt32(pgid) || !isInt32(sid) || !isInt32(ttyNr) || !isInt32(nice) || !isInt32(threads)) {
    return parseError(SOURCE, `pid ${pid}: an id, nice value or thread count is out of range`);
  }
  if (!isTicks(utime) || !isTicks(stime) || !isTicks(starttime) || threads < 0) {
    return parseError(SOURCE, `pid ${pid}: negative or oversized time or thread count`);
  }
  return ok({ pid, comm, state, ppid, pgid, sid, ttyNr, flags, minflt, majflt, utime, stime, nice, threads, starttime, vsize });
}

function isInt32(value: number): boolean {
  return value >= INT32_MIN && value <= INT32_MAX;
}

function isTicks(value: number): boolean {
  return value >= 0 && value <= MAX_TICKS;
}
