/**
 * Parsers of the small files this probe reads besides counters: the integer in
 * /proc/sys/kernel/perf_event_paranoid, CapEff in /proc/self/status, and the pid-per-line
 * lists of cgroup.procs (btime comes from @virtualeyes/linux).
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, findLine, parseError, readInt, readUint } from '@virtualeyes/linux';

/** The one integer of a file like perf_event_paranoid (it may be negative). */
export function parseIntFile(text: string, source: string): Result<number> {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const value = readInt(body, 0, body.length);
  return Number.isNaN(value) ? parseError(source, `not an integer: '${clip(body)}'`) : ok(value);
}

/** The effective capability mask (CapEff, hexadecimal) from /proc/PID/status. */
export function parseCapEff(text: string): Result<bigint> {
  const line = findLine(text, 'CapEff:');
  if (line === undefined) return parseError('/proc/self/status', 'no CapEff line');
  const hex = text.slice(line.start + 'CapEff:'.length, line.end).trim();
  if (!/^[0-9a-f]{1,16}$/.test(hex)) return parseError('/proc/self/status', `malformed CapEff '${clip(hex)}'`);
  return ok(BigInt(`0x${hex}`));
}

/** Pids of a cgroup.procs file, one per line, in file order. */
export function parsePidList(text: string, source: string): Result<number[]> {
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const pid = readUint(line, 0, line.length);
    if (!(pid > 0 && pid <= 2147483647)) return parseError(source, `malformed pid '${clip(line)}'`);
    pids.push(pid);
  }
  return ok(pids);
}
