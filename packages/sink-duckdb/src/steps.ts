/**
 * Buckets of a metric table over a range (`stepMs`, `--step`): one row per host, entity and
 * bucket of the step, with each column's minimum, average, maximum and last value over the
 * samples of the bucket, and each counter's per-second rate. {@link stepSql} is the one place
 * that shape is defined: the query views use it, and so can a writer of downsampled tiers.
 */
import type { ColumnDef } from '@virtualeyes/core';
import { entityColumns, lastSampleTimes, OF_TS, running, stopsOf } from './asof.js';
import type { MetaTable } from './layout.js';
import { isCounter } from './rates.js';
import { MetricColumn, microsOf, quoteIdent, quoteText, rowsWithIds, SAMPLES_TABLE, timeLiteral } from './sql.js';

/** The shortest step: one second. */
export const MIN_STEP_MS = 1000;

/** The most buckets one range may be cut into. */
export const MAX_STEP_BUCKETS = 10_000;

/** Column of a bucket row: how many samples of the bucket the entity was present at. */
export const SAMPLES_COLUMN = 'samples';

/** Suffixes of the columns a numeric column becomes in a bucket row (besides its own name, the last value). */
export const StepSuffix = { MIN: '_min', AVG: '_avg', MAX: '_max', RATE: '_rate' } as const;

/** What a bucketed table is read from: a metric table's catalogue entry. */
export type SteppedTable = Pick<MetaTable, 'name' | 'key' | 'columns' | 'staged'>;

/** The range and step of a bucketed read, epoch milliseconds. */
export interface StepRange {
  /** First instant whose samples count (inclusive). */
  readonly from: number;
  /** Last instant whose samples count (inclusive). */
  readonly to: number;
  /** Bucket length; buckets start at epoch multiples of it. */
  readonly stepMs: number;
  /** How far before a bucket's first sample the sample a rate starts from may lie (as for samples()). */
  readonly stalenessMs: number;
  /** readKeyframeBound's: no sample needs a row older than this before it. */
  readonly keyframeMs: number;
}

/** How many buckets of `stepMs` [from, to] touches (the first and last may be partial). */
export function bucketCount(from: number, to: number, stepMs: number): number {
  return Math.floor(to / stepMs) - Math.floor(from / stepMs) + 1;
}

/**
 * The SELECT of `table` in buckets of `range.stepMs` over [from, to]: per host, entity and bucket
 * in which the entity was present at some sample in the range, the columns
 *
 * - `host`, `ts` (the bucket's start, a multiple of the step since the epoch), the key columns;
 * - `samples`: how many of the host's samples in the bucket (and in the range) held the entity;
 * - per numeric column c that is no counter: `c_min`, `c_avg`, `c_max` over those samples, and `c`,
 *   its value at the last of them (avg and the others ignore samples where c is NULL);
 * - per counter c: `c` (last value) and `c_rate`, per second, from the entity's value at the host's
 *   sample just before the bucket (the previous sample of samples(): within the staleness, not
 *   across a stop), or at its first sample in the bucket when it was not there, to its last sample
 *   in the bucket, over the seconds between those two samples. A stop inside the bucket starts it
 *   again at the first sample after the stop. NULL with a single sample, or when the counter went down;
 * - any other column (text, bool, time, list): `c`, its last value.
 *
 * Every value is what the samples held, as the `--at` view answers at each of them (asof.ts): a
 * stored row holds from its own sample until the entity's next row, its keyframe interval, or the
 * next stop, whichever comes first. So the answer equals one computed from every row of every
 * sample, at the cost of the stored rows: an idle process with one row in a bucket of 60 samples
 * has `samples` = 60 and its value as min, avg, max and last.
 */
export function stepSql(table: SteppedTable, range: StepRange): string {
  const step = microsOf(range.stepMs).toString();
  const from = timeLiteral(range.from);
  const to = timeLiteral(range.to);
  // Rows and samples from here on can hold the value a rate of the first bucket starts from.
  const earliest = timeLiteral(range.from - range.stalenessMs - range.keyframeMs);
  const staleness = microsOf(range.stalenessMs).toString();
  const bucket = (time: string): string => `(epoch_us(${time}) - ((epoch_us(${time}) % ${step}) + ${step}) % ${step})`;
  const entity = entityColumns(table).map(quoteIdent);
  const of = (alias: string): string => entity.map((column) => `${alias}.${column}`).join(', ');
  const gone = quoteIdent(MetricColumn.GONE);
  // Rows are joined back by id: a staged table's two physical tables get ids that never collide.
  const source = rowsWithIds(table.name, table.staged === true);
  const span = `r.ts >= ${earliest} AND r.ts <= ${to}`;
  const gauges = shapes(table).filter(({ shape }) => shape === 'gauge');
  const keyframeEnd = `make_timestamptz(epoch_us(f.ts) + f._kf * 1000)`;
  const ctes = [
    // Each sample instant of the table once, with its keyframe interval.
    `_taken AS (SELECT m.host, m.ts, max(m.keyframe_ms) AS keyframe_ms FROM ${SAMPLES_TABLE} AS m ` +
      `WHERE m.table_name = ${quoteText(table.name)} AND m.ts >= ${earliest} AND m.ts <= ${to} GROUP BY m.host, m.ts)`,
    // The samples that count (none at a stop: asof.ts's rule), numbered in (host, ts) order, with
    // their run (the host's last stop before them) and the first and last sample of that run. A
    // row holds at samples of its own run only: after a stop, every entity is stored again.
    `_counted AS (SELECT m.host, m.ts, m.keyframe_ms, coalesce(s.stopped, '-infinity'::TIMESTAMPTZ) AS _run, ` +
      `row_number() OVER (ORDER BY m.host, m.ts) AS _n FROM _taken AS m LEFT JOIN (${stopsOf('_taken')}) AS s ` +
      `ON s.host = m.host AND s.${OF_TS} = m.ts WHERE ${running('m')})`,
    `_log AS (SELECT *, min(_n) OVER run AS _run_first, max(_n) OVER run AS _run_last FROM _counted WINDOW run AS (PARTITION BY host, _run))`,
    // Per host and bucket, its samples in the range: the first and last (and the first's time).
    `_buckets AS (SELECT host, ${bucket('ts')} AS _b, min(_n) AS _first_n, max(_n) AS _last_n, min(ts) AS _first_ts ` +
      `FROM _log WHERE ts >= ${from} AND ts <= ${to} GROUP BY ALL)`,
    `_firsts AS (SELECT host, _first_ts AS ts FROM _buckets)`,
    `_before AS (${lastSampleTimes(table.name, { before: '_firsts', from: range.from, to: range.to }, range.stalenessMs)})`,
    // Where a bucket's rates start: the sample before its first (samples()' previous), if there is one.
    `_windows AS (SELECT b.*, coalesce(l._n, b._first_n) AS _start_n FROM _buckets AS b ` +
      `LEFT JOIN _before AS p ON p.host = b.host AND p.${OF_TS} = b._first_ts LEFT JOIN _log AS l ON l.host = p.host AND l.ts = p.ts)`,
    // Stored rows, tombstones included, with the gauges (the other values join in last): the entity
    // (_e: its first row), the sample each row was stored at (none when a stop fell at it) and the
    // entity's next row, where the row stops holding.
    `_rows AS (SELECT r._rowid AS _id, r.host, r.ts, r.${gone} AS _gone, l._n AS _lo, l._run_last, l.keyframe_ms AS _kf, ` +
      `first_value(r._rowid) OVER e AS _e, lead(r.ts) OVER e AS _next_ts, lead(l._n) OVER e AS _next_n${gauges.map(({ column }) => `, r.${quoteIdent(column.name)}`).join('')} ` +
      `FROM ${source} AS r LEFT JOIN _log AS l ON l.host = r.host AND l.ts = r.ts WHERE ${span} WINDOW e AS (PARTITION BY ${of('r')} ORDER BY r.ts))`,
    // Each row of values and the last sample it holds at: before the next row (a next row at a stop,
    // outside the log, ends the run too), within its run, and within its keyframe interval, which
    // only a row with no next one that soon needs looked up (partial batches, the range's end).
    `_values AS (SELECT *, least(coalesce(_next_n - 1, _run_last), _run_last) AS _until FROM _rows WHERE _gone IS NOT TRUE AND _lo IS NOT NULL)`,
    `_bounded AS (SELECT f.* EXCLUDE (_gone, _kf, _next_ts, _next_n, _run_last), least(f._until, l._n) AS _hi FROM ` +
      `(SELECT * FROM _values WHERE _next_ts IS NULL OR _next_ts > make_timestamptz(epoch_us(ts) + _kf * 1000)) AS f ` +
      `ASOF JOIN _log AS l ON l.host = f.host AND l.ts <= ${keyframeEnd} ` +
      `UNION ALL BY NAME SELECT f.* EXCLUDE (_gone, _kf, _next_ts, _next_n, _run_last), f._until AS _hi FROM _values AS f WHERE f._next_ts <= ${keyframeEnd})`,
    // With the time of the last sample, and of the host's next sample when a bucket's rate may start there.
    `_held AS (SELECT h.*, l.ts AS _hi_ts, CASE WHEN a.ts < make_timestamptz(epoch_us(l.ts) + ${staleness}) THEN a.ts ELSE l.ts END AS _reach_ts, ` +
      `l._run_first FROM _bounded AS h JOIN _log AS l ON l._n = h._hi LEFT JOIN _log AS a ON a._n = h._hi + 1 AND a.host = h.host)`,
    // Each row with every bucket whose samples (or the sample its rate starts from) it holds at: how
    // many samples of the bucket (_c), the last of them, and the first from where rates start.
    `_pairs AS (SELECT h._id, h._e, h._run_first, w._b, least(h._hi, w._last_n) - greatest(h._lo, w._first_n) + 1 AS _c, ` +
      `least(h._hi, w._last_n) AS _ihi, greatest(h._lo, w._start_n) AS _wlo${gauges.map(({ column }) => `, h.${quoteIdent(column.name)}`).join('')} ` +
      `FROM (SELECT *, unnest(generate_series(greatest(${bucket('ts')}, ${bucket(from)}), ${bucket('_reach_ts')}, ${step})) AS _pb FROM _held) AS h ` +
      `JOIN _windows AS w ON w.host = h.host AND w._b = h._pb WHERE h._lo <= w._last_n AND h._hi >= w._start_n)`,
    `_entities AS (SELECT _e, _b, ${entityAggregates(gauges).join(', ')} FROM _pairs GROUP BY _e, _b HAVING _samples > 0)`,
  ];
  // The values at the last sample and where the rates start come from the rows holding them (r, b)
  // and the times of those samples from the log (t, s), so the aggregate keeps few, fixed-size states.
  // Every join is on a column of e, so no join order DuckDB picks multiplies rows.
  const rates = shapes(table).some(({ shape }) => shape === 'counter');
  const joins = [
    `JOIN ${source} AS r ON r._rowid = e._last_id`,
    ...(rates ? [`JOIN ${source} AS b ON b._rowid = e._base_id JOIN _log AS t ON t._n = e._last_n JOIN _log AS s ON s._n = e._base_n`] : []),
  ];
  // The same span as the rows': DuckDB skips the row groups outside it.
  const spans = [`r.ts >= ${earliest} AND r.ts <= ${to}`, ...(rates ? [`b.ts >= ${earliest} AND b.ts <= ${to}`] : [])];
  return (
    `WITH ${ctes.join(', ')} SELECT r.host, make_timestamptz(e._b) AS ts${entity.slice(1).map((column) => `, r.${column}`).join('')}, ` +
    `e._samples::BIGINT AS ${SAMPLES_COLUMN}${bucketColumns(table).map((item) => `, ${item}`).join('')} FROM _entities AS e ${joins.join(' ')} ` +
    `WHERE ${spans.join(' AND ')}`
  );
}

/** What a bucket row holds of a column. */
type Shape = 'gauge' | 'counter' | 'other';

/** The non-key columns and what a bucket row holds of each. */
function shapes(table: SteppedTable): { readonly column: ColumnDef; readonly shape: Shape }[] {
  const keys = new Set(entityColumns(table));
  return table.columns
    .filter((column) => !keys.has(column.name))
    .map((column) => ({ column, shape: isCounter(table, column) ? 'counter' : ['int32', 'int64', 'float64'].includes(column.type) ? 'gauge' : 'other' }));
}

/** Internal column name of a partial aggregate `part` of column number `index`. */
function part(index: number, name: string): string {
  return `_${name}_${index}`;
}

/**
 * Orders the pairs from where a rate starts: the run holding the entity's last sample in the
 * bucket first (the latest run: no pair's run is later, the sample before the bucket's being
 * earlier), and in it the earliest sample. So a rate never reaches across a stop.
 */
const RATE_START = `(_wlo::HUGEINT - _run_first::HUGEINT * 9223372036854775808)`;

/**
 * Per entity and bucket, over its pairs: the samples held (`_c` > 0 are those in the bucket), the
 * last of them and the row holding it, the sample from where the rates start and the row holding it, and
 * the minimum, average and maximum of each gauge (sums in double precision: exact to 2^53).
 */
function entityAggregates(gauges: readonly { readonly column: ColumnDef }[]): string[] {
  const inBucket = 'FILTER (_c > 0)';
  const items = [
    `sum(_c::DOUBLE) ${inBucket} AS _samples`,
    `max(_ihi) ${inBucket} AS _last_n`,
    `arg_max(_id, _ihi) ${inBucket} AS _last_id`,
    `arg_min(_wlo, ${RATE_START}) AS _base_n`,
    `arg_min(_id, ${RATE_START}) AS _base_id`,
  ];
  gauges.forEach(({ column }, index) => {
    const value = quoteIdent(column.name);
    // Each value counts once per sample it held at; NULLs count for neither sum.
    const held = column.nullable === true ? `sum(_c::DOUBLE) FILTER (_c > 0 AND ${value} IS NOT NULL)` : '_samples';
    items.push(
      `min(${value}) ${inBucket} AS ${part(index, 'min')}`,
      `max(${value}) ${inBucket} AS ${part(index, 'max')}`,
      `sum(_c * ${value}::DOUBLE) ${inBucket} / ${held} AS ${part(index, 'avg')}`,
    );
  });
  return items;
}

/**
 * The bucket row's columns, from {@link entityAggregates}'s (`e`), the rows holding the last sample
 * (`r`) and the rate's start (`b`), and the times of those two samples (`t`, `s`).
 */
function bucketColumns(table: SteppedTable): string[] {
  const items: string[] = [];
  const seconds = `((epoch_us(t.ts) - epoch_us(s.ts)) / 1000000)`;
  let gauge = 0;
  for (const { column, shape } of shapes(table)) {
    const value = quoteIdent(column.name);
    const name = (suffix = ''): string => quoteIdent(`${column.name}${suffix}`);
    if (shape === 'gauge') {
      items.push(`e.${part(gauge, 'min')} AS ${name(StepSuffix.MIN)}`, `e.${part(gauge, 'avg')} AS ${name(StepSuffix.AVG)}`, `e.${part(gauge, 'max')} AS ${name(StepSuffix.MAX)}`);
      gauge += 1;
    }
    items.push(`r.${value} AS ${name()}`);
    if (shape === 'counter') {
      items.push(`CASE WHEN e._last_n > e._base_n AND b.${value} <= r.${value} THEN (r.${value} - b.${value}) / ${seconds} END AS ${name(StepSuffix.RATE)}`);
    }
  }
  return items;
}
