/**
 * The one place DuckDB's exceptions become Status codes. DuckDB reports errors as plain
 * Errors whose message starts with an error class (`Binder Error: …`, `IO Error: …`), so the
 * class name decides the code; the message is kept on one line without the caret excerpt.
 */
import { fail, messageOf, StatusCode, type Status } from '@virtualeyes/core';
import { STORE_NAME } from './config.js';

/** DuckDB error classes (as they prefix messages) and the code each maps to. */
const CLASS_CODES: readonly (readonly [RegExp, StatusCode])[] = [
  [/\bINTERRUPT Error\b/i, StatusCode.TIMEOUT],
  [/\bIO Error\b.*\bCould not set lock\b/i, StatusCode.UNAVAILABLE],
  [/\bIO Error\b.*\b(does not exist|No such file)\b/i, StatusCode.NOT_FOUND],
  [/\bIO Error\b.*\b(Permission denied|Read-only file system)\b/i, StatusCode.PERMISSION_DENIED],
  [/\bIO Error\b/i, StatusCode.UNAVAILABLE],
  [/\bPermission Error\b/i, StatusCode.PERMISSION_DENIED],
  [/\b(Parser|Syntax|Binder|Catalog) Error\b/i, StatusCode.INVALID_ARGUMENT],
  [/\b(Conversion|Invalid Input|Out of Range|Constraint|Not implemented|Invalid type|Mismatch Type) Error\b/i, StatusCode.INVALID_ARGUMENT],
  [/\bOut of Memory Error\b/i, StatusCode.UNAVAILABLE],
  // Thrown by the bindings before DuckDB sees a value (`bigint out of int64 range`).
  [/\bout of \w+ range\b/i, StatusCode.INVALID_ARGUMENT],
  // Thrown converting a row value for the appender: a value that does not fit its column.
  [/\b(is not an integer|is not a string|to a BigInt|serialize a BigInt)\b/i, StatusCode.INVALID_ARGUMENT],
  [/\bTransactionContext Error\b/i, StatusCode.UNAVAILABLE],
];

/** Converts an exception thrown by DuckDB into a Status tagged with `source` (the instance name) and `op`. */
export function classifyDuckDbError(error: unknown, op: string, source: string = STORE_NAME): Status {
  const message = duckDbMessage(error);
  const code = CLASS_CODES.find(([pattern]) => pattern.test(message))?.[1] ?? StatusCode.INTERNAL;
  return fail(code, message, { source, op, cause: error });
}

/** DuckDB's message without the `LINE n: …` excerpt and caret that follow it, on one line. */
function duckDbMessage(error: unknown): string {
  const raw = typeof error === 'object' && error !== null && 'message' in error ? String((error as { message: unknown }).message) : String(error);
  const excerpt = raw.search(/\n\s*LINE \d+:/);
  return messageOf(excerpt >= 0 ? raw.slice(0, excerpt) : raw);
}
