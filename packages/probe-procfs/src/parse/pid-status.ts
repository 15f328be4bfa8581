/**
 * Parser of /proc/PID/status, reading only the lines this probe stores (Uid, Gid, VmRSS and
 * the two context-switch counters) found with native indexOf, without splitting the ~1.5 KB
 * file into lines. See proc_pid_status(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { fieldEnd, multiplyCount, parseError, readCount, readUint, skipBlanks, type Count } from '@virtualeyes/linux';

/** The fields of /proc/PID/status this probe stores. */
export interface PidStatus {
  /** Effective user id. */
  readonly uid: number;
  /** Effective group id. */
  readonly gid: number;
  /** Resident set size in bytes; null for tasks without memory (kernel threads, zombies). */
  readonly rss: Count | null;
  readonly voluntaryCtxtSwitches: Count;
  readonly nonvoluntaryCtxtSwitches: Count;
}

const SOURCE = '/proc/[pid]/status';
const KIB = 1024;
const MAX_ID = 4294967295;

/** Parses /proc/PID/status; PARSE_ERROR when Uid, Gid or the context-switch lines are missing or malformed. */
export function parsePidStatus(text: string): Result<PidStatus> {
  // The kernel prints these lines in this order; each search starts where the previous line
  // was found (native indexOf, no per-line loop) and falls back to the whole text if not found.
  const uidAt = find(text, '\nUid:', 0);
  const gidAt = find(text, '\nGid:', uidAt);
  if (uidAt < 0 || gidAt < 0) return parseError(SOURCE, 'no Uid or Gid line');
  const uid = secondId(text, uidAt + 5, lineEnd(text, uidAt + 1));
  if (uid < 0) return parseError(SOURCE, 'malformed Uid line');
  const gid = secondId(text, gidAt + 5, lineEnd(text, gidAt + 1));
  if (gid < 0) return parseError(SOURCE, 'malformed Gid line');

  let rss: Count | null = null;
  const rssAt = find(text, '\nVmRSS:', gidAt);
  if (rssAt >= 0) {
    const kib = kibValue(text, rssAt + 7, lineEnd(text, rssAt + 1));
    if (kib === undefined) return parseError(SOURCE, 'malformed VmRSS line');
    rss = multiplyCount(kib, KIB) ?? null;
    if (rss === null) return parseError(SOURCE, 'VmRSS past the int64 range');
  }
  const voluntaryAt = find(text, '\nvoluntary_ctxt_switches:', Math.max(gidAt, rssAt));
  const nonvoluntaryAt = find(text, '\nnonvoluntary_ctxt_switches:', voluntaryAt);
  if (voluntaryAt < 0 || nonvoluntaryAt < 0) return parseError(SOURCE, 'no context switch lines');
  const voluntary = countValue(text, voluntaryAt + 25, lineEnd(text, voluntaryAt + 1));
  const nonvoluntary = countValue(text, nonvoluntaryAt + 28, lineEnd(text, nonvoluntaryAt + 1));
  if (voluntary === undefined || nonvoluntary === undefined) return parseError(SOURCE, 'malformed context switch line');
  return ok({ uid, gid, rss, voluntaryCtxtSwitches: voluntary, nonvoluntaryCtxtSwitches: nonvoluntary });
}

/** Index of the newline before `key` (which starts with it) at or after `from`, else anywhere; -1 when absent. */
function find(text: string, key: string, from: number): number {
  const at = text.indexOf(key, Math.max(from, 0));
  if (at >= 0 || from <= 0) return at;
  return text.indexOf(key);
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length : end;
}

/** The second of the four tab-separated ids (real, effective, saved, filesystem): the effective one. */
function secondId(text: string, from: number, end: number): number {
  const firstStart = skipBlanks(text, from);
  const firstEnd = fieldEnd(text, firstStart);
  if (readUint(text, firstStart, firstEnd) < 0) return -1;
  const secondStart = skipBlanks(text, firstEnd);
  const secondEnd = Math.min(fieldEnd(text, secondStart), end);
  const id = readUint(text, secondStart, secondEnd);
  return id > MAX_ID ? -1 : id;
}

function kibValue(text: string, from: number, end: number): Count | undefined {
  const numberStart = skipBlanks(text, from);
  const numberEnd = Math.min(fieldEnd(text, numberStart), end);
  const unitStart = skipBlanks(text, numberEnd);
  if (end - unitStart !== 2 || !text.startsWith('kB', unitStart)) return undefined;
  return readCount(text, numberStart, numberEnd);
}

function countValue(text: string, from: number, end: number): Count | undefined {
  const numberStart = skipBlanks(text, from);
  const numberEnd = fieldEnd(text, numberStart);
  if (numberEnd !== end) return undefined;
  return readCount(text, numberStart, numberEnd);
}
