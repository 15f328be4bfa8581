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

/** Version of the layout described in the README; stored in `vw_meta.store`. */
export const FORMAT_VERSION = 1;

/** Columns the store adds in front of the declared ones. */
export const StoreColumn = {
  HOST: 'host',
  TS: 'ts',
  VALID_FROM: 'valid_from',
  VALID_TO: 'valid_to',
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
