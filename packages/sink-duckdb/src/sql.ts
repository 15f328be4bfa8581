/**
 * SQL building blocks shared by the writer and the reader: schema names, store-added
 * columns, quoting, the mapping of core column types to DuckDB types, and time literals
 * that do not depend on the session time zone.
 */
import type { ColumnType, TableKind } from '@virtualeyes/core';

/** Schema holding one physical table per declared table. */
export const HISTORY_SCHEMA = 'history';

/** Schema holding the store's own metadata. */
export const META_SCHEMA = 'vw_meta';

/**
 * Version of the layout described in the README; stored in `vw_meta.store`. 2: metric tables
 * store changes only (with tombstones and the sample log `vw_meta.samples`).
 */
export const FORMAT_VERSION = 2;

/** Name of the sample log in {@link META_SCHEMA}. */
export const SAMPLES_NAME = 'samples';

/** `vw_meta.samples`: every metric batch's instant, per table and host (docs/storage.md). */
export const SAMPLES_TABLE = `${META_SCHEMA}.${SAMPLES_NAME}`;

/** Columns the store adds in front of the declared ones. */
export const StoreColumn = {
  HOST: 'host',
  TS: 'ts',
  VALID_FROM: 'valid_from',
  VALID_TO: 'valid_to',
} as const;

/**
 * Columns the store adds to metric tables and their as-of views. Declared names cannot start
 * with `_` (core's identifier rule), so these never collide with a probe's column.
 */
export const MetricColumn = {
  /** `history.<metric>`: true on a tombstone, the row saying the entity disappeared; NULL otherwise. */
  GONE: '_gone',
  /** As-of view of a metric table: when the returned values were stored (its `ts` is the sample instant). */
  CHANGED_AT: '_changed_at',
} as const;

/** DuckDB type names as `duckdb_columns()` spells them. */
export const DuckDbType = {
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  VARCHAR: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  VARCHAR_LIST: 'VARCHAR[]',
} as const;

/** One of the {@link DuckDbType} strings. */
export type DuckDbType = (typeof DuckDbType)[keyof typeof DuckDbType];

const TYPE_OF: Readonly<Record<ColumnType, DuckDbType>> = {
  int32: DuckDbType.INTEGER,
  int64: DuckDbType.BIGINT,
  float64: DuckDbType.DOUBLE,
  text: DuckDbType.VARCHAR,
  bool: DuckDbType.BOOLEAN,
  timestamp: DuckDbType.TIMESTAMPTZ,
  'text[]': DuckDbType.VARCHAR_LIST,
};

/** The DuckDB type a core column type is stored as. */
export function duckDbTypeOf(type: ColumnType): DuckDbType {
  return TYPE_OF[type];
}

/** The store-added time columns of a table kind, after `host`. */
export function timeColumnsOf(kind: TableKind): readonly string[] {
  return kind === 'state' ? [StoreColumn.VALID_FROM, StoreColumn.VALID_TO] : [StoreColumn.TS];
}

/** Quotes an identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for DuckDB. */
export function quoteText(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `history."name"`. */
export function historyTable(name: string): string {
  return `${HISTORY_SCHEMA}.${quoteIdent(name)}`;
}

/** Epoch milliseconds (possibly fractional) as integer microseconds. */
export function microsOf(ms: number): bigint {
  return BigInt(Math.round(ms * 1000));
}

/** A TIMESTAMPTZ expression for epoch milliseconds, independent of the TimeZone setting. */
export function timeLiteral(ms: number): string {
  return `make_timestamptz(${microsOf(ms).toString()}::BIGINT)`;
}
