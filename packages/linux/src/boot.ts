/**
 * Boot time: the `btime` line of /proc/stat, seconds since the epoch. Every start time is
 * relative to it, so probes read it once and keep it (btime moves when the wall clock is
 * stepped, and a start_time that moved would no longer identify its process).
 */
import { ok, type FileReader, type Result } from '@virtualeyes/core';
import { clip, parseError } from './parse-error.js';
import { readUint } from './scan.js';

/** Largest btime (seconds) whose value in milliseconds is an exact number. */
export const MAX_BTIME = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

const SOURCE = '/proc/stat';
const PREFIX = 'btime ';

/** Boot time (seconds since the epoch) from the `btime` line of /proc/stat; PARSE_ERROR when absent or malformed. */
export function parseBtime(text: string): Result<number> {
  const line = findLine(text, PREFIX);
  if (line === undefined) return parseError(SOURCE, 'no btime line');
  const btime = readUint(text, line.start + PREFIX.length, line.end);
  if (btime < 0 || btime > MAX_BTIME) return parseError(SOURCE, `malformed '${clip(text.slice(line.start, line.end))}'`);
  return ok(btime);
}

/**
 * Boot time in epoch milliseconds, read through `files` from `/proc/stat` (the reader maps
 * `/proc` to the host's root); a failed read comes back with the reader's Status unchanged.
 */
export function readBootMs(files: FileReader): Result<number> {
  const text = files.readText('/proc/stat');
  if (!text.ok) return text;
  const btime = parseBtime(text.value);
  return btime.ok ? ok(btime.value * 1000) : btime;
}

/** Start and end (exclusive, before the newline) of the first line starting with `prefix`. */
export function findLine(text: string, prefix: string): { start: number; end: number } | undefined {
  let start: number;
  if (text.startsWith(prefix)) {
    start = 0;
  } else {
    const at = text.indexOf(`\n${prefix}`);
    if (at < 0) return undefined;
    start = at + 1;
  }
  const newline = text.indexOf('\n', start);
  return { start, end: newline < 0 ? text.length : newline };
}
