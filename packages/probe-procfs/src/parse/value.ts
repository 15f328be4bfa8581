/**
 * Parser of one-value files: /proc/sys/kernel/{hostname,osrelease,version,arch},
 * /proc/sys/kernel/random/boot_id and /etc/machine-id hold one line of text.
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError } from '@virtualeyes/linux';

/** The single line of a one-value file without its newline; PARSE_ERROR when empty or several lines. */
export function parseValue(text: string, source: string): Result<string> {
  const value = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (value.trim() === '') return parseError(source, 'empty');
  if (value.includes('\n')) return parseError(source, 'more than one line');
  return ok(value);
}
