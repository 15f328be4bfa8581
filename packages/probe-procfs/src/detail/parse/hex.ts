/**
 * Hexadecimal fields of /proc text (addresses and offsets in maps, words in /proc/net): exact
 * values as int64 column values, a number while safe and a bigint beyond, never rounded.
 */
import { toCount, type Count } from '@virtualeyes/linux';

/** Hex digits that always fit a safe integer (13 digits < 2^52). */
const SAFE_HEX_DIGITS = 13;
/** Most digits of a 64-bit value. */
export const MAX_HEX_DIGITS = 16;

/** Whether `text[start, end)` is 1 to 16 hex digits. */
export function isHex(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > MAX_HEX_DIGITS) return false;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The value of hex digits already checked with {@link isHex}, or undefined past int64. */
export function hexCount(digits: string): Count | undefined {
  if (digits.length <= SAFE_HEX_DIGITS) return Number.parseInt(digits, 16);
  return toCount(BigInt(`0x${digits}`));
}

/** `end - start` of two hex addresses checked with {@link isHex}, or undefined when negative or past int64. */
export function hexDifference(start: string, end: string): Count | undefined {
  if (start.length <= SAFE_HEX_DIGITS && end.length <= SAFE_HEX_DIGITS) {
    const size = Number.parseInt(end, 16) - Number.parseInt(start, 16);
    return size < 0 ? undefined : size;
  }
  return toCount(BigInt(`0x${end}`) - BigInt(`0x${start}`));
}
