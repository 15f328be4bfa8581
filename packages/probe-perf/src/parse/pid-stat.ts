/**
 * Parser of the fields of /proc/PID/stat this probe needs to select processes and identify
 * them the way probe-procfs does: pid, comm (in parentheses, which may itself hold spaces and
 * parentheses, so fields are counted from the LAST ')'), state and starttime (field 22).
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError, readInt } from './numbers.js';

/** What this probe reads from /proc/PID/stat. */
export interface PidStat {
  readonly pid: number;
  /** Command name, as the kernel keeps it (at most 15 bytes). */
  readonly comm: string;
  /** One-letter state (Z for a zombie). */
  readonly state: string;
  /** Start time after boot, in clock ticks (USER_HZ). */
  readonly starttime: number;
}

const SOURCE = '/proc/[pid]/stat';
const STARTTIME_FIELD = 22;
const SPACE = 32;
const INT32_MAX = 2147483647;

/** Parses one /proc/PID/stat line; PARSE_ERROR when the fields up to starttime are missing or malformed. */
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
  // Field 3 is the state; fields 4.. follow, one space each.
  let start = close + 4;
  for (let field = 4; field < STARTTIME_FIELD; field += 1) {
    const space = text.indexOf(' ', start);
    if (space < 0) return parseError(SOURCE, `pid ${pid} has ${field} fields, expected ${STARTTIME_FIELD} or more`);
    start = space + 1;
  }
  let end = text.indexOf(' ', start);
  if (end < 0) end = text.endsWith('\n') ? text.length - 1 : text.length;
  const starttime = readInt(text, start, end);
  if (!(starttime >= 0)) return parseError(SOURCE, `pid ${pid}: malformed starttime`);
  return ok({ pid, comm, state, starttime });
}
