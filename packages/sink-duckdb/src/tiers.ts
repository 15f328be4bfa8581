/**
 * Downsampled tiers of metric tables: one row per (host, entity, bucket) in
 * `vw_tiers.<table>_<seconds>s` with the samples the entity was present at, min/avg/max/last of
 * each numeric column and last/rate of each counter: the shape of a `stepMs` query, whose
 * definition (steps.ts's stepSql, over the raw change rows and the sample log) computes the first
 * tier; each coarser one rolls up from the tier before it. Also the read side: the view bodies that
 * answer a query over an instant or range whose raw rows retention already deleted
 * (docs/storage.md, "Retention and tiers"). Functions here may reject with DuckDB errors;
 * callers convert them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { entityColumns } from './asof.js';
import { readMetaTables, RETENTION_TABLE, selectRows, TIERS_SCHEMA, TIERS_TABLE, type MetaTable } from './layout.js';
import { MAX_TIME_MS } from './limits.js';
import { isCounter } from './rates.js';
import { duckDbTypeOf, DuckDbType, META_SCHEMA, microsOf, quoteIdent, StoreColumn, timeLiteral } from './sql.js';
import { SAMPLES_COLUMN, stepSql, StepSuffix, type SteppedTable } from './steps.js';

/** How a non-key column is kept in a tier. */
export const Aggregate = {
  /** Numbers: `c_min`, `c_avg`, `c_max` and `c` (the last value). */
  NUMERIC: 'numeric',
  /** Counters (`ColumnDef.counter`): `c` (last) and `c_rate`, the per-second rate over the bucket. */
  COUNTER: 'counter',
  /** Text, booleans, times, lists: `c`, the last value. */
  LAST: 'last',
} as const;

/** One of the {@link Aggregate} strings. */
export type Aggregate = (typeof Aggregate)[keyof typeof Aggregate];

/** A column of a metric table as its tiers keep it. */
export interface TierValue {
  /** Column name in the metric table. */
  readonly name: string;
  /** Its DuckDB type. */
  readonly type: string;
  /** What the tier keeps of it. */
  readonly aggregate: Aggregate;
}

/** What a metric table's tiers hold: its key columns and values, with their types. */
export interface TierShape {
  /** The metric table. */
  readonly table: string;
  /** Key columns, in key order. */
  readonly key: readonly { readonly name: string; readonly type: string }[];
  /** Non-key columns, in declared order. */
  readonly values: readonly TierValue[];
}

/** A physical column of a tier table. */
export interface TierPhysical {
  readonly name: string;
  readonly type: string;
}

/** Core column types whose columns get min, avg and max (as steps.ts decides). */
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['int32', 'int64', 'float64']);

/**
 * The tier shape of a metric table (its catalogue entry), or why it cannot have tiers: a tier
 * column name that two columns would share (`x_min` declared beside a numeric `x`, or a column
 * named `samples`). Columns are classified as stepSql classifies them.
 */
export function tierShape(table: SteppedTable): { ok: true; value: TierShape } | { ok: false; message: string } {
  const types = new Map(table.columns.map((column) => [column.name, duckDbTypeOf(column.type)]));
  const entity = entityColumns(table);
  const key = entity.slice(1).map((name) => ({ name, type: types.get(name) ?? DuckDbType.VARCHAR }));
  const values: TierValue[] = table.columns
    .filter((column) => !entity.includes(column.name))
    .map((column) => ({
      name: column.name,
      type: duckDbTypeOf(column.type),
      aggregate: isCounter(table, column) ? Aggregate.COUNTER : NUMERIC_TYPES.has(column.type) ? Aggregate.NUMERIC : Aggregate.LAST,
    }));
  const shape: TierShape = { table: table.name, key, values };
  const seen = new Set<string>();
  for (const column of tierColumns(shape)) {
    if (seen.has(column.name)) return { ok: false, message: `table '${table.name}' cannot have tiers: its tier column '${column.name}' would be named twice` };
    seen.add(column.name);
  }
  return { ok: true, value: shape };
}

/** The columns of a tier table of `shape`, in order: host, ts, key, samples, the values (stepSql's columns). */
export function tierColumns(shape: TierShape): TierPhysical[] {
  const columns: TierPhysical[] = [
    { name: StoreColumn.HOST, type: DuckDbType.VARCHAR },
    { name: StoreColumn.TS, type: DuckDbType.TIMESTAMPTZ },
    ...shape.key,
    { name: SAMPLES_COLUMN, type: DuckDbType.BIGINT },
  ];
  for (const value of shape.values) {
    if (value.aggregate === Aggregate.NUMERIC) {
      columns.push(
        { name: `${value.name}${StepSuffix.MIN}`, type: value.type },
        { name: `${value.name}${StepSuffix.AVG}`, type: DuckDbType.DOUBLE },
        { name: `${value.name}${StepSuffix.MAX}`, type: value.type },
        { name: value.name, type: value.type },
      );
    } else if (value.aggregate === Aggregate.COUNTER) {
      columns.push({ name: value.name, type: value.type }, { name: `${value.name}${StepSuffix.RATE}`, type: DuckDbType.DOUBLE });
    } else {
      columns.push({ name: value.name, type: value.type });
    }
  }
  return columns;
}

/** The tier table's name in {@link TIERS_SCHEMA}: `<table>_<seconds>s`. */
export function tierName(table: string, stepMs: number): string {
  return `${table}_${Math.round(stepMs / 1000)}s`;
}

/** `vw_tiers."<table>_<seconds>s"`. */
export function tierTable(table: string, stepMs: number): string {
  return `${TIERS_SCHEMA}.${quoteIdent(tierName(table, stepMs))}`;
}

/** Epoch milliseconds of the start of the bucket of `stepMs` holding `ms` (buckets are aligned to epoch multiples). */
export function bucketStart(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/** SQL: the bucket start, in epoch microseconds (BIGINT), of the epoch-microsecond expression `us`. */
function bucketUs(us: string, stepMs: number): string {
  const step = microsOf(stepMs).toString();
  return `(${us} - ((${us} % ${step}) + ${step}) % ${step})`;
}

/** What a rollup from the raw rows needs to know besides the table. */
export interface RawBounds {
  /** The staleness window: how far before a bucket's first sample the sample its rates start from may lie. */
  readonly stalenessMs: number;
  /** The longest keyframe interval any session wrote with: no sample needs an older row. */
  readonly keyframeMs: number;
}

/**
 * A SELECT of the first tier's rows of `table` at `stepMs` for the samples in [from, to): the
 * `stepMs` query's own definition (steps.ts), so a tier row is what `--step` answered from the
 * raw rows. `from` should be a bucket start; `to` may be any instant (a partial last bucket then
 * holds what was sampled).
 */
export function rawRollupSql(table: SteppedTable, stepMs: number, from: number, to: number, bounds: RawBounds): string {
  // stepSql's range is inclusive: one microsecond before `to`.
  return stepSql(table, { from, to: to - 0.001, stepMs, stalenessMs: bounds.stalenessMs, keyframeMs: bounds.keyframeMs });
}

/**
 * A SELECT of a coarser tier's rows of `shape` at `stepMs` from the rows of a finer tier (`source`,
 * a table or a parenthesized SELECT of its shape), for the fine buckets in [from, to): samples summed, min of mins, max of maxes, last of lasts,
 * averages and rates weighted by samples. A fine rate spans from the sample before its bucket to
 * its last sample, about `samples` sampling intervals, so at a steady sampling interval the
 * weighted rate is the coarse bucket's own; where the interval changed it is an approximation.
 */
export function tierRollupSql(shape: TierShape, stepMs: number, source: string, from: number, to: number): string {
  const key = shape.key.map((column) => quoteIdent(column.name));
  const samples = quoteIdent(SAMPLES_COLUMN);
  const selects = [`host`, `make_timestamptz(${bucketUs('epoch_us(ts)', stepMs)}) AS ts`, ...key, `sum(${samples})::BIGINT AS ${samples}`];
  for (const value of shape.values) {
    const column = quoteIdent(value.name);
    const last = `arg_max_null(${column}, ts) AS ${column}`;
    if (value.aggregate === Aggregate.NUMERIC) {
      const avg = quoteIdent(`${value.name}${StepSuffix.AVG}`);
      const weighted = `FILTER (WHERE ${avg} IS NOT NULL)`;
      selects.push(
        `min(${quoteIdent(`${value.name}${StepSuffix.MIN}`)}) AS ${quoteIdent(`${value.name}${StepSuffix.MIN}`)}`,
        `(sum(${avg} * ${samples}) ${weighted} / sum(${samples}) ${weighted})::DOUBLE AS ${avg}`,
        `max(${quoteIdent(`${value.name}${StepSuffix.MAX}`)}) AS ${quoteIdent(`${value.name}${StepSuffix.MAX}`)}`,
        last,
      );
    } else if (value.aggregate === Aggregate.COUNTER) {
      const rate = quoteIdent(`${value.name}${StepSuffix.RATE}`);
      const weighted = `FILTER (WHERE ${rate} IS NOT NULL)`;
      selects.push(last, `(sum(${rate} * ${samples}) ${weighted} / sum(${samples}) ${weighted})::DOUBLE AS ${rate}`);
    } else {
      selects.push(last);
    }
  }
  return (
    `SELECT ${selects.join(', ')} FROM ${source} AS _fine WHERE ts >= ${timeLiteral(from)} AND ts < ${timeLiteral(to)} ` +
    `GROUP BY ALL`
  );
}

/** The physical columns of every tier table, by tier table name. */
export async function readTierColumns(connection: DuckDBConnection): Promise<Map<string, TierPhysical[]>> {
  const rows = await selectRows(
    connection,
    `SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = '${TIERS_SCHEMA}' ORDER BY table_name, column_index`,
  );
  const tables = new Map<string, TierPhysical[]>();
  for (const [table, name, type] of rows) {
    const columns = tables.get(String(table)) ?? [];
    columns.push({ name: String(name), type: String(type) });
    tables.set(String(table), columns);
  }
  return tables;
}

/**
 * Statements creating the tier table of `shape` at `stepMs`, or widening it as the metric table
 * was (a new column is added, a changed type converted; nothing is dropped, so rows of earlier
 * declarations keep their columns). `existing` is its columns now, if it exists.
 */
export function tierTableStatements(shape: TierShape, stepMs: number, existing: readonly TierPhysical[] | undefined): string[] {
  const target = tierTable(shape.table, stepMs);
  const wanted = tierColumns(shape);
  if (existing === undefined) {
    const columns = wanted.map((column) => `${quoteIdent(column.name)} ${column.type}${column.name === StoreColumn.HOST || column.name === StoreColumn.TS ? ' NOT NULL' : ''}`);
    return [`CREATE TABLE ${target} (${columns.join(', ')})`];
  }
  const types = new Map(existing.map((column) => [column.name, column.type]));
  const statements: string[] = [];
  for (const column of wanted) {
    const have = types.get(column.name);
    if (have === undefined) statements.push(`ALTER TABLE ${target} ADD COLUMN ${quoteIdent(column.name)} ${column.type}`);
    else if (have !== column.type) statements.push(`ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(column.name)} SET DATA TYPE ${column.type}`);
  }
  return statements;
}

/** A tier as `vw_meta.tiers` records it. */
export interface TierState {
  /** The metric table. */
  readonly table: string;
  /** Bucket width. */
  readonly stepMs: number;
  /** How long its rows are kept (Infinity: forever), as last configured. */
  readonly keepMs: number;
  /** Buckets before it are rolled up (undefined: none yet). */
  readonly rolledTo: number | undefined;
  /** A batch older than `rolledTo` arrived: the buckets from this instant on are rolled up again. */
  readonly dirtyFrom: number | undefined;
  /** Its first bucket kept (retention deleted the older ones); undefined while it holds none. */
  readonly keptFrom: number | undefined;
}

/** True when `vw_meta.tiers` and `vw_meta.retention` exist (a store written before them has neither). */
export async function hasTierMeta(connection: DuckDBConnection): Promise<boolean> {
  const rows = await selectRows(
    connection,
    `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '${META_SCHEMA}' AND table_name IN ('tiers', 'retention')`,
  );
  return Number(rows[0]?.[0] ?? 0) === 2;
}

/** Every tier recorded in `vw_meta.tiers`, finest first per table. */
export async function readTierStates(connection: DuckDBConnection): Promise<TierState[]> {
  const rows = await selectRows(
    connection,
    `SELECT table_name, step_ms, keep_ms, epoch_ms(rolled_to), epoch_ms(dirty_from), epoch_ms(kept_from) FROM ${TIERS_TABLE} ORDER BY table_name, step_ms`,
  );
  const time = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));
  return rows.map(([table, step, keep, rolled, dirty, kept]) => ({
    table: String(table),
    stepMs: Number(step),
    keepMs: keep === null || keep === undefined ? Number.POSITIVE_INFINITY : Number(keep),
    rolledTo: time(rolled),
    dirtyFrom: time(dirty),
    keptFrom: time(kept),
  }));
}

/** Per table, the instant from which its raw rows answer exactly (`vw_meta.retention`); absent tables were never trimmed. */
export async function readRawFrom(connection: DuckDBConnection): Promise<Map<string, number>> {
  const rows = await selectRows(connection, `SELECT table_name, epoch_ms(max(raw_from)) FROM ${RETENTION_TABLE} GROUP BY table_name`);
  return new Map(rows.map(([table, from]) => [String(table), Number(from)]));
}

// ---------------------------------------------------------------------------------------------
// The read side: a query over time the raw rows no longer cover answers from the finest tier.

/** What a store holds of each metric table besides its retained raw rows. */
export interface TierCoverage {
  /** Per table, the instant from which its raw rows answer exactly. */
  readonly rawFrom: ReadonlyMap<string, number>;
  /** Per table, its tiers, finest first. */
  readonly tiers: ReadonlyMap<string, readonly TierState[]>;
}

/** The store's {@link TierCoverage}; empty for a store without tiers. */
export async function readCoverage(connection: DuckDBConnection): Promise<TierCoverage> {
  if (!(await hasTierMeta(connection))) return { rawFrom: new Map(), tiers: new Map() };
  const rawFrom = await readRawFrom(connection);
  const tiers = new Map<string, TierState[]>();
  // Nothing trimmed yet: the raw rows answer everything (the common case costs two small reads).
  if (rawFrom.size === 0) return { rawFrom, tiers };
  for (const tier of await readTierStates(connection)) {
    if (tier.rolledTo === undefined || tier.keptFrom === undefined || tier.keptFrom >= tier.rolledTo) continue;
    tiers.set(tier.table, [...(tiers.get(tier.table) ?? []), tier]);
  }
  return { rawFrom, tiers };
}

/** The time a query looks at, as query.ts's `TimeWindow` has it (a structural copy: this module is below query.ts). */
export type TierWindow =
  | { readonly kind: 'all' }
  | { readonly kind: 'at'; readonly at: number; readonly stalenessMs: number }
  | { readonly kind: 'range'; readonly from?: number; readonly to?: number };

/** The tier an instant older than the raw rows reads: the finest whose rolled-up buckets hold it. */
function tierAt(tiers: readonly TierState[], at: number): TierState | undefined {
  return tiers.find((tier) => tier.keptFrom !== undefined && tier.rolledTo !== undefined && tier.keptFrom <= at && at < tier.rolledTo);
}

/** The tier a range starting before the raw rows reads: the one reaching furthest back into it, the finest of equals. */
function tierForRange(tiers: readonly TierState[], from: number | undefined): TierState | undefined {
  const start = (tier: TierState): number => Math.max(tier.keptFrom ?? Number.POSITIVE_INFINITY, from ?? Number.NEGATIVE_INFINITY);
  return [...tiers].sort((a, b) => start(a) - start(b) || a.stepMs - b.stepMs)[0];
}

/**
 * The SELECT behind a metric table's view when `window` reaches before its raw rows, or
 * undefined when the raw rows answer it (or no tier covers it). At an instant T: the rows of the
 * bucket holding T of the finest tier that has it, `ts` its start, the last values of each
 * entity present in the bucket. Over a range starting before the raw rows: the tier reaching
 * furthest back, its buckets overlapping the range, and past what it has rolled up, the same
 * buckets computed from the raw rows. With `stepMs` (a `--step` range), those rows rolled up
 * into buckets of the step, from a tier whose step divides it.
 */
export function tierViewBody(
  table: Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>,
  window: TierWindow,
  coverage: TierCoverage,
  bounds: RawBounds,
  stepMs?: number,
): string | undefined {
  const rawFrom = coverage.rawFrom.get(table.name);
  const tiers = coverage.tiers.get(table.name) ?? [];
  if (table.kind !== 'metric' || rawFrom === undefined || tiers.length === 0 || window.kind === 'all') return undefined;
  if (window.kind === 'at') {
    if (window.at >= rawFrom) return undefined;
    const tier = tierAt(tiers, window.at);
    if (tier === undefined) return undefined;
    return `SELECT * FROM ${tierTable(table.name, tier.stepMs)} WHERE ts = ${timeLiteral(bucketStart(window.at, tier.stepMs))}`;
  }
  if (window.from !== undefined && window.from >= rawFrom) return undefined;
  const tier = tierForRange(stepMs === undefined ? tiers : tiers.filter((candidate) => stepMs % candidate.stepMs === 0), window.from);
  if (tier?.rolledTo === undefined) return undefined;
  const rows = tierRangeSql(table, tier, window, rawFrom, bounds);
  if (stepMs === undefined || stepMs === tier.stepMs) return rows;
  const shape = tierShape(table);
  if (!shape.ok) return undefined;
  const from = window.from === undefined ? tier.keptFrom ?? tier.rolledTo : bucketStart(window.from, tier.stepMs);
  return tierRollupSql(shape.value, stepMs, `(${rows})`, from, window.to === undefined ? MAX_TIME_MS : window.to + 0.001);
}

/** A tier's buckets overlapping the range, then past what it has rolled up the same buckets from the raw rows. */
function tierRangeSql(table: Pick<MetaTable, 'name' | 'key' | 'columns'>, tier: TierState, window: Extract<TierWindow, { kind: 'range' }>, rawFrom: number, bounds: RawBounds): string {
  const rolledTo = tier.rolledTo ?? Number.NEGATIVE_INFINITY;
  const conditions = [`ts < ${timeLiteral(rolledTo)}`];
  if (window.from !== undefined) conditions.push(`ts > ${timeLiteral(window.from - tier.stepMs)}`);
  if (window.to !== undefined) conditions.push(`ts <= ${timeLiteral(window.to)}`);
  const rolled = `SELECT * FROM ${tierTable(table.name, tier.stepMs)} WHERE ${conditions.join(' AND ')}`;
  const tailFrom = Math.max(rolledTo, Math.ceil(rawFrom / tier.stepMs) * tier.stepMs, window.from === undefined ? Number.NEGATIVE_INFINITY : bucketStart(window.from, tier.stepMs));
  const tailTo = window.to === undefined ? MAX_TIME_MS : window.to + 0.001;
  if (tailFrom >= tailTo) return rolled;
  return `${rolled} UNION ALL BY NAME (${rawRollupSql(table, tier.stepMs, tailFrom, tailTo, bounds)})`;
}

/**
 * Statements replacing the temporary views of the metric tables `sql` mentions whose raw rows
 * no longer cover `window` by views of their tiers ({@link tierViewBody}, with the request's
 * `stepMs` if any); '' when there are none. Called after the raw views were made, on the query's
 * connection.
 */
export async function tierViews(connection: DuckDBConnection, window: TierWindow, sql: string, stalenessMs: number, stepMs?: number): Promise<string> {
  if (window.kind === 'all') return '';
  const coverage = await readCoverage(connection);
  if (coverage.rawFrom.size === 0 || coverage.tiers.size === 0) return '';
  const keyframe = await selectRows(connection, `SELECT coalesce(max(keyframe_ms), 0) FROM ${META_SCHEMA}.sessions`);
  const bounds = { stalenessMs, keyframeMs: Number(keyframe[0]?.[0] ?? 0) };
  const statements: string[] = [];
  for (const table of (await readMetaTables(connection)).values()) {
    if (!mentioned(sql, table.name)) continue;
    const body = tierViewBody(table, window, coverage, bounds, stepMs);
    if (body !== undefined) statements.push(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(table.name)} AS ${body}`);
  }
  return statements.join(';\n');
}

/** True when `name` occurs in `sql` as a whole word, in any case (as query.ts decides which views to make). */
function mentioned(sql: string, name: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9_$])${name}(?![A-Za-z0-9_$])`, 'i').test(sql);
}
