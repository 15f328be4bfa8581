/**
 * Parser of /proc/PID/smaps_rollup: a header line, then `Key:   N kB` lines summed over every
 * mapping of the process. Values are kept exact in bytes; a process without memory (a zombie
 * caught mid-exit) has an empty file, which is no memory rather than an error.
 */
import { ok, type Result } from '@virtualeyes/core';
import { clip, fieldEnd, multiplyCount, parseError, readCount, skipBlanks, type Count } from '@virtualeyes/linux';

const SOURCE = '/proc/[pid]/smaps_rollup';
const KIB = 1024;

/** Parses smaps_rollup into byte values by key (Rss, Pss…); null for an empty file; PARSE_ERROR on a malformed line or no Rss/Pss. */
export function parseSmapsRollup(text: string): Result<ReadonlyMap<string, Count> | null> {
  if (text === '') return ok(null);
  const values = new Map<string, Count>();
  const length = text.length;
  let from = text.indexOf('\n') + 1;
  if (from === 0) return parseError(SOURCE, 'no header line');
  while (from < length) {
    let eol = text.indexOf('\n', from);
    if (eol < 0) eol = length;
    if (eol > from) {
      const colon = text.indexOf(':', from);
      if (colon < 0 || colon > eol) return parseError(SOURCE, `malformed line '${clip(text.slice(from, eol))}'`);
      const numberStart = skipBlanks(text, colon + 1);
      const numberEnd = fieldEnd(text, numberStart);
      const kib = readCount(text, numberStart, numberEnd);
      const unitStart = skipBlanks(text, numberEnd);
      if (kib === undefined || eol - unitStart !== 2 || !text.startsWith('kB', unitStart)) return parseError(SOURCE, `malformed line '${clip(text.slice(from, eol))}'`);
      const bytes = multiplyCount(kib, KIB);
      if (bytes === undefined) return parseError(SOURCE, `${text.slice(from, colon)} past the int64 range`);
      values.set(text.slice(from, colon), bytes);
    }
    from = eol + 1;
  }
  if (!values.has('Rss') || !values.has('Pss')) return parseError(SOURCE, 'no Rss or Pss line');
  return ok(values);
}
