/**
 * Parser of /proc/meminfo: `Key:   value kB` lines into a map of bytes (kB × 1024) or plain
 * counts (the HugePages_* lines carry no unit). Which keys exist depends on the kernel
 * version and config, so the map holds whatever the file has. See proc_meminfo(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { fieldEnd, multiplyCount, parseError, readCount, skipBlanks, type Count } from '@virtualeyes/linux';

const SOURCE = '/proc/meminfo';
const KIB = 1024;

/** Parses /proc/meminfo into key → bytes (or count); PARSE_ERROR on a malformed line. */
export function parseMeminfo(text: string): Result<ReadonlyMap<string, Count>> {
  const values = new Map<string, Count>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const colon = text.indexOf(':', start);
      if (colon < 0 || colon >= end || colon === start) return parseError(SOURCE, `line without a key: '${clip(text, start, end)}'`);
      const numberStart = skipBlanks(text, colon + 1);
      const numberEnd = Math.min(fieldEnd(text, numberStart), end);
      const value = readCount(text, numberStart, numberEnd);
      if (value === undefined) return parseError(SOURCE, `malformed value: '${clip(text, start, end)}'`);
      const unitStart = skipBlanks(text, numberEnd);
      let bytes: Count | undefined;
      if (unitStart >= end) {
        bytes = value;
      } else if (end - unitStart === 2 && text.startsWith('kB', unitStart)) {
        bytes = multiplyCount(value, KIB);
        if (bytes === undefined) return parseError(SOURCE, `value past the int64 range: '${clip(text, start, end)}'`);
      } else {
        return parseError(SOURCE, `unknown unit: '${clip(text, start, end)}'`);
      }
      values.set(text.slice(start, colon), bytes);
    }
    start = end + 1;
  }
  if (!values.has('MemTotal') || !values.has('MemFree')) return parseError(SOURCE, 'no MemTotal or MemFree line');
  return ok(values);
}

function clip(text: string, start: number, end: number): string {
  return end - start > 60 ? `${text.slice(start, start + 60)}…` : text.slice(start, end);
}
