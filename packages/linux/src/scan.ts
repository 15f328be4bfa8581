/**
 * Allocation-free integer scanning of a slice of text, read straight from char codes, with ONE
 * rule past 2^53 for every kernel value: a plain number is returned only while it is exact
 * (readUint/readInt refuse anything past Number.MAX_SAFE_INTEGER), and a counter (readCount)
 * becomes a bigint beyond it, up to the int64 range the stores hold; nothing is ever rounded.
 */

/** An exact non-negative integer: a number while it is safe, a bigint beyond. */
export type Count = number | bigint;

/** Largest value an int64 column holds. */
export const INT64_MAX = 2n ** 63n - 1n;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;
/** Digit strings this long or shorter are always below 2^53, so never need the bigint path. */
const SAFE_DIGITS = 15;

/** The digits of `text[start, end)` accumulated as a double (inexact past 2^53), or -1 when not all digits. */
function digits(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
}

/** Unsigned decimal integer in `text[start, end)`, or -1 when the slice is not one or passes 2^53 - 1 (it would not be exact). */
export function readUint(text: string, start: number, end: number): number {
  const value = digits(text, start, end);
  return Number.isSafeInteger(value) ? value : -1;
}

/** Signed decimal integer in `text[start, end)`, or NaN when the slice is not one or its magnitude passes 2^53 - 1. */
export function readInt(text: string, start: number, end: number): number {
  if (text.charCodeAt(start) === MINUS) {
    const magnitude = readUint(text, start + 1, end);
    return magnitude < 0 ? Number.NaN : -magnitude;
  }
  const value = readUint(text, start, end);
  return value < 0 ? Number.NaN : value;
}

/**
 * Exact unsigned counter in `text[start, end)`: a number up to 2^53 - 1, a bigint from 2^53 to
 * 2^63 - 1, and undefined past int64 (a u64 the stores cannot hold) or when it is not a number.
 */
export function readCount(text: string, start: number, end: number): Count | undefined {
  const value = digits(text, start, end);
  if (value < 0) return undefined;
  // Every intermediate is below the final value, so a safe result was accumulated exactly.
  if (end - start <= SAFE_DIGITS || Number.isSafeInteger(value)) return value;
  const exact = BigInt(text.slice(start, end));
  return exact <= INT64_MAX ? exact : undefined;
}

/** A non-negative bigint as an int64 column value: a number while safe, the bigint beyond, undefined past int64 or below 0. */
export function toCount(value: bigint): Count | undefined {
  if (value < 0n || value > INT64_MAX) return undefined;
  return value <= MAX_SAFE ? Number(value) : value;
}

/** `count * factor` (a non-negative integer factor, such as 1024 for kB) kept exact the same way, or undefined past int64. */
export function multiplyCount(count: Count, factor: number): Count | undefined {
  if (typeof count === 'number') {
    const product = count * factor;
    if (Number.isSafeInteger(product)) return product;
  }
  return toCount(BigInt(count) * BigInt(factor));
}

/** Index of the first space, tab or newline at or after `from`, or `text.length`. */
export function fieldEnd(text: string, from: number): number {
  const length = text.length;
  let i = from;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === NEWLINE) return i;
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
    if (c !== SPACE && c !== TAB) return i;
    i += 1;
  }
  return length;
}
