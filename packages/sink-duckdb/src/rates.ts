/**
 * Per-second rates of cumulative counters: the `<table>_rates` views of every metric table with
 * a counter column (and `process_rates` for process_stats). At an instant they pair each entity's
 * values at the host's last sample with those at the sample before it, the pair samples() answers;
 * over a range each stored row with the host's sample just before it. Both take their samples
 * from asof.ts, so a rate never spans a recorder stop.
 */
import type { ColumnDef } from '@virtualeyes/core';
import { entityColumns, lastSampleTimes, OF_TS, rowsAsOf } from './asof.js';
import type { MetaTable } from './layout.js';
import { historyTable, MetricColumn, quoteIdent, timeLiteral } from './sql.js';

/** A metric table as the rates views read it. */
export type RatedTable = Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>;

/** What a table's rates view is named: `<table>_rates`. */
export const RATES_SUFFIX = '_rates';

/** Friendly names of rates views, by the table they are the rates of. */
const ALIASES: Readonly<Record<string, readonly string[]>> = { process_stats: ['process_rates'] };

/** Column of a rates view: seconds from the host's previous sample to the row's. */
export const INTERVAL_COLUMN = 'interval_s';

/** Column types a counter may have (core's validateSchema allows no other). */
const NUMERIC: ReadonlySet<string> = new Set(['int32', 'int64', 'float64']);

/** True for a column declared as a cumulative counter. */
export function isCounter(table: Pick<MetaTable, 'key'>, column: ColumnDef): boolean {
  return column.counter === true && NUMERIC.has(column.type) && !table.key.includes(column.name);
}

/**
 * The rates views a store has: by view name, the metric table each is the rates of. A table has
 * one when it declares a counter column; a name a stored table already has stays that table's.
 */
export function ratesViews(meta: ReadonlyMap<string, MetaTable>): Map<string, MetaTable> {
  const views = new Map<string, MetaTable>();
  for (const table of meta.values()) {
    if (table.kind !== 'metric' || !table.columns.some((column) => isCounter(table, column))) continue;
    for (const name of [`${table.name}${RATES_SUFFIX}`, ...(ALIASES[table.name] ?? [])]) {
      if (!meta.has(name)) views.set(name, table);
    }
  }
  return views;
}

/**
 * Why `name` is no rates view, when it looks like one of a stored table that has none (a metric
 * table without counters, or a state or event table); undefined otherwise.
 */
export function whyNoRates(name: string, meta: ReadonlyMap<string, MetaTable>): string | undefined {
  const lower = name.toLowerCase();
  const base = lower.endsWith(RATES_SUFFIX) ? meta.get(lower.slice(0, -RATES_SUFFIX.length)) : undefined;
  if (base === undefined) return undefined;
  if (base.kind !== 'metric') return `${base.name} is a ${base.kind} table; only metric tables with counter columns have rates`;
  return `${base.name} has no counter columns, so it has no rates`;
}

/**
 * The rates of `table` as of the instant `at`: per host, one row per entity of its last sample s
 * (as the `<table>` view), with `ts` = s, {@link INTERVAL_COLUMN} the seconds from the host's
 * previous sample p (the `previous` of samples()) to s, the key columns, each counter as
 * (value at s − value at p) / interval, and every other column as its value at s. A counter's
 * rate is NULL when the entity was not in p (or there is no p: the first sample after a start),
 * when either value is NULL, or when the counter went down (it was reset).
 */
export function ratesAtSql(table: RatedTable, at: number, stalenessMs: number, keyframeMs: number): string {
  const current = rowsAsOf(table, 'SELECT * FROM _cur', { from: at - stalenessMs - keyframeMs, to: at }, false);
  // The sample before lies after at − 2·staleness: the current one lies after at − staleness.
  const previous = rowsAsOf(table, 'SELECT * FROM _prev', { from: at - 2 * stalenessMs - keyframeMs, to: at }, false);
  const keys = entityColumns(table).slice(1);
  const joined = [`p.host = c.host`, ...keys.map((key) => `p.${quoteIdent(key)} = c.${quoteIdent(key)}`)].join(' AND ');
  const interval = `((epoch_us(c.ts) - epoch_us(t.ts)) / 1000000)`;
  return (
    `WITH _cur AS (${lastSampleTimes(table.name, { at }, stalenessMs)}), ` +
    `_prev AS (${lastSampleTimes(table.name, { before: '_cur', from: at - stalenessMs, to: at }, stalenessMs)}) ` +
    `SELECT c.host, c.ts, ${interval} AS ${INTERVAL_COLUMN}${selectList(table, 'c', (name) => rate(`c.${name}`, `p.${name}`, interval))} ` +
    `FROM (${current}) AS c LEFT JOIN _prev AS t ON t.host = c.host LEFT JOIN (${previous}) AS p ON ${joined}`
  );
}

/**
 * The rates of `table` over [from, to] (either bound may be absent): one row per stored row of
 * values with `ts` in the range, with {@link INTERVAL_COLUMN} the seconds from the host's sample p
 * just before the row (the same previous sample as {@link ratesAtSql}'s) to the row, and each
 * counter as (row's value − value at p) / interval. The entity's value at p is that of its
 * previous stored row when that row holds at p (as rowsAsOf decides: within its keyframe, after
 * the stop, not a tombstone): it held at every sample between, so the whole change lies in the
 * last interval, and the samples without a row had a rate of 0. NULL as at an instant, and for
 * the entity's first row after a start.
 */
export function ratesRangeSql(table: RatedTable, range: { readonly from?: number; readonly to?: number }, stalenessMs: number, keyframeMs: number): string {
  const entity = entityColumns(table).map((column) => `r.${quoteIdent(column)}`).join(', ');
  const counters = table.columns.filter((column) => isCounter(table, column)).map((column) => quoteIdent(column.name));
  const gone = quoteIdent(MetricColumn.GONE);
  // The previous row that can hold at p lies within staleness + keyframe before the range.
  const span = [
    ...(range.from === undefined ? [] : [`r.ts >= ${timeLiteral(range.from - stalenessMs - keyframeMs)}`]),
    ...(range.to === undefined ? [] : [`r.ts <= ${timeLiteral(range.to)}`]),
  ];
  const inRange = [
    ...(range.from === undefined ? [] : [`r.ts >= ${timeLiteral(range.from)}`]),
    ...(range.to === undefined ? [] : [`r.ts <= ${timeLiteral(range.to)}`]),
    `r.${gone} IS NOT TRUE`,
  ].join(' AND ');
  const lags = [`lag(r.ts) OVER e AS _prev_ts`, `lag(r.${gone}) OVER e AS _prev_gone`, ...counters.map((name, index) => `lag(r.${name}) OVER e AS _prev_${index}`)];
  const rows = `SELECT r.*, ${lags.join(', ')} FROM ${historyTable(table.name)} AS r${span.length === 0 ? '' : ` WHERE ${span.join(' AND ')}`} WINDOW e AS (PARTITION BY ${entity} ORDER BY r.ts)`;
  // The previous row holds at p: at or before p, within p's keyframe interval, after the stop, and not a tombstone.
  const holds = `(r._prev_ts <= p.ts AND r._prev_ts >= make_timestamptz(epoch_us(p.ts) - p.keyframe_ms * 1000) AND (p.stopped IS NULL OR r._prev_ts > p.stopped) AND r._prev_gone IS NOT TRUE)`;
  const interval = `((epoch_us(r.ts) - epoch_us(p.ts)) / 1000000)`;
  const previousOf = (name: string): string => `CASE WHEN ${holds} THEN r._prev_${counters.indexOf(name)} END`;
  return (
    `WITH _rows AS (${rows}), _at AS (SELECT DISTINCT r.host, r.ts FROM _rows AS r WHERE ${inRange}), ` +
    `_prev AS (${lastSampleTimes(table.name, { before: '_at', ...range }, stalenessMs)}) ` +
    `SELECT r.host, r.ts, ${interval} AS ${INTERVAL_COLUMN}${selectList(table, 'r', (name) => rate(`r.${name}`, previousOf(name), interval))} ` +
    `FROM _rows AS r LEFT JOIN _prev AS p ON p.host = r.host AND p.${OF_TS} = r.ts WHERE ${inRange}`
  );
}

/** `, key columns, then every other declared column of `alias`: a counter as `counter(quoted name)`, the rest as they are. */
function selectList(table: RatedTable, alias: string, counter: (quoted: string) => string): string {
  const keys = entityColumns(table).slice(1);
  const others = table.columns.filter((column) => !keys.includes(column.name));
  const items = [
    ...keys.map((key) => `${alias}.${quoteIdent(key)}`),
    ...others.map((column) => (isCounter(table, column) ? `${counter(quoteIdent(column.name))} AS ${quoteIdent(column.name)}` : `${alias}.${quoteIdent(column.name)}`)),
  ];
  return items.map((item) => `, ${item}`).join('');
}

/** The per-second rate from `previous` to `current` over `seconds`; NULL when either is NULL or the counter went down. */
function rate(current: string, previous: string, seconds: string): string {
  return `CASE WHEN ${previous} <= ${current} THEN (${current} - ${previous}) / ${seconds} END`;
}
