/**
 * Parser of /proc/loadavg: `0.13 0.22 0.17 2/82 6893` — the 1, 5 and 15 minute load
 * averages, runnable and total tasks, and the last pid handed out. See proc_loadavg(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError, readUint } from '@virtualeyes/linux';

/** What /proc/loadavg says. */
export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Runnable tasks (threads) now. */
  readonly running: number;
  /** Tasks (threads) that exist now. */
  readonly total: number;
  /** The pid most recently handed out. */
  readonly lastPid: number;
}

const SOURCE = '/proc/loadavg';
const INT32_MAX = 2147483647;

/** Parses /proc/loadavg; PARSE_ERROR unless it has exactly the five expected fields. */
export function parseLoadavg(text: string): Result<LoadAvg> {
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const fields = line.split(' ');
  if (fields.length !== 5) return parseError(SOURCE, `expected 5 fields, got ${fields.length}`);
  const [a, b, c, tasks, last] = fields as [string, string, string, string, string];
  const load1 = decimal(a);
  const load5 = decimal(b);
  const load15 = decimal(c);
  if (load1 < 0 || load5 < 0 || load15 < 0) return parseError(SOURCE, `malformed load averages '${a} ${b} ${c}'`);
  const slash = tasks.indexOf('/');
  const running = slash < 0 ? -1 : readUint(tasks, 0, slash);
  const total = slash < 0 ? -1 : readUint(tasks, slash + 1, tasks.length);
  if (running < 0 || total < 0 || total > INT32_MAX) return parseError(SOURCE, `malformed task counts '${tasks}'`);
  const lastPid = readUint(last, 0, last.length);
  if (lastPid < 0) return parseError(SOURCE, `malformed last pid '${last}'`);
  return ok({ load1, load5, load15, running, total, lastPid });
}

/** A non-negative decimal like `0.13`, or -1. */
function decimal(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) {
    const value = readUint(text, 0, text.length);
    return Number.isFinite(value) ? value : -1;
  }
  const whole = readUint(text, 0, dot);
  const fraction = readUint(text, dot + 1, text.length);
  if (whole < 0 || fraction < 0) return -1;
  const value = Number(text);
  return Number.isFinite(value) ? value : -1;
}
