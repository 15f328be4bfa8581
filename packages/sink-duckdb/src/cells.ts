/**
 * Conversion of DuckDB result values into JSON-safe cells: integers beyond 2^53 become
 * strings, times become ISO-8601 strings in UTC with milliseconds, lists become arrays and
 * structs objects, so a result survives JSON.stringify and the HTTP API unchanged.
 */
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Cell } from '@virtualeyes/core';

/** Latest instant a JS Date can hold, in milliseconds. */
const MAX_DATE_MS = 8.64e15;

/** Converts one DuckDB value into a JSON-safe cell. */
export function toCell(value: DuckDBValue): Cell {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return bigintCell(value);
    default:
      return objectCell(value);
  }
}

/** A big integer as a number when exact, else as its decimal string. */
export function bigintCell(value: bigint): Cell {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

/** Epoch milliseconds as `2026-11-22T05:04:08.725Z`, or DuckDB's text beyond the Date range. */
export function isoTime(ms: number, fallback: () => string): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : fallback();
}

function objectCell(value: Exclude<DuckDBValue, null | boolean | string | number | bigint>): Cell {
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) {
    return timeCell(value.isFinite, floorDiv(value.micros, 1000n), () => value.toString());
  }
  if (value instanceof DuckDBTimestampMillisecondsValue) return timeCell(value.isFinite, Number(value.millis), () => value.toString());
  if (value instanceof DuckDBTimestampSecondsValue) return timeCell(value.isFinite, Number(value.seconds) * 1000, () => value.toString());
  if (value instanceof DuckDBTimestampNanosecondsValue) {
    return timeCell(value.isFinite, floorDiv(value.nanos, 1_000_000n), () => value.toString());
  }
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString('base64');
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toCell);
  if (value instanceof DuckDBStructValue) {
    const entries: Record<string, Cell> = {};
    for (const [name, entry] of Object.entries(value.entries)) entries[name] = toCell(entry);
    return entries;
  }
  if (value instanceof DuckDBMapValue) return value.entries.map((entry) => ({ key: toCell(entry.key), value: toCell(entry.value) }));
  if (value instanceof DuckDBUnionValue) return toCell(value.value);
  return value.toString();
}

function timeCell(finite: boolean, ms: number, text: () => string): string {
  return finite ? isoTime(ms, text) : text();
}

/** Integer division rounding toward negative infinity, as a number. */
function floorDiv(value: bigint, divisor: bigint): number {
  const quotient = value / divisor;
  return Number(value % divisor < 0n ? quotient - 1n : quotient);
}
