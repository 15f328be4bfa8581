/**
 * Output of query results in the three formats every command offers: an aligned table for
 * people, JSON (an array of row objects) for programs, and CSV (RFC 4180) for spreadsheets.
 * Table and JSON output never carry a raw control or bidi character from the data (escape.ts);
 * CSV keeps the data exact and quotes any field that holds one.
 */
import Table from 'cli-table3';
import type { Cell, QueryResult } from '@virtualeyes/core';
import { escapeText, hasUnsafeChar, jsonText } from './escape.js';

/** Output formats. */
export const Format = { TABLE: 'table', JSON: 'json', CSV: 'csv' } as const;

/** One of the {@link Format} strings. */
export type Format = (typeof Format)[keyof typeof Format];

/** The rows of a result as objects keyed by column name. */
export function rowObjects(result: Pick<QueryResult, 'columns' | 'rows'>): Record<string, Cell>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
}

/** A cell as exact text, for CSV: strings as they are, lists and structs as JSON. */
export function cellText(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

/** A cell as a terminal may show it: strings escaped, lists and structs as escaped JSON. */
export function displayCell(cell: Cell): string {
  if (typeof cell === 'string') return escapeText(cell);
  // JSON is already an unambiguous, printable encoding once jsonText has escaped C1 and bidi.
  if (cell !== null && typeof cell === 'object') return jsonText(cell, 0);
  if (typeof cell === 'number') return roundedText(cell);
  return cellText(cell);
}

/**
 * A number for people: integers as they are, others to 2 decimals (trailing zeros dropped) or,
 * below 1, to 3 significant digits (0.000123). JSON and CSV keep the exact value.
 */
export function roundedText(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1) return String(Number(value.toFixed(2)));
  return String(Number(value.toPrecision(3)));
}

/**
 * Renders an aligned, borderless table; numbers are right-aligned. Headers and cells are
 * escaped here, before cli-table3 measures them, so widths are those of the printed text.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], numeric: readonly boolean[] = []): string {
  const table = new Table({
    head: headers.map(escapeText),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colAligns: headers.map((_, index) => (numeric[index] === true ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map(displayCell));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

const TIME_TYPE = /^TIMESTAMP/;

/**
 * Formats a whole query result. With `display`, the table format shows instants (TIMESTAMP
 * columns) in local time or UTC, the zone named in the column's header: `ts (CET)`. JSON and
 * CSV always print them as ISO-8601 UTC.
 */
export function formatResult(result: QueryResult, format: Format, display?: TimeDisplay): string {
  switch (format) {
    case Format.JSON:
      return jsonText(rowObjects(result));
    case Format.CSV:
      return [result.columns.map((column) => csvField(column.name)), ...result.rows.map((row) => row.map((cell) => csvField(cellText(cell))))]
        .map((fields) => fields.join(','))
        .join('\r\n');
    case Format.TABLE: {
      const times = display === undefined ? [] : result.columns.map((column) => TIME_TYPE.test(column.type));
      const zone = display === undefined ? '' : zoneText(display, Date.now(), true);
      const local = (cell: Cell): Cell => {
        const ms = typeof cell === 'string' ? Date.parse(cell) : Number.NaN;
        return Number.isNaN(ms) ? cell : clockText(ms, display!, 'datetime', true);
      };
      return renderTable(
        result.columns.map((column, index) => (times[index] === true ? `${column.name} (${zone})` : column.name)),
        times.some(Boolean) ? result.rows.map((row) => row.map((cell, index) => (times[index] === true ? local(cell) : cell))) : result.rows,
        result.columns.map((column) => NUMERIC_TYPE.test(column.type)),
      );
    }
  }
}

/**
 * Quotes a CSV field (RFC 4180) when it holds a comma, quote, line break or any character
 * {@link escapeText} would rewrite. CSV is for programs, so the data stays exact: a quoted
 * field may carry ESC or U+202E, which a reader of `cat out.csv` on a terminal would meet raw.
 */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) || hasUnsafeChar(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Human-readable bytes: 1.5 KiB, 23.4 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]!}`;
}

/** Human-readable duration from milliseconds: 3d 4h, 5m 12s, 800 ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  return parts
    .filter(([value]) => value > 0)
    .slice(0, 2)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** Fields of the daemon's and the store's reports that hold an instant (epoch milliseconds). */
const INSTANT_FIELDS: ReadonlySet<string> = new Set(['first', 'last', 'from', 'to', 'lastWrite']);

/**
 * `value` with every instant of a status or table listing (`first`, `last`, `from`, `to`,
 * `lastWrite` and every `…At` field holding a number) as an ISO-8601 UTC string, as query output
 * prints times: one convention for every command's JSON. Durations (`…Ms`) stay numbers.
 */
export function isoInstants(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(isoInstants);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, field]) => [
      key,
      typeof field === 'number' && (INSTANT_FIELDS.has(key) || key.endsWith('At')) ? isoOf(field) : isoInstants(field),
    ]),
  );
}

/** An instant as ISO-8601 UTC; a number no Date can hold stays as it is. */
function isoOf(ms: number): string | number {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? ms : date.toISOString();
}

/** How a table shows instants: local time (the process's TZ) by default, UTC with `--utc`. */
export interface TimeDisplay {
  /** Show UTC instead of local time. */
  readonly utc: boolean;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** `ms` as `YYYY-MM-DD HH:MM:SS` (with `.mmm` when `millis`) in local time or UTC, the zone left to {@link zoneText}. */
export function clockText(ms: number, display: TimeDisplay, parts: 'date' | 'time' | 'datetime' = 'datetime', millis = false): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return String(ms);
  const [y, mo, d, h, mi, s, milli] = display.utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  const day = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  const time = `${pad(h)}:${pad(mi)}:${pad(s)}${millis ? `.${pad(milli, 3)}` : ''}`;
  return parts === 'date' ? day : parts === 'time' ? time : `${day} ${time}`;
}

/** The zone {@link clockText} shows times in, named once in a table's header: `UTC`, or `Europe/Berlin (CET)` (`CET` when `brief`). */
export function zoneText(display: TimeDisplay, at: number = Date.now(), brief = false): string {
  if (display.utc) return 'UTC';
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const short = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(at)).find((part) => part.type === 'timeZoneName')?.value;
  if (zone === undefined || zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
  if (brief) return short ?? zone;
  return short === undefined || short === zone ? zone : `${zone} (${short})`;
}
