/**
 * Parser of /proc/PID/io: `name: value` lines of I/O accounting. Keeps the characters read
 * and written through system calls (rchar, wchar) and the bytes that reached or came from
 * storage (read_bytes, write_bytes). See proc_pid_io(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError, readCount, type Count } from '@virtualeyes/linux';

/** The fields of /proc/PID/io this probe stores, in bytes. */
export interface PidIo {
  readonly rchar: Count;
  readonly wchar: Count;
  readonly readBytes: Count;
  readonly writeBytes: Count;
}

const SOURCE = '/proc/[pid]/io';

/** Parses /proc/PID/io; PARSE_ERROR when one of the four stored lines is missing or malformed. */
export function parsePidIo(text: string): Result<PidIo> {
  let rchar: Count | undefined;
  let wchar: Count | undefined;
  let readBytes: Count | undefined;
  let writeBytes: Count | undefined;
  const length = text.length;
  let start = 0;
  while (start < length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = length;
    const colon = text.indexOf(': ', start);
    if (colon > start && colon < end) {
      const value = readCount(text, colon + 2, end);
      if (value === undefined) return parseError(SOURCE, `malformed line '${text.slice(start, Math.min(end, start + 60))}'`);
      const keyLength = colon - start;
      if (keyLength === 5 && text.startsWith('rchar', start)) rchar = value;
      else if (keyLength === 5 && text.startsWith('wchar', start)) wchar = value;
      else if (keyLength === 10 && text.startsWith('read_bytes', start)) readBytes = value;
      else if (keyLength === 11 && text.startsWith('write_bytes', start)) writeBytes = value;
    } else if (end > start) {
      return parseError(SOURCE, `line without a value '${text.slice(start, Math.min(end, start + 60))}'`);
    }
    start = end + 1;
  }
  if (rchar === undefined || wchar === undefined || readBytes === undefined || writeBytes === undefined) {
    return parseError(SOURCE, 'missing rchar, wchar, read_bytes or write_bytes');
  }
  return ok({ rchar, wchar, readBytes, writeBytes });
}
