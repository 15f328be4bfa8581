/**
 * Output of query results in the three formats every command offers: an aligned table for
 * people, JSON (an array of row objects) for programs, and CSV (RFC 4180) for spreadsheets.
 */
import Table from 'cli-table3';
import type { Cell, QueryResult } from '@virtualeyes/core';

/** Output formats. */
export const Format = { TABLE: 'table', JSON: 'json', CSV: 'csv' } as const;

/** One of the {@link Format} strings. */
export type Format = (typeof Format)[keyof typeof Format];

/** The rows of a result as objects keyed by column name. */
export function rowObjects(result: Pick<QueryResult, 'columns' | 'rows'>): Record<string, Cell>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
}

/** Renders a cell for the table and CSV formats. */
export function cellText(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

/** Renders an aligned, borderless table; numbers are right-aligned. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], numeric: readonly boolean[] = []): string {
  const table = new Table({
    head: [...headers],
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colAligns: headers.map((_, index) => (numeric[index] === true ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map((cell) => cellText(cell)));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/** Formats a whole query result. */
export function formatResult(result: QueryResult, format: Format): string {
  switch (format) {
    case Format.JSON:
      return JSON.stringify(rowObjects(result), null, 2);
    case Format.CSV:
      return [result.columns.map((column) => csvField(column.name)), ...result.rows.map((row) => row.map((cell) => csvField(cellText(cell))))]
        .map((fields) => fields.join(','))
        .join('\r\n');
    case Format.TABLE:
      return renderTable(
        result.columns.map((column) => column.name),
        result.rows,
        result.columns.map((column) => NUMERIC_TYPE.test(column.type)),
      );
  }
}

/** Quotes a CSV field when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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
