/**
 * Allocation-free number scanning shared by the parsers: decimal integers read straight from
 * char codes of a slice of text, exact beyond 2^53 (as bigint) where a counter may get there,
 * and the PARSE_ERROR constructor every parser uses.
 */
import { err, fail, StatusCode, type Result } from '@virtualeyes/core';

/** An exact non-negative integer: a number while it is safe, a bigint beyond. */
export type Count = number | bigint;

/** Largest tick count whose value in milliseconds stays an exact number at any USER_HZ ≥ 1. */
export const MAX_TICKS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const SAFE_DIGITS = 15;

/** Unsigned decimal integer in `text[start, end)`, or -1 when the slice is not one. */
export function readUint(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
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

/** Largest count an int64 column holds. */
const INT64_MAX = 2n ** 63n - 1n;

/** Exact unsigned integer in `text[start, end)` (a bigint beyond 2^53), or undefined when it is not one or exceeds int64. */
export function readCount(text: string, start: number, end: number): Count | undefined {
  const value = readUint(text, start, end);
  if (value < 0) return undefined;
  if (end - start <= SAFE_DIGITS || Number.isSafeInteger(value)) return value;
  const exact = BigInt(text.slice(start, end));
  return exact <= INT64_MAX ? exact : undefined;
}

/** `count * factor` kept exact (a number while safe, a bigint beyond), or undefined past int64. */
export function scaleCount(count: Count, factor: number): Count | undefined {
  if (typeof count === 'number') {
    const scaled = count * factor;
    if (Number.isSafeInteger(scaled)) return scaled;
  }
  const exact = BigInt(count) * BigInt(factor);
  return exact <= INT64_MAX ? exact : undefined;
}

/** Index of the first space, tab or newline at or after `from`, or `text.length`. */
export function fieldEnd(text: string, from: number): number {
  const length = text.length;
  let i = from;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10) return i;
    i += 1;
  }
  return length;
}

/** Index of the first character at or after `from` that is not a space or tab, or `text.length`. */
export function skipBlanks(text: string, from: number): number {
  const length = text.length;
  let i = from;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return i;
    i += 1;
  }
  return length;
}

/** A failed parse of `source`, saying what was wrong. */
export function parseError<T>(source: string, message: string): Result<T> {
  return err(fail(StatusCode.PARSE_ERROR, `${source}: ${message}`, { op: `parse ${source}` }));
}
