/**
 * Parser of /etc/os-release: shell-style `KEY=value` assignments with optional single or
 * double quotes and backslash escapes inside double quotes. See os-release(5).
 */
import { ok, type Result } from '@virtualeyes/core';
import { parseError } from '@virtualeyes/linux';

const SOURCE = '/etc/os-release';
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses os-release into key → value; PARSE_ERROR on a line that is not an assignment. */
export function parseOsRelease(text: string): Result<ReadonlyMap<string, string>> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals < 0 ? '' : line.slice(0, equals);
    if (!KEY.test(key)) return parseError(SOURCE, `not an assignment: '${line.length > 60 ? `${line.slice(0, 60)}…` : line}'`);
    const value = unquote(line.slice(equals + 1));
    if (value === undefined) return parseError(SOURCE, `unbalanced quotes in ${key}`);
    values.set(key, value);
  }
  return ok(values);
}

function unquote(value: string): string | undefined {
  const quote = value.charAt(0);
  if (quote !== '"' && quote !== "'") return value;
  if (value.length < 2 || !value.endsWith(quote)) return undefined;
  const inner = value.slice(1, -1);
  if (quote === "'") return inner;
  let out = '';
  for (let i = 0; i < inner.length; i += 1) {
    const c = inner.charAt(i);
    if (c === '\\' && i + 1 < inner.length) {
      i += 1;
      out += inner.charAt(i);
    } else if (c === '"') {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}
