/**
 * Parser of /etc/passwd into uid → user name. Like glibc's getpwuid, the first entry for a
 * uid wins and lines it could not use (comments, NIS `+`/`-` entries, malformed lines) are
 * skipped rather than failing the whole file.
 */
import { ok, type Result } from '@virtualeyes/core';
import { readUint } from '@virtualeyes/linux';

const MAX_ID = 4294967295;

/** Parses /etc/passwd into a map from uid to name; never fails, skipping lines it cannot use. */
export function parsePasswd(text: string): Result<ReadonlyMap<number, string>> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    const third = second < 0 ? -1 : line.indexOf(':', second + 1);
    if (first <= 0 || third < 0) continue;
    const uid = readUint(line, second + 1, third);
    if (uid < 0 || uid > MAX_ID || names.has(uid)) continue;
    names.set(uid, line.slice(0, first));
  }
  return ok(names);
}
