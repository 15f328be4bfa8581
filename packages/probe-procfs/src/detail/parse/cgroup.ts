/**
 * Parser of /proc/PID/cgroup: `hierarchy:controllers:path` lines (cgroups(7)); the detail
 * filters match their globs against the paths.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, parseError } from '@virtualeyes/linux';

const SOURCE = '/proc/[pid]/cgroup';

/** The cgroup path of every line, in order; PARSE_ERROR on a line without two colons. */
export function parseCgroupPaths(text: string): Result<string[]> {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) return parseError(SOURCE, `malformed line '${clip(line)}'`);
    paths.push(line.slice(second + 1));
  }
  return ok(paths);
}
