/**
 * Slices of a recording (docs/querying.md, "export and import"): which stored rows a slice of
 * [from, to] must hold so that a store loaded with them answers every as-of question about those
 * instants as the recording does, read page by page through the reader; Parquet files of a
 * slice's parts; and a new store, laid out by the writer's own code, loaded with a slice's rows.
 */
import { chmod, lstat, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue, LIST, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import {
  classifyErrno,
  errnoOf,
  fail,
  fromPromise,
  OK,
  StatusCode,
  type Cell,
  type ColumnType,
  type ReaderDeps,
  type Result,
  type SliceColumn,
  type SliceFileWriter,
  type SliceLoader,
  type SlicePage,
  type SlicePart,
  type SlicePlan,
  type SlicePlanRequest,
  type SliceRequest,
  type SliceScope,
  type Status,
  type TableSchema,
} from '@virtualeyes/core';
import { toCell } from './cells.js';
import { parseConfig, storePath, type DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { prepareStore, readMetaTables, readPhysicalColumns, type MetaTable, type PhysicalColumn } from './layout.js';
import { cellBytes, FUTURE_SKEW_MS, MAX_TIME_MS, MIN_TIME_MS } from './limits.js';
import { checkInstant, readKeyframeBound, withTimeLimit, type QueryContext } from './query.js';
import { duckDbTypeOf, HISTORY_SCHEMA, historyTable, RAW_SCHEMA, META_SCHEMA, MetricColumn, microsOf, quoteIdent, quoteText, SAMPLES_NAME, SAMPLES_TABLE, StoreColumn } from './sql.js';
import { AccessMode, openInstance, safely } from './store.js';

/** The names of the two logs a slice holds besides its tables. */
export const SlicePartName = {
  /** `vw_meta.sessions`: the recorder's runs, with their stops. */
  SESSIONS: `${META_SCHEMA}.sessions`,
  /** `vw_meta.samples`: every metric batch's instant. */
  SAMPLES: SAMPLES_TABLE,
} as const;

/** Mode of the files a slice operation leaves (a store, a Parquet file): the data directory's. */
const FILE_MODE = 0o640;

/** Mode of a directory the loader creates for its store. */
const DIRECTORY_MODE = 0o750;

/** The sessions log's columns, in file order. */
const SESSION_COLUMNS: readonly SliceColumn[] = [
  { name: 'id', type: 'int32', description: 'Number of the run, in start order.', added: true },
  { name: 'host', type: 'text', description: 'Host recorded.', added: true },
  { name: 'started_at', type: 'timestamp', description: 'When the recorder started.', added: true },
  { name: 'last_write_at', type: 'timestamp', description: 'Its last write; null before the first.', nullable: true, added: true },
  { name: 'stopped_at', type: 'timestamp', description: 'When it stopped (at its last write after a crash); null while it runs.', nullable: true, added: true },
  { name: 'stop_reason', type: 'text', description: "'close', or 'crash' when the next run found it unfinished; null while it runs.", nullable: true, added: true },
  { name: 'keyframe_ms', type: 'int64', unit: 'ms', description: 'The keyframe interval it wrote metric tables with.', nullable: true, added: true },
];

/** The sample log's columns, in file order. */
const SAMPLE_COLUMNS: readonly SliceColumn[] = [
  { name: 'table_name', type: 'text', description: 'The metric table sampled.', added: true },
  { name: 'host', type: 'text', description: 'Host sampled.', added: true },
  { name: 'ts', type: 'timestamp', description: 'When the sample was taken, whether or not it stored a row.', added: true },
  { name: 'keyframe_ms', type: 'int64', unit: 'ms', description: 'The keyframe interval the writer had then.', added: true },
];

/** Columns that hold a value in every row, per part kind (the store's NOT NULL columns). */
const REQUIRED: Readonly<Record<SlicePart['kind'], ReadonlySet<string>>> = {
  metric: new Set([StoreColumn.HOST, StoreColumn.TS]),
  event: new Set([StoreColumn.HOST, StoreColumn.TS]),
  state: new Set([StoreColumn.HOST, StoreColumn.VALID_FROM]),
  sessions: new Set(['id', 'host', 'started_at']),
  samples: new Set(SAMPLE_COLUMNS.map((column) => column.name)),
};

/** How the rows of each kind of part relate to time, for someone reading the files elsewhere. */
const SEMANTICS: Readonly<Record<SlicePart['kind'], string>> = {
  metric:
    'Stored by change. An entity is the host and the key columns (one per host when there is no key). A row holds ' +
    "the entity's values from its ts until the entity's next row: it is stored when the entity appears or changes, and " +
    'at least every keyframe_ms (vw_meta.samples) while it does not. A row with _gone = true is a tombstone: the entity ' +
    'disappeared at that ts, and its other columns are null. The values at a sample instant s (each instant of ' +
    "vw_meta.samples for this table and host) are every entity's latest row with ts in [s - keyframe_ms, s] and after " +
    "the host's last stop before s (vw_meta.sessions), unless that row is a tombstone. Rows reach back to `since` so " +
    'that the samples of the instants from `from` on find theirs.',
  state:
    'Versions. A row is one version of an entity (the host and the key columns), valid from valid_from (inclusive) to ' +
    'valid_to (exclusive); valid_to is null while the version was still valid when the slice was taken. Holds every ' +
    'version valid at some time in [from, to].',
  event: 'Append-only: one row per occurrence, at ts. Holds those from `since` (from less the staleness window) to `to`.',
  samples:
    'The sample log: one row per metric batch (table_name, host, ts), whether it stored rows or not, with the ' +
    "writer's keyframe interval then. An instant T sees, per host, its latest sample in (T - staleness, T], unless the " +
    "host's recorder stopped in between.",
  sessions:
    'The runs of the recorder, per host. A sample, an event or a metric row from before a stop does not count at ' +
    'instants after it; the state versions of a run end at its stop.',
};

/** The store-added columns of a recorded table of `kind`, before the declared ones (`_gone` follows them). */
function addedColumns(kind: MetaTable['kind']): SliceColumn[] {
  const host: SliceColumn = { name: StoreColumn.HOST, type: 'text', description: 'Host the row was recorded on.', added: true };
  if (kind === 'state') {
    return [
      host,
      { name: StoreColumn.VALID_FROM, type: 'timestamp', description: 'When this version was first observed (inclusive).', added: true },
      { name: StoreColumn.VALID_TO, type: 'timestamp', description: 'When it stopped being valid (exclusive); null while it still was.', nullable: true, added: true },
    ];
  }
  const ts = kind === 'metric' ? 'When the values were stored; they hold until the entity\'s next row.' : 'When the event was observed.';
  return [host, { name: StoreColumn.TS, type: 'timestamp', description: ts, added: true }];
}

/** The tombstone column of a metric part. */
const GONE_COLUMN: SliceColumn = { name: MetricColumn.GONE, type: 'bool', description: 'True on a tombstone: the entity disappeared at ts; null otherwise.', nullable: true, added: true };

/** The earliest instant the rows of `kind` reach back to, for `scope`: what an as-of read at `from` needs, never before year 1. */
function sinceOf(kind: SlicePart['kind'], scope: SliceScope): number {
  const back = (ms: number): number => Math.max(MIN_TIME_MS, scope.from - ms);
  switch (kind) {
    case 'state':
      return scope.from;
    case 'event':
      return back(scope.stalenessMs);
    case 'samples':
      // samples() answers the sample before the current one too: it lies within two staleness windows.
      return back(2 * scope.stalenessMs);
    case 'metric':
    case 'sessions':
      // A sample's entity rows lie up to its keyframe interval before it; a stop in that span still counts.
      return back(2 * scope.stalenessMs + scope.keyframeMs);
  }
}

/** The parts of a slice over `scope`: the sessions, the sample log if a metric table is held, then the tables. */
function partsOf(scope: SliceScope, meta: ReadonlyMap<string, MetaTable>, physical: ReadonlyMap<string, readonly PhysicalColumn[]>): SlicePart[] {
  const tables = scope.tables.map((name) => meta.get(name)).filter((table): table is MetaTable => table !== undefined && physical.has(table.name));
  const parts: SlicePart[] = [logPart('sessions', scope)];
  if (tables.some((table) => table.kind === 'metric')) parts.push(logPart('samples', scope));
  for (const table of tables) {
    const stored = new Set((physical.get(table.name) ?? []).map((column) => column.name));
    const declared: SliceColumn[] = table.columns
      .filter((column) => stored.has(column.name))
      .map((column) => ({
        name: column.name,
        type: column.type,
        ...(column.unit === undefined ? {} : { unit: column.unit }),
        description: column.description,
        ...(column.nullable === true ? { nullable: true } : {}),
        ...(column.counter === true ? { counter: true } : {}),
      }));
    const gone = table.kind === 'metric' && stored.has(MetricColumn.GONE) ? [GONE_COLUMN] : [];
    parts.push({
      name: table.name,
      kind: table.kind,
      description: table.description,
      semantics: SEMANTICS[table.kind],
      key: table.key,
      columns: [...addedColumns(table.kind), ...declared, ...gone],
      timeColumn: table.kind === 'state' ? StoreColumn.VALID_FROM : StoreColumn.TS,
      since: sinceOf(table.kind, scope),
    });
  }
  return parts;
}

function logPart(kind: 'samples' | 'sessions', scope: SliceScope): SlicePart {
  const sessions = kind === 'sessions';
  return {
    name: sessions ? SlicePartName.SESSIONS : SlicePartName.SAMPLES,
    kind,
    description: sessions ? 'One run of the recorder on one host.' : 'One sample of a metric table on one host.',
    semantics: SEMANTICS[kind],
    key: [],
    columns: sessions ? SESSION_COLUMNS : SAMPLE_COLUMNS,
    timeColumn: sessions ? 'started_at' : StoreColumn.TS,
    since: sinceOf(kind, scope),
  };
}

/** Plans a slice on `connection` (which the caller releases afterwards). Never rejects. */
export async function runSlicePlan(connection: DuckDBConnection, request: SlicePlanRequest, context: QueryContext): Promise<Result<SlicePlan>> {
  const op = 'slice plan';
  const checked = checkRange(request.from, request.to, { stalenessMs: request.stalenessMs, timeoutMs: request.timeoutMs }, context, op);
  if (!checked.ok) return checked;
  const names = request.tables;
  if (names !== undefined && !(Array.isArray(names) && names.every((name) => typeof name === 'string'))) return refuse('tables must be a list of table names', context, op);
  return withTimeLimit(connection, checked.value.timeoutMs, op, context, async () => {
    // The recording ends now, or at its last write if the clock is behind it: nothing later is in a slice.
    const end = Math.max(context.clock.now(), await lastWrite(connection));
    if (request.from > end + FUTURE_SKEW_MS) return refuse('from is in the future; the recording ends now', context, op);
    const meta = await readMetaTables(connection);
    const physical = await readPhysicalColumns(connection);
    const held = [...meta.values()].filter((table) => physical.has(table.name)).map((table) => table.name);
    const unknown = names?.find((name) => !held.includes(name));
    if (unknown !== undefined) return refuse(`table '${unknown}' is not a recorded table`, context, op);
    const scope: SliceScope = {
      from: request.from,
      to: Math.max(request.from, Math.min(request.to, end)),
      stalenessMs: checked.value.stalenessMs,
      keyframeMs: await readKeyframeBound(connection),
      tables: names === undefined ? held : held.filter((name) => names.includes(name)),
    };
    return { ok: true, value: { scope, parts: partsOf(scope, meta, physical) } };
  });
}

/** The latest write of any session, epoch milliseconds (0 when nothing was written). */
async function lastWrite(connection: DuckDBConnection): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT epoch_ms(max(last_write_at)) FROM ${META_SCHEMA}.sessions`);
  const value = reader.getRowsJS()[0]?.[0];
  return value === null || value === undefined ? 0 : Number(value);
}

/** Reads one page of a slice part on `connection` (which the caller releases afterwards). Never rejects. */
export async function runSlice(connection: DuckDBConnection, request: SliceRequest, context: QueryContext): Promise<Result<SlicePage>> {
  const op = 'slice';
  const scope = checkScope(request.scope, context, op);
  if (!scope.ok) return scope;
  const limits = checkRange(scope.value.from, scope.value.to, { timeoutMs: request.timeoutMs, maxRows: request.maxRows }, context, op);
  if (!limits.ok) return limits;
  const cursor = parseCursor(request.cursor);
  if (cursor === undefined) return refuse('cursor is not one this store gave', context, op);
  const started = context.clock.monotonic();
  return withTimeLimit(connection, limits.value.timeoutMs, op, context, async () => {
    const meta = await readMetaTables(connection);
    const physical = await readPhysicalColumns(connection);
    const unknown = scope.value.tables.find((name) => !meta.has(name) || !physical.has(name));
    if (unknown !== undefined) return refuse(`table '${unknown}' is not a recorded table`, context, op);
    const part = partsOf(scope.value, meta, physical).find((candidate) => candidate.name === request.part);
    if (part === undefined) return refuse(`'${String(request.part)}' is not a part of this slice`, context, op);
    const result = await connection.stream(pageSql(part, scope.value, cursor, limits.value.maxRows));
    const columns = result.columnNames().map((name, index) => ({ name, type: result.columnType(index).toString() }));
    const timeIndex = part.columns.findIndex((column) => column.name === part.timeColumn);
    const rows: Cell[][] = [];
    let bytes = 0;
    let cut = false;
    let last: { micros: bigint; count: number } | undefined;
    read: for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      try {
        const vectors = Array.from({ length: chunk.columnCount }, (_, index) => chunk.getColumnVector(index));
        for (let index = 0; index < chunk.rowCount; index += 1) {
          // Past the byte budget the page ends early; a row is never split, and the first always fits.
          if (rows.length > 0 && bytes >= context.config.maxResultBytes) {
            cut = true;
            break read;
          }
          const row = vectors.map((vector) => vector.getItem(index));
          const time = row[timeIndex];
          const micros = time instanceof DuckDBTimestampTZValue ? time.micros : 0n;
          last = last !== undefined && last.micros === micros ? { micros, count: last.count + 1 } : { micros, count: 1 };
          const cells = row.map(sliceCell);
          for (const cell of cells) bytes += cellBytes(cell);
          rows.push(cells);
        }
      } finally {
        chunk.reset();
      }
    }
    const more = cut || rows.length === limits.value.maxRows;
    const next = more && last !== undefined ? formatCursor(last.micros, last.count + (last.micros === cursor.micros ? cursor.skip : 0)) : undefined;
    const page: SlicePage = { columns, rows, ...(next === undefined ? {} : { next }), elapsedMs: context.clock.monotonic() - started };
    return { ok: true, value: page };
  });
}

/**
 * The SELECT of one page: the part's rows in the scope, ordered by time and then by every
 * column (a total order up to rows equal in every column, which are interchangeable), from the
 * cursor on: rows at its time past the `skip` already sent, and every later one.
 */
function pageSql(part: SlicePart, scope: SliceScope, cursor: Cursor, maxRows: number): string {
  const time = quoteIdent(part.timeColumn);
  const columns = part.columns.map((column) => quoteIdent(column.name));
  const at = (ms: number): string => microsLiteral(microsOf(ms));
  const to = at(scope.to);
  const conditions: string[] = [];
  switch (part.kind) {
    case 'sessions':
      conditions.push(`started_at <= ${to}`, `(stopped_at IS NULL OR stopped_at >= ${at(part.since)})`);
      break;
    case 'samples': {
      // The log holds metric tables only; naming the scope's other tables too selects nothing more.
      const names = scope.tables.map(quoteText);
      conditions.push(names.length === 0 ? 'false' : `table_name IN (${names.join(', ')})`, `ts >= ${at(part.since)}`, `ts <= ${to}`);
      break;
    }
    case 'state':
      conditions.push(`valid_from <= ${to}`, `(valid_to IS NULL OR valid_to > ${at(scope.from)})`);
      break;
    case 'metric':
    case 'event':
      conditions.push(`ts >= ${at(part.since)}`, `ts <= ${to}`);
      break;
  }
  if (cursor.micros !== undefined) conditions.push(`${time} >= ${microsLiteral(cursor.micros)}`);
  const source = part.kind === 'sessions' || part.kind === 'samples' ? part.name : historyTable(part.name);
  return (
    `SELECT ${columns.join(', ')} FROM ${source} WHERE ${conditions.join(' AND ')} ` +
    `ORDER BY ${[time, ...columns].join(', ')} LIMIT ${maxRows} OFFSET ${cursor.micros === undefined ? 0 : cursor.skip}`
  );
}

/** Where a page starts: after `skip` rows at the time `micros` (nothing sent yet when it is undefined). */
interface Cursor {
  readonly micros: bigint | undefined;
  readonly skip: number;
}

const CURSOR = /^(-?\d{1,20}):(\d{1,15})$/;

function parseCursor(text: unknown): Cursor | undefined {
  if (text === undefined) return { micros: undefined, skip: 0 };
  const match = typeof text === 'string' ? CURSOR.exec(text) : null;
  if (match === null) return undefined;
  return { micros: BigInt(match[1]!), skip: Number(match[2]) };
}

function formatCursor(micros: bigint, skip: number): string {
  return `${micros.toString()}:${skip}`;
}

function microsLiteral(micros: bigint): string {
  return `make_timestamptz(${micros.toString()}::BIGINT)`;
}

/** Checks `from`/`to` as two instants in order, with the request's limits; the caps that apply. */
function checkRange(
  from: number,
  to: number,
  limits: { readonly stalenessMs?: number; readonly timeoutMs?: number; readonly maxRows?: number },
  context: QueryContext,
  op: string,
): Result<{ stalenessMs: number; timeoutMs: number; maxRows: number }> {
  const start = checkInstant({ at: from, ...limits }, context, op);
  if (!start.ok) return { ok: false, status: { ...start.status, message: start.status.message.replace(/^at /, 'from ') } };
  const end = checkInstant({ at: to }, context, op);
  if (!end.ok) return { ok: false, status: { ...end.status, message: end.status.message.replace(/^at /, 'to ') } };
  if (from > to) return refuse('from is after to', context, op);
  return { ok: true, value: { stalenessMs: start.value.stalenessMs, timeoutMs: start.value.timeoutMs, maxRows: start.value.maxRows } };
}

/** A page request's scope, checked: it must be one a plan of this store could have given. */
function checkScope(scope: SliceScope | undefined, context: QueryContext, op: string): Result<SliceScope> {
  if (typeof scope !== 'object' || scope === null) return refuse('scope is missing', context, op);
  const whole = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0;
  if (!whole(scope.stalenessMs) || !whole(scope.keyframeMs)) return refuse('scope.stalenessMs and scope.keyframeMs must be integers >= 0', context, op);
  if (!Array.isArray(scope.tables) || !scope.tables.every((name) => typeof name === 'string')) return refuse('scope.tables must be a list of table names', context, op);
  return { ok: true, value: scope };
}

function refuse<T>(message: string, context: Pick<QueryContext, 'source'>, op: string): Result<T> {
  return { ok: false, status: fail(StatusCode.INVALID_ARGUMENT, message, { source: context.source, op }) };
}

/** A value of a slice page: as the reader's cells, but times with their microseconds (`2026-01-01T00:00:00.000001Z`). */
export function sliceCell(value: DuckDBValue): Cell {
  if (value instanceof DuckDBTimestampTZValue && value.isFinite) return isoMicros(value.micros);
  return toCell(value);
}

/** Epoch microseconds as ISO-8601 UTC with six fractional digits. */
export function isoMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  const text = new Date(Number(ms)).toISOString();
  return `${text.slice(0, -1)}${rest.toString().padStart(3, '0')}Z`;
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** Epoch microseconds of an ISO-8601 UTC time (`…T05:00:00.123456Z`, years 0001-9999), or undefined. */
export function parseIsoMicros(text: string): bigint | undefined {
  const match = ISO_UTC.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Date rolls 31 February over into March: the parts must come back as they were given.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return undefined;
  }
  const ms = date.getTime();
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) return undefined;
  return BigInt(ms) * 1000n + BigInt((match[7] ?? '').padEnd(6, '0'));
}

/** Appends one cell of a column to an appender, or says why the cell is not of the column's type. */
type CellAppender = (appender: DuckDBAppender, cell: Cell) => string | undefined;

const INTEGER_TEXT = /^-?\d{1,19}$/;
const FLOAT_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const VARCHAR_LIST = LIST(VARCHAR);

/** The appender step of a column of `type`: a JSON cell, or its text as CSV holds it. */
function cellAppender(type: ColumnType): CellAppender {
  const integer = (cell: Cell, min: bigint, max: bigint): bigint | undefined => {
    const value = typeof cell === 'number' && Number.isSafeInteger(cell) ? BigInt(cell) : typeof cell === 'string' && INTEGER_TEXT.test(cell) ? BigInt(cell) : undefined;
    return value !== undefined && value >= min && value <= max ? value : undefined;
  };
  switch (type) {
    case 'int32':
      return (appender, cell) => {
        const value = integer(cell, -(2n ** 31n), 2n ** 31n - 1n);
        if (value === undefined) return 'a 32-bit integer';
        appender.appendInteger(Number(value));
        return undefined;
      };
    case 'int64':
      return (appender, cell) => {
        const value = integer(cell, INT64_MIN, INT64_MAX);
        if (value === undefined) return 'a 64-bit integer';
        appender.appendBigInt(value);
        return undefined;
      };
    case 'float64':
      return (appender, cell) => {
        const value = typeof cell === 'number' ? cell : typeof cell === 'string' ? (NON_FINITE[cell] ?? (FLOAT_TEXT.test(cell) ? Number(cell) : undefined)) : undefined;
        if (value === undefined) return 'a number';
        appender.appendDouble(value);
        return undefined;
      };
    case 'bool':
      return (appender, cell) => {
        const value = cell === true || cell === 'true' ? true : cell === false || cell === 'false' ? false : undefined;
        if (value === undefined) return 'true or false';
        appender.appendBoolean(value);
        return undefined;
      };
    case 'timestamp':
      return (appender, cell) => {
        const micros = typeof cell === 'string' ? parseIsoMicros(cell) : undefined;
        if (micros === undefined) return 'an ISO-8601 UTC time such as 2026-01-01T00:00:00.000000Z';
        appender.appendTimestampTZ(new DuckDBTimestampTZValue(micros));
        return undefined;
      };
    case 'text':
      return (appender, cell) => {
        if (typeof cell !== 'string') return 'text';
        appender.appendVarchar(cell);
        return undefined;
      };
    case 'text[]':
      return (appender, cell) => {
        const list = typeof cell === 'string' ? parseList(cell) : cell;
        if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) return 'a list of strings (a JSON array)';
        appender.appendList(list as string[], VARCHAR_LIST);
        return undefined;
      };
  }
}

function parseList(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Appends rows of cells to tables of one connection, by physical column, naming the first cell that does not fit. */
interface RowPlan {
  /** The table appended to, in its schema. */
  readonly table: string;
  readonly schema: string;
  /** Per physical column: the index of its cell in a row, its appender, and whether it needs a value. */
  readonly steps: readonly { readonly name: string; readonly index: number; readonly append: CellAppender; readonly required: boolean; readonly type: ColumnType }[];
  /** Cells per row. */
  readonly width: number;
}

/**
 * Appends `rows` through one appender; INVALID_ARGUMENT naming the row (counted from `first`),
 * the column and what it should hold when a cell does not fit, with nothing of the call kept.
 */
async function appendCells(connection: DuckDBConnection, plan: RowPlan, rows: readonly (readonly Cell[])[], first: number, label: string, source: string): Promise<Status> {
  const appender = await fromPromise(connection.createAppender(plan.table, plan.schema), (error) => classifyDuckDbError(error, 'load slice', source));
  if (!appender.ok) return appender.status;
  const bad = (message: string): Status => {
    safely(() => appender.value.clear());
    safely(() => appender.value.closeSync());
    return fail(StatusCode.INVALID_ARGUMENT, message, { source, op: 'load slice' });
  };
  for (const [offset, row] of rows.entries()) {
    const where = `${label}: row ${first + offset}`;
    if (!Array.isArray(row) || row.length !== plan.width) return bad(`${where}: has ${Array.isArray(row) ? row.length : 0} values, expected ${plan.width}`);
    for (const step of plan.steps) {
      const cell = row[step.index] ?? null;
      if (cell === null) {
        if (step.required) return bad(`${where}: ${step.name} is empty; it needs ${step.type === 'timestamp' ? 'a time' : 'a value'}`);
        appender.value.appendNull();
        continue;
      }
      let problem: string | undefined;
      try {
        problem = step.append(appender.value, cell);
      } catch (error) {
        problem = classifyDuckDbError(error, 'load slice', source).message;
      }
      if (problem !== undefined) return bad(`${where}: ${step.name} should be ${problem}, got ${preview(cell)}`);
    }
    appender.value.endRow();
  }
  try {
    appender.value.closeSync();
  } catch (error) {
    safely(() => appender.value.clear());
    return classifyDuckDbError(error, 'load slice', source);
  }
  return OK;
}

/** A short, JSON-quoted view of a refused cell. */
function preview(cell: Cell): string {
  const text = JSON.stringify(cell) ?? String(cell);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The appender plan of `columns` (the slice's order) into `physical` (the table's), or why they do not match. */
function rowPlan(table: string, schema: string, part: SlicePart, physical: readonly PhysicalColumn[], source: string): Result<RowPlan> {
  const refused = (message: string): Result<RowPlan> => ({ ok: false, status: fail(StatusCode.INVALID_ARGUMENT, `${part.name}: ${message}`, { source, op: 'load slice' }) });
  const given = new Map(part.columns.map((column, index) => [column.name, { column, index }]));
  if (given.size !== part.columns.length) return refused('a column is named twice');
  const required = REQUIRED[part.kind];
  const steps: RowPlan['steps'][number][] = [];
  for (const target of physical) {
    const match = given.get(target.name);
    if (match === undefined) return refused(`column ${target.name} is missing`);
    if (duckDbTypeOf(match.column.type) !== target.type) return refused(`column ${target.name} is ${match.column.type}, the store holds ${target.type}`);
    steps.push({ name: target.name, index: match.index, append: cellAppender(match.column.type), required: required.has(target.name), type: match.column.type });
  }
  const extra = part.columns.find((column) => !physical.some((target) => target.name === column.name));
  if (extra !== undefined) return refused(`column ${extra.name} is not one of the table's`);
  return { ok: true, value: { table, schema, steps, width: part.columns.length } };
}

/** Name of the sessions log in {@link META_SCHEMA}. */
const SESSIONS_NAME = 'sessions';

/** Host of the run prepareStore records while a slice is loaded; that row is deleted at once. */
const LOADING_HOST = 'slice-import';

/** The physical columns, in file order, of the history tables and of the two logs a slice loads. */
async function readLayoutColumns(connection: DuckDBConnection): Promise<{ history: Map<string, PhysicalColumn[]>; logs: Map<string, PhysicalColumn[]> }> {
  const history = await readPhysicalColumns(connection);
  const reader = await connection.runAndReadAll(
    `SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = '${META_SCHEMA}' ` +
      `AND table_name IN ('${SESSIONS_NAME}', '${SAMPLES_NAME}') ORDER BY table_name, column_index`,
  );
  const logs = new Map<string, PhysicalColumn[]>();
  for (const [table, name, type] of reader.getRowsJS()) logs.set(String(table), [...(logs.get(String(table)) ?? []), { name: String(name), type: String(type) }]);
  return { history, logs };
}

/** The table schema a recorded part declares: its non-added columns. */
function schemaOf(part: SlicePart): TableSchema {
  return {
    name: part.name,
    kind: part.kind as TableSchema['kind'],
    description: part.description,
    key: part.key,
    columns: part.columns
      .filter((column) => column.added !== true)
      .map((column) => ({
        name: column.name,
        type: column.type,
        description: column.description,
        ...(column.unit === undefined ? {} : { unit: column.unit }),
        ...(column.nullable === true ? { nullable: true } : {}),
        ...(column.counter === true ? { counter: true as const } : {}),
      })),
  };
}

/**
 * A writer of one Parquet file: rows go into a temporary DuckDB file beside it (so a big part
 * spills to disk rather than memory) and are copied out at finish. The instance may write
 * `path` and nothing else. Never rejects.
 */
export async function createParquetWriter(path: string, columns: readonly SliceColumn[]): Promise<Result<SliceFileWriter>> {
  const source = 'duckdb';
  const op = `write ${basename(path)}`;
  const exists = await lstat(path).then(
    () => true,
    () => false,
  );
  if (exists) return { ok: false, status: fail(StatusCode.INVALID_ARGUMENT, `${path} exists already`, { source, op }) };
  const scratch = join(dirname(path), `.${basename(path)}.tmp.db`);
  const removeScratch = async (): Promise<void> => {
    await rm(scratch, { force: true });
    await rm(`${scratch}.wal`, { force: true });
    await rm(`${scratch}.tmp`, { recursive: true, force: true });
  };
  await removeScratch();
  const opened = await fromPromise(
    async () => {
      const instance = await DuckDBInstance.create(scratch, { temp_directory: `${scratch}.tmp`, memory_limit: '256MB', threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
      const connection = await instance.connect();
      for (const statement of [`SET allowed_paths = [${quoteText(path)}]`, 'SET enable_external_access = false', 'SET lock_configuration = true']) await connection.run(statement);
      const definition = columns.map((column) => `${quoteIdent(column.name)} ${duckDbTypeOf(column.type)}`).join(', ');
      await connection.run(`CREATE TABLE slice (${definition})`);
      return { instance, connection };
    },
    (error) => classifyDuckDbError(error, op, source),
  );
  if (!opened.ok) {
    await removeScratch();
    return opened;
  }
  const { instance, connection } = opened.value;
  const part: SlicePart = { name: basename(path), kind: 'event', description: '', semantics: '', key: [], columns, timeColumn: '', since: 0 };
  const plan: RowPlan = {
    table: 'slice',
    schema: 'main',
    steps: columns.map((column, index) => ({ name: column.name, index, append: cellAppender(column.type), required: false, type: column.type })),
    width: columns.length,
  };
  let rows = 0;
  let done = false;
  const release = async (): Promise<void> => {
    if (done) return;
    done = true;
    safely(() => connection.disconnectSync());
    safely(() => instance.closeSync());
    await removeScratch();
  };
  return {
    ok: true,
    value: {
      async append(page) {
        if (done) return fail(StatusCode.UNAVAILABLE, 'the writer is closed', { source, op, retryable: false });
        const appended = await appendCells(connection, plan, page, rows + 1, part.name, source);
        if (appended.code === StatusCode.OK) rows += page.length;
        return appended;
      },
      async finish() {
        if (done) return { ok: false, status: fail(StatusCode.UNAVAILABLE, 'the writer is closed', { source, op, retryable: false }) };
        const copied = await fromPromise(connection.run(`COPY slice TO ${quoteText(path)} (FORMAT parquet, COMPRESSION zstd)`), (error) => classifyDuckDbError(error, op, source));
        await release();
        if (!copied.ok) {
          await rm(path, { force: true });
          return copied;
        }
        const mode = await fromPromise(chmod(path, FILE_MODE), (error) => classifyErrno(error, `chmod ${path}`, source));
        return mode.ok ? { ok: true, value: rows } : mode;
      },
      async abort() {
        await release();
        await rm(path, { force: true });
      },
    },
  };
}

/** Reads a Parquet file's rows chunk by chunk as slice cells, in an instance that may read that file and nothing else. */
async function readParquet(file: string, part: SlicePart, each: (rows: Cell[][]) => Promise<Status>, source: string): Promise<Result<number>> {
  const op = `read ${basename(file)}`;
  const opened = await fromPromise(
    async () => {
      const instance = await DuckDBInstance.create(':memory:', { memory_limit: '256MB', threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
      const connection = await instance.connect();
      for (const statement of [`SET allowed_paths = [${quoteText(file)}]`, 'SET enable_external_access = false', 'SET lock_configuration = true']) await connection.run(statement);
      return { instance, connection };
    },
    (error) => classifyDuckDbError(error, op, source),
  );
  if (!opened.ok) return opened;
  const { instance, connection } = opened.value;
  try {
    return await fromPromise(
      async (): Promise<Result<number>> => {
        const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoteText(file)})`);
        const found = described.getRowsJS().map(([name, type]) => `${String(name)} ${String(type)}`);
        const wanted = part.columns.map((column) => `${column.name} ${duckDbTypeOf(column.type)}`);
        if (found.join(', ') !== wanted.join(', ')) {
          return { ok: false, status: fail(StatusCode.INVALID_ARGUMENT, `${basename(file)} holds columns (${found.join(', ')}), the manifest says (${wanted.join(', ')})`, { source, op }) };
        }
        const result = await connection.stream(`SELECT * FROM read_parquet(${quoteText(file)})`);
        let count = 0;
        for (;;) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) return { ok: true, value: count };
          const rows: Cell[][] = [];
          try {
            const vectors = Array.from({ length: chunk.columnCount }, (_, index) => chunk.getColumnVector(index));
            for (let index = 0; index < chunk.rowCount; index += 1) rows.push(vectors.map((vector) => sliceCell(vector.getItem(index))));
          } finally {
            chunk.reset();
          }
          const appended = await each(rows);
          if (appended.code !== StatusCode.OK) return { ok: false, status: appended };
          count += rows.length;
        }
      },
      (error) => classifyDuckDbError(error, op, source),
    ).then((outcome) => (outcome.ok ? outcome.value : outcome));
  } finally {
    safely(() => connection.disconnectSync());
    safely(() => instance.closeSync());
  }
}

/**
 * Creates the store `rawConfig` names in `deps.dataDir` for a slice and returns its loader. The
 * layout is the writer's (prepareStore, with the slice's keyframe interval); the run
 * prepareStore records is replaced by the slice's sessions. Refused when a store with data is
 * there already; nothing outside the store's file and directory is written. Never rejects.
 */
export async function createSliceLoader(rawConfig: unknown, deps: ReaderDeps, plan: SlicePlan): Promise<Result<SliceLoader>> {
  const source = 'duckdb';
  const op = 'load slice';
  const parsed = parseConfig(rawConfig);
  if (!parsed.ok) return parsed;
  const config: DuckDbConfig = parsed.value;
  const path = storePath(config, deps.dataDir);
  const refused = (message: string): Result<SliceLoader> => ({ ok: false, status: fail(StatusCode.INVALID_ARGUMENT, message, { source, op }) });

  const tables = plan.parts.filter((part) => part.kind === 'metric' || part.kind === 'state' || part.kind === 'event');
  for (const part of plan.parts) {
    const expected = part.kind === 'sessions' ? SlicePartName.SESSIONS : part.kind === 'samples' ? SlicePartName.SAMPLES : undefined;
    if (expected !== undefined && part.name !== expected) return refused(`a ${part.kind} part must be named ${expected}, not '${part.name}'`);
  }
  const existing = await occupied(path);
  if (!existing.ok) return existing;
  if (existing.value) return refused(`${path} already holds a store; import into a new or empty --data-dir`);
  const made = await fromPromise(mkdir(dirname(path), { recursive: true, mode: DIRECTORY_MODE }), (error) => classifyErrno(error, `create ${dirname(path)}`, source));
  if (!made.ok) return made;

  const instance = await openInstance(path, config, AccessMode.READ_WRITE, source);
  if (!instance.ok) return instance;
  const connection = await fromPromise(instance.value.connect(), (error) => classifyDuckDbError(error, 'connect', source));
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (connection.ok) safely(() => connection.value.disconnectSync());
    safely(() => instance.value.closeSync());
  };
  const remove = async (): Promise<void> => {
    close();
    for (const file of [path, `${path}.wal`]) await rm(file, { force: true });
    await rm(`${path}.tmp`, { recursive: true, force: true });
  };
  if (!connection.ok) {
    await remove();
    return connection;
  }
  const prepared = await prepareStore(connection.value, tables.map(schemaOf), LOADING_HOST, deps.clock.now(), source, plan.scope.keyframeMs);
  const unusable = prepared.ok ? [...prepared.value.unusable.values()][0] : prepared.status;
  if (unusable !== undefined || !prepared.ok) {
    await remove();
    return { ok: false, status: unusable ?? fail(StatusCode.INTERNAL, 'the store could not be prepared', { source, op }) };
  }
  // The run prepareStore records is this loading, not a recording: the slice's own runs replace it.
  const cleared = await fromPromise(connection.value.run(`DELETE FROM ${META_SCHEMA}.sessions WHERE id = ${prepared.value.sessionId}`), (error) => classifyDuckDbError(error, op, source));
  const physical = cleared.ok ? await fromPromise(readLayoutColumns(connection.value), (error) => classifyDuckDbError(error, op, source)) : cleared;
  if (!physical.ok) {
    await remove();
    return physical;
  }
  const plans = new Map<string, RowPlan>();
  for (const part of plan.parts) {
    const log = part.kind === 'sessions' ? SESSIONS_NAME : part.kind === 'samples' ? SAMPLES_NAME : undefined;
    const built =
      log === undefined
        ? // A staged metric table (prepareStore made every new one so) is loaded straight into its raw table.
          rowPlan(part.name, prepared.value.layouts.get(part.name)?.staged === true ? RAW_SCHEMA : HISTORY_SCHEMA, part, physical.value.history.get(part.name) ?? [], source)
        : rowPlan(log, META_SCHEMA, part, physical.value.logs.get(log) ?? [], source);
    if (!built.ok) {
      await remove();
      return built;
    }
    plans.set(part.name, built.value);
  }
  const loaded = new Map<string, number>();
  const partOf = (name: string): SlicePart | undefined => plan.parts.find((part) => part.name === name);
  const append = async (name: string, rows: readonly (readonly Cell[])[]): Promise<Status> => {
    const rowsPlan = plans.get(name);
    if (closed || rowsPlan === undefined) return fail(StatusCode.INVALID_ARGUMENT, closed ? 'the loader is closed' : `'${name}' is not a part of the slice`, { source, op });
    const first = (loaded.get(name) ?? 0) + 1;
    const status = await appendCells(connection.value, rowsPlan, rows, first, name, source);
    if (status.code === StatusCode.OK) loaded.set(name, first - 1 + rows.length);
    return status;
  };
  deps.logger.debug('Loading a slice', { path, parts: plan.parts.length });
  return {
    ok: true,
    value: {
      path,
      append,
      async appendParquet(name, file) {
        const part = partOf(name);
        if (part === undefined) return { ok: false, status: fail(StatusCode.INVALID_ARGUMENT, `'${name}' is not a part of the slice`, { source, op }) };
        return readParquet(file, part, (rows) => append(name, rows), source);
      },
      async finish() {
        if (closed) return { ok: false, status: fail(StatusCode.UNAVAILABLE, 'the loader is closed', { source, op, retryable: false }) };
        const checkpoint = await fromPromise(connection.value.run('CHECKPOINT'), (error) => classifyDuckDbError(error, op, source));
        close();
        if (!checkpoint.ok) return checkpoint;
        for (const file of [path, `${path}.wal`]) {
          const mode = await fromPromise(chmod(file, FILE_MODE), (error) => classifyErrno(error, `chmod ${file}`, source));
          if (!mode.ok && errnoOf(mode.status.cause) !== 'ENOENT') return mode;
        }
        return { ok: true, value: path };
      },
      abort: remove,
    },
  };
}

/** True when `path` holds something: a non-empty file (or its WAL), or anything that is not a file. */
async function occupied(path: string): Promise<Result<boolean>> {
  for (const file of [path, `${path}.wal`]) {
    const found = await fromPromise(stat(file), (error) => classifyErrno(error, `stat ${file}`, 'duckdb'));
    if (!found.ok) {
      if (errnoOf(found.status.cause) === 'ENOENT') continue;
      return found;
    }
    if (!found.value.isFile() || found.value.size > 0) return { ok: true, value: true };
  }
  // An empty file is no store: DuckDB would refuse to open it, so it goes.
  await rm(path, { force: true });
  return { ok: true, value: false };
}
