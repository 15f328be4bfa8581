/**
 * SQL building blocks shared by the writer and the reader: schema names, store-added
 * columns, quoting, the mapping of core column types to DuckDB types, and time literals
 * that do not depend on the session time zone.
 */
import type { ColumnType, TableKind } from '@virtualeyes/core';

/**
 * Schema naming every declared table: a physical table of a state or event table, or of a metric
 * table of layout 2; a view of a metric table of layout 3 ({@link RAW_SCHEMA}, {@link STAGE_SCHEMA}).
 */
export const HISTORY_SCHEMA = 'history';

/** Layout 3: a metric table's rows moved out of {@link STAGE_SCHEMA}, each move in entity order (docs/storage.md). */
export const RAW_SCHEMA = 'vw_raw';

/**
 * Layout 3: a metric table's rows since the writer last moved them into {@link RAW_SCHEMA}, in
 * arrival order. Moved before every checkpoint, so its rows are never written to the file's blocks
 * (they live in the WAL and in memory); `history.<table>` is the view of both.
 */
export const STAGE_SCHEMA = 'vw_stage';

/** Schema holding the store's own metadata. */
export const META_SCHEMA = 'vw_meta';

/**
 * Version of the layout described in the README; stored in `vw_meta.store`. 2: metric tables
 * store changes only (with tombstones and the sample log `vw_meta.samples`). 3: a metric table
 * created by this version is two physical tables, `vw_raw.<t>` and `vw_stage.<t>`, and
 * `history.<t>` their view (tables of layout 2 stay as they are).
 */
export const FORMAT_VERSION = 3;

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

/** `vw_raw."name"`. */
export function rawTable(name: string): string {
  return `${RAW_SCHEMA}.${quoteIdent(name)}`;
}

/** `vw_stage."name"`. */
export function stageTable(name: string): string {
  return `${STAGE_SCHEMA}.${quoteIdent(name)}`;
}

/** The physical tables holding a table's rows: `history.<t>`, or for a staged metric table `vw_raw.<t>` and `vw_stage.<t>`. */
export function physicalTables(name: string, staged: boolean): string[] {
  return staged ? [rawTable(name), stageTable(name)] : [historyTable(name)];
}

/** Row ids of a staged table's stage are offset by this, so that they never equal one of its raw table's. */
const STAGE_ROW_IDS = 1n << 62n;

/**
 * A parenthesized SELECT of a table's rows with a unique `_rowid` (its physical row id; a staged
 * table's stage rows offset by 2^62), for reads that join rows back by id (steps.ts).
 */
export function rowsWithIds(name: string, staged: boolean): string {
  if (!staged) return `(SELECT rowid AS _rowid, * FROM ${historyTable(name)})`;
  return `(SELECT rowid AS _rowid, * FROM ${rawTable(name)} UNION ALL BY NAME SELECT rowid + ${STAGE_ROW_IDS.toString()} AS _rowid, * FROM ${stageTable(name)})`;
}

/** The view body of a staged metric table's `history.<t>`: both of its physical tables. */
export function stagedViewSql(name: string, replace = false): string {
  return `CREATE ${replace ? 'OR REPLACE ' : ''}VIEW ${historyTable(name)} AS SELECT * FROM ${rawTable(name)} UNION ALL BY NAME SELECT * FROM ${stageTable(name)}`;
}

/** Epoch milliseconds (possibly fractional) as integer microseconds. */
export function microsOf(ms: number): bigint {
  return BigInt(Math.round(ms * 1000));
}

/** A TIMESTAMPTZ expression for epoch milliseconds, independent of the TimeZone setting. */
export function timeLiteral(ms: number): string {
  return `make_timestamptz(${microsOf(ms).toString()}::BIGINT)`;
}
