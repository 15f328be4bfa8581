/**
 * Appending rows through DuckDB's Appender, the fast path for metric and event samples and
 * new state versions. A plan maps each physical column (in file order) to a function that
 * appends one value of the row, so older columns a probe no longer declares get NULL (and so
 * does a metric row's `_gone`); a tombstone plan writes only the key, the time and `_gone`. A
 * write keeps one appender per target table for all its batches (createAppenders).
 */
import { DuckDBTimestampTZValue, LIST, VARCHAR, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { Row, Value } from '@virtualeyes/core';
import type { TableLayout } from './layout.js';
import { DuckDbType, MetricColumn, microsOf, StoreColumn } from './sql.js';
import { safely } from './store.js';

/** Appends one row stamped with the host and a time (microseconds) to an open appender; a state row's valid_to is `until`, NULL without it. */
export type RowAppender = (appender: DuckDBAppender, row: Row, micros: bigint, until?: bigint) => void;

/** Appends the values of some columns of a row, without ending the appender's row. */
export type ValuesAppender = (appender: DuckDBAppender, row: Row) => void;

type ColumnAppender = (appender: DuckDBAppender, row: Row, micros: bigint, until?: bigint) => void;

const VARCHAR_LIST = LIST(VARCHAR);

/** Builds the appender plan of a table for rows of `host`. */
export function planRows(layout: TableLayout, host: string): RowAppender {
  const declared = new Set(layout.schema.columns.map((column) => column.name));
  const steps: ColumnAppender[] = layout.columns.map((column) => {
    switch (column.name) {
      case StoreColumn.HOST:
        return (appender) => appender.appendVarchar(host);
      case StoreColumn.TS:
      case StoreColumn.VALID_FROM:
        return (appender, _row, micros) => appender.appendTimestampTZ(new DuckDBTimestampTZValue(micros));
      case StoreColumn.VALID_TO:
        return (appender, _row, _micros, until) => (until === undefined ? appender.appendNull() : appender.appendTimestampTZ(new DuckDBTimestampTZValue(until)));
      default:
        return declared.has(column.name) ? valueAppender(column.name, column.type) : (appender) => appender.appendNull();
    }
  });
  return (appender, row, micros, until) => {
    for (const step of steps) step(appender, row, micros, until);
    appender.endRow();
  };
}

/** Builds the plan of a metric table's tombstones for `host`: the key columns of the row, `_gone` true, every other column NULL. */
export function planTombstones(layout: TableLayout, host: string): RowAppender {
  const keys = new Set(layout.schema.key);
  const steps: ColumnAppender[] = layout.columns.map((column) => {
    if (column.name === StoreColumn.HOST) return (appender) => appender.appendVarchar(host);
    if (column.name === StoreColumn.TS) return (appender, _row, micros) => appender.appendTimestampTZ(new DuckDBTimestampTZValue(micros));
    if (column.name === MetricColumn.GONE) return (appender) => appender.appendBoolean(true);
    return keys.has(column.name) ? valueAppender(column.name, column.type) : (appender) => appender.appendNull();
  });
  return (appender, row, micros) => {
    for (const step of steps) step(appender, row, micros);
    appender.endRow();
  };
}

/** Appends `row[name]` for each of `columns` (name and physical type), in order. */
export function planValues(columns: readonly { readonly name: string; readonly type: string }[]): ValuesAppender {
  const steps = columns.map((column) => valueAppender(column.name, column.type));
  return (appender, row) => {
    for (const step of steps) step(appender, row, 0n);
  };
}

/** Appends `row[name]` as the physical type; the pipeline validated rows against the schema, and a value that still does not fit makes the appender (so the write) fail. */
function valueAppender(name: string, type: string): ColumnAppender {
  const append = appenderOfType(type);
  return (appender, row) => {
    const value = row[name];
    if (value === undefined || value === null) appender.appendNull();
    else append(appender, value);
  };
}

function appenderOfType(type: string): (appender: DuckDBAppender, value: Exclude<Value, null>) => void {
  switch (type) {
    case DuckDbType.INTEGER:
      return (appender, value) => appender.appendInteger(Number(value));
    case DuckDbType.BIGINT:
      return (appender, value) => appender.appendBigInt(typeof value === 'bigint' ? value : BigInt(value as number));
    case DuckDbType.DOUBLE:
      return (appender, value) => appender.appendDouble(Number(value));
    case DuckDbType.BOOLEAN:
      return (appender, value) => appender.appendBoolean(value === true);
    case DuckDbType.TIMESTAMPTZ:
      return (appender, value) => appender.appendTimestampTZ(new DuckDBTimestampTZValue(microsOf(Number(value))));
    case DuckDbType.VARCHAR_LIST:
      return (appender, value) => appender.appendList(Array.isArray(value) ? (value as readonly string[]) : [String(value)], VARCHAR_LIST);
    default:
      return (appender, value) => appender.appendVarchar(typeof value === 'string' ? value : JSON.stringify(value, bigintText));
  }
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The appenders of one write, one per target table, opened on first use and closed together. */
export interface WriteAppenders {
  /** The open appender of `schema.table` (in `catalog`), opened now if it is not yet. */
  get(table: string, schema: string, catalog?: string): Promise<DuckDBAppender>;
  /** Closes every appender, inserting their rows; rejects as DuckDB does, naming the table. */
  close(): Promise<void>;
  /** Drops whatever the appenders hold and closes them, never throwing. */
  discard(): void;
}

export function createAppenders(connection: DuckDBConnection): WriteAppenders {
  const open = new Map<string, DuckDBAppender>();
  return {
    async get(table, schema, catalog) {
      const key = `${catalog ?? ''}.${schema}.${table}`;
      let appender = open.get(key);
      if (appender === undefined) {
        appender = await connection.createAppender(table, schema, catalog);
        open.set(key, appender);
      }
      return appender;
    },
    async close() {
      for (const [key, appender] of open) {
        // Closed (or failed) appenders leave the map, so discard() only touches the rest.
        open.delete(key);
        try {
          appender.closeSync();
        } catch (error) {
          safely(() => appender.clear());
          safely(() => appender.closeSync());
          return Promise.reject(new Error(`${key.split('.').pop() ?? key}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        }
      }
    },
    discard() {
      for (const appender of open.values()) {
        safely(() => appender.clear());
        safely(() => appender.closeSync());
      }
      open.clear();
    },
  };
}
