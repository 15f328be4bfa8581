/**
 * Number handling shared by the parsers: exact unsigned decimals read from text, conversion
 * of kernel u64 counters to the number-or-bigint values int64 columns take, and the
 * PARSE_ERROR constructor every parser uses.
 */
import { err, fail, StatusCode, type Result } from '@virtualeyes/core';

/** An exact non-negative integer: a number while it is safe, a bigint beyond. */
export type Count = number | bigint;

/** Largest value an int64 column holds. */
export const INT64_MAX = 2n ** 63n - 1n;

const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const SAFE_DIGITS = 15;

/** Unsigned decimal integer in `text[start, end)`, or -1 when the slice is not one or is not a safe integer. */
export function readUint(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return Number.isSafeInteger(value) ? value : -1;
}

/** Signed decimal integer in `text[start, end)`, or NaN when the slice is not one. */
export function readInt(text: string, start: number, end: number): number {
  if (text.charCodeAt(start) === MINUS) {
    const magnitude = readUint(text, start + 1, end);
    return magnitude < 0 ? Number.NaN : -magnitude;
  }
  const value = readUint(text, start, end);
  return value < 0 ? Number.NaN : value;
}

/** Exact unsigned integer in `text[start, end)` (a bigint beyond 2^53), or undefined when it is not one or exceeds int64. */
export function readCount(text: string, start: number, end: number): Count | undefined {
  if (end <= start) return undefined;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return undefined;
  }
  if (end - start <= SAFE_DIGITS) return readUint(text, start, end);
  const exact = BigInt(text.slice(start, end));
  if (exact > INT64_MAX) return undefined;
  return exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : exact;
}

/** A non-negative bigint as an int64 column value: a number while safe, the bigint beyond, undefined past int64. */
export function toCount(value: bigint): Count | undefined {
  if (value < 0n || value > INT64_MAX) return undefined;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** A failed parse of `source`, saying what was wrong. */
export function parseError<T>(source: string, message: string): Result<T> {
  return err(fail(StatusCode.PARSE_ERROR, `${source}: ${message}`, { op: `parse ${source}` }));
}

/** The first 60 characters of `text`, for messages. */
export function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
