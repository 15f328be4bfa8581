/**
 * Table schemas and batches: what every probe declares it produces and what every sink
 * receives. A table is a metric (numeric samples), state (versioned entities) or event
 * (append-only occurrences) table; stores add the host and time columns themselves.
 */
import { fail, OK, StatusCode, type Status } from './status.js';

/** How a table's rows relate to time. */
export const TableKind = {
  /** Numeric samples at an instant; counters raw and cumulative. */
  METRIC: 'metric',
  /** Slowly changing entities, stored as versions valid over `[valid_from, valid_to)`. */
  STATE: 'state',
  /** Discrete occurrences, append-only. */
  EVENT: 'event',
} as const;

/** One of the {@link TableKind} strings. */
export type TableKind = (typeof TableKind)[keyof typeof TableKind];

/** Column types every store maps to its own types. */
export const ColumnType = {
  INT32: 'int32',
  INT64: 'int64',
  FLOAT64: 'float64',
  TEXT: 'text',
  BOOL: 'bool',
  /** Milliseconds since the Unix epoch in rows; a timestamp in the store. */
  TIMESTAMP: 'timestamp',
  TEXT_LIST: 'text[]',
} as const;

/** One of the {@link ColumnType} strings. */
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

/** One typed column of a table. */
export interface ColumnDef {
  /** snake_case column name. */
  readonly name: string;
  /** Value type. */
  readonly type: ColumnType;
  /** Unit of the value (`bytes`, `ms`, `count`, `percent`…), if it has one. */
  readonly unit?: string;
  /** One sentence saying what the column holds. */
  readonly description: string;
  /** Whether rows may carry null (key columns never may). */
  readonly nullable?: boolean;
  /**
   * A cumulative counter since an origin (boot, the process's start): only its change over time
   * means something, so stores derive per-second rates from it. Numeric and never a key column.
   */
  readonly counter?: true;
}

/** What a column may say besides its name, type and description. */
export interface ColumnOptions {
  /** Unit of the value (`bytes`, `ms`, `ns`, `count`, `percent`…). */
  readonly unit?: string;
  /** Rows may carry null here (never in a key column). */
  readonly nullable?: boolean;
  /** A cumulative counter since an origin: only its change over time means something; stores derive per-second rates. */
  readonly counter?: boolean;
}

function builder(type: ColumnType): (name: string, description: string, options?: ColumnOptions) => ColumnDef {
  return (name, description, options = {}) => ({
    name,
    type,
    description,
    ...(options.unit === undefined ? {} : { unit: options.unit }),
    ...(options.nullable === true ? { nullable: true } : {}),
    ...(options.counter === true ? { counter: true } : {}),
  });
}

/**
 * Column builders, one per {@link ColumnType}: `column.int64('rss', 'Resident set size.', { unit: 'bytes' })`.
 * They build plain {@link ColumnDef}s (no unit, nullable or counter key when not given), so a schema
 * reads as a list and two probes declare the same column the same way.
 */
export const column = {
  int32: builder(ColumnType.INT32),
  int64: builder(ColumnType.INT64),
  float64: builder(ColumnType.FLOAT64),
  text: builder(ColumnType.TEXT),
  bool: builder(ColumnType.BOOL),
  /** Epoch milliseconds in rows; a timestamp in the store. */
  timestamp: builder(ColumnType.TIMESTAMP),
  textList: builder(ColumnType.TEXT_LIST),
} as const;

/** The declared shape of one table a probe produces. */
export interface TableSchema {
  /** snake_case table name, unique across the agent (`processes`, `cpu`). */
  readonly name: string;
  /** How rows relate to time. */
  readonly kind: TableKind;
  /** One sentence saying what a row is. */
  readonly description: string;
  /** Columns identifying an entity within a host (empty for single-row tables). */
  readonly key: readonly string[];
  /** Every column, key columns included. */
  readonly columns: readonly ColumnDef[];
  /** How often a polled table is collected unless configured otherwise; absent for pushed tables. */
  readonly defaultIntervalMs?: number;
}

/** A value in a row. Timestamps are epoch milliseconds. */
export type Value = string | number | bigint | boolean | null | readonly string[];

/** One row: column name to value. */
export type Row = Readonly<Record<string, Value>>;

/** Rows of one table observed at one instant. */
export interface Batch {
  /** Table name, as declared in the producing probe's manifest. */
  readonly table: string;
  /** When the rows were observed, epoch milliseconds. */
  readonly ts: number;
  /** The rows. */
  readonly rows: readonly Row[];
  /**
   * For state tables: true when the rows are every entity that exists now, so an entity
   * missing from the batch has disappeared. False for partial updates.
   */
  readonly snapshot: boolean;
  /**
   * Each row's own time, epoch milliseconds, one per row in order, for the rows of one collection
   * that happened at different instants (kernel events); `ts` is then the collection's time, at
   * or after every one of them. Event tables: when the row happened. State tables: when the row's
   * values began (a new entity's first version, or a change's), ignored for an unchanged row.
   * Metric tables take none. Without it every row is at `ts`.
   */
  readonly times?: readonly number[];
  /**
   * State tables, partial batches (`snapshot: false`) only: when each row's entity ended, epoch
   * milliseconds, or null when it goes on. An ended entity's open version closes then, whatever
   * the row's values; an entity with no open version (one that came and went between two
   * snapshots) is stored as one version from its time (its end when it has none) to its end.
   */
  readonly ends?: readonly (number | null)[];
}

/** Column names stores add to every table; probes must not declare them. */
export const RESERVED_COLUMNS: readonly string[] = ['host', 'ts', 'valid_from', 'valid_to'];

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const KINDS: ReadonlySet<string> = new Set(Object.values(TableKind));
const TYPES: ReadonlySet<string> = new Set(Object.values(ColumnType));
const NUMERIC: ReadonlySet<string> = new Set([ColumnType.INT32, ColumnType.INT64, ColumnType.FLOAT64]);

/** Checks a schema's names, kinds, types and keys; returns INVALID_ARGUMENT naming the problem. */
export function validateSchema(schema: TableSchema): Status {
  const bad = (message: string): Status =>
    fail(StatusCode.INVALID_ARGUMENT, `table '${schema.name}': ${message}`, { op: 'validate schema' });
  if (schema.name.startsWith('_')) return bad('names starting with _ are reserved');
  if (!IDENTIFIER.test(schema.name)) return bad('name must be snake_case');
  if (!KINDS.has(schema.kind)) return bad(`unknown kind '${String(schema.kind)}'`);
  if (schema.columns.length === 0) return bad('has no columns');
  const seen = new Set<string>();
  for (const column of schema.columns) {
    if (!IDENTIFIER.test(column.name)) return bad(`column '${column.name}' must be snake_case`);
    if (RESERVED_COLUMNS.includes(column.name)) return bad(`column '${column.name}' is reserved`);
    if (seen.has(column.name)) return bad(`column '${column.name}' declared twice`);
    if (!TYPES.has(column.type)) return bad(`column '${column.name}' has unknown type '${String(column.type)}'`);
    if (column.counter === true && !NUMERIC.has(column.type)) return bad(`counter column '${column.name}' must be int32, int64 or float64, not ${column.type}`);
    seen.add(column.name);
  }
  for (const key of schema.key) {
    const column = schema.columns.find((candidate) => candidate.name === key);
    if (column === undefined) return bad(`key column '${key}' is not declared`);
    if (column.nullable === true) return bad(`key column '${key}' must not be nullable`);
    if (column.counter === true) return bad(`key column '${key}' cannot be a counter`);
  }
  if (schema.defaultIntervalMs !== undefined && !(schema.defaultIntervalMs > 0)) {
    return bad('defaultIntervalMs must be positive');
  }
  return OK;
}

/** Checks one row against its schema: every column present with a value of its type. */
export function validateRow(schema: TableSchema, row: Row): Status {
  for (const column of schema.columns) {
    const value = row[column.name];
    if (value === undefined || value === null) {
      if (column.nullable === true && !schema.key.includes(column.name)) continue;
      return fail(StatusCode.INVALID_ARGUMENT, `${schema.name}.${column.name} is missing`, { op: 'validate row' });
    }
    if (!valueMatches(column.type, value)) {
      return fail(
        StatusCode.INVALID_ARGUMENT,
        `${schema.name}.${column.name} should be ${column.type}, got ${JSON.stringify(value, bigintReplacer)}`,
        { op: 'validate row' },
      );
    }
  }
  for (const name of Object.keys(row)) {
    if (!schema.columns.some((column) => column.name === name)) {
      return fail(StatusCode.INVALID_ARGUMENT, `${schema.name}.${name} is not a declared column`, {
        op: 'validate row',
      });
    }
  }
  return OK;
}

/**
 * Checks a batch's per-row times and ends against its table: times only for event and state
 * tables, ends only for a state table's partial batch; one per row, each finite (an end may be
 * null), none after the batch's `ts`, no end before its row's time. OK when the batch has none.
 */
export function validateTimes(schema: TableSchema, batch: Batch): Status {
  const { times, ends } = batch;
  if (times === undefined && ends === undefined) return OK;
  const bad = (message: string): Status => fail(StatusCode.INVALID_ARGUMENT, `${schema.name}: ${message}`, { op: 'validate batch' });
  const valid = (time: unknown, what: string): string | undefined => {
    if (typeof time !== 'number' || !Number.isFinite(time)) return `per-row ${what} ${String(time)} is not a number`;
    if (time > batch.ts) return `per-row ${what} ${time} is after the batch's time ${batch.ts}`;
    return undefined;
  };
  if (times !== undefined) {
    if (schema.kind === TableKind.METRIC) return bad('per-row times are for event and state tables, not metric tables');
    if (times.length !== batch.rows.length) return bad(`${times.length} per-row times for ${batch.rows.length} rows`);
    for (const time of times) {
      const problem = valid(time, 'time');
      if (problem !== undefined) return bad(problem);
    }
  }
  if (ends !== undefined) {
    if (schema.kind !== TableKind.STATE) return bad(`per-row ends are for state tables, not ${schema.kind} tables`);
    if (batch.snapshot) return bad('per-row ends are for partial batches (snapshot: false)');
    if (ends.length !== batch.rows.length) return bad(`${ends.length} per-row ends for ${batch.rows.length} rows`);
    for (const [index, end] of ends.entries()) {
      if (end === null) continue;
      const problem = valid(end, 'end');
      if (problem !== undefined) return bad(problem);
      const from = times?.[index];
      if (from !== undefined && end < from) return bad(`per-row end ${end} is before its row's time ${from}`);
    }
  }
  return OK;
}

function valueMatches(type: ColumnType, value: Exclude<Value, null>): boolean {
  switch (type) {
    case ColumnType.INT32:
      return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;
    case ColumnType.INT64:
      return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX);
    case ColumnType.FLOAT64:
      return typeof value === 'number';
    case ColumnType.TIMESTAMP:
      return typeof value === 'number' && Number.isFinite(value);
    case ColumnType.TEXT:
      return typeof value === 'string';
    case ColumnType.BOOL:
      return typeof value === 'boolean';
    case ColumnType.TEXT_LIST:
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
