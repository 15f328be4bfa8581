/**
 * The one definition of "as of": a host's last sample at an instant (or before each row of a
 * relation), the recorder stops a sample never reaches across, and the entity rows a sample
 * holds. query.ts builds the `--at` views and samples() from these, rates.ts and steps.ts their
 * rates and buckets; nothing else decides what counts as a sample.
 */
import type { MetaTable } from './layout.js';
import { historyTable, META_SCHEMA, MetricColumn, microsOf, quoteIdent, quoteText, SAMPLES_TABLE, StoreColumn, timeLiteral } from './sql.js';

/**
 * Which last sample: every host's at or before the instant `at` (the sample may lie at it), or,
 * for each `(host, ts)` row of a relation in scope, that host's sample strictly before `ts`. For
 * the second, `from` and `to` (when known) bound the relation's `ts`, so the read of the sample
 * log can skip row groups outside (from − staleness, to].
 */
export type SampleBound = { readonly at: number } | { readonly before: string; readonly from?: number; readonly to?: number };

/** Column of {@link lastSampleTimes}'s `before` answer: the relation row's `ts` the sample precedes. */
export const OF_TS = 'of_ts';

/**
 * The one definition of a host's last sample, over the sample log: `(host, ts)` of its latest
 * batch of `table` within the staleness window before the bound, unless that host's recorder
 * stopped between the batch and the bound (while vwatchd was stopped, metric and event tables are
 * empty, as state tables are). With `at`, one row per host, the window (at − staleness, at]; with
 * `before`, one row per distinct `(host, ts)` of the relation that has such a sample, the window
 * (ts − staleness, ts), and the relation's `ts` as {@link OF_TS}. Also `keyframe_ms`, the keyframe
 * interval the sample was written with, and `stopped`, the host's last stop at or before the
 * bound (NULL if none): the entity rows of the sample lie in [ts − keyframe_ms, ts] and after `stopped`.
 */
export function lastSampleTimes(table: string, bound: SampleBound, stalenessMs: number): string {
  const ofTable = `m.table_name = ${quoteText(table)}`;
  if (!('before' in bound)) {
    const at = timeLiteral(bound.at);
    return (
      `SELECT m.host, max(m.ts) AS ts, arg_max(m.keyframe_ms, m.ts) AS keyframe_ms, s.stopped FROM ${SAMPLES_TABLE} AS m LEFT JOIN (${stopsAt(at)}) AS s ON m.host = s.host ` +
      `WHERE ${ofTable} AND ${recentAt({ at: bound.at, stalenessMs }, 'm.ts')} AND ${running('m')} GROUP BY m.host, s.stopped`
    );
  }
  const rows = `(SELECT DISTINCT host, ts FROM ${bound.before})`;
  // Constant bounds implied by the per-row ones, so DuckDB skips the row groups outside them. The
  // start may lie before year 1 (the staleness reaches back to year 1 at most): DuckDB holds that.
  const span = [
    ...(bound.from === undefined ? [] : [`m.ts > ${timeLiteral(bound.from - stalenessMs)}`]),
    ...(bound.to === undefined ? [] : [`m.ts <= ${timeLiteral(bound.to)}`]),
  ];
  const log = `SELECT m.host, m.ts, m.keyframe_ms FROM ${SAMPLES_TABLE} AS m WHERE ${[ofTable, ...span].join(' AND ')}`;
  // Integer microseconds, as timeLiteral does: no interval arithmetic that could depend on the TimeZone setting.
  const earliest = `make_timestamptz(epoch_us(i.ts) - ${microsOf(stalenessMs).toString()}::BIGINT)`;
  // The latest sample before ts (ASOF), kept if it lies in the window and after the stop: the
  // latest sample of the window whenever there is one, as the window ends at ts.
  return (
    `SELECT i.host, m.ts, m.keyframe_ms, s.stopped, i.ts AS ${OF_TS} FROM ${rows} AS i ` +
    `LEFT JOIN (${stopsOf(rows)}) AS s ON s.host = i.host AND s.${OF_TS} = i.ts ` +
    `ASOF JOIN (${log}) AS m ON m.host = i.host AND m.ts < i.ts ` +
    `WHERE m.ts > ${earliest} AND ${running('m')}`
  );
}

/** Alias of the rows an as-of read answers, for an ORDER BY over them. */
export const AS_OF = 'q';

/** Column carrying the sample instant through the inner query of {@link rowsAsOf}. */
const SAMPLE_TS = '_sample_ts';

/**
 * Every entity of each sample `times` names (one row per host: `ts`, `keyframe_ms`, `stopped`),
 * with the values of its last stored row in [ts − keyframe_ms, ts] after the stop, unless that
 * row is a tombstone; `ts` is the sample's, and with `changedAt` the row's own time follows as
 * `_changed_at`. All rows at the entity's latest time count, as layout 1 kept duplicate keys.
 * `span` is a constant superset of every host's bounds, so DuckDB skips row groups outside it.
 */
export function rowsAsOf(table: Pick<MetaTable, 'name' | 'key' | 'columns'>, times: string, span: { readonly from: number; readonly to: number }, changedAt: boolean): string {
  const entity = entityColumns(table).map((column) => `r.${quoteIdent(column)}`).join(', ');
  const gone = quoteIdent(MetricColumn.GONE);
  const earliest = `make_timestamptz(epoch_us(t.ts) - t.keyframe_ms * 1000)`;
  const rows =
    `SELECT r.*, t.ts AS ${SAMPLE_TS} FROM ${historyTable(table.name)} AS r JOIN (${times}) AS t ON r.host = t.host ` +
    `WHERE r.ts >= ${timeLiteral(span.from)} AND r.ts <= ${timeLiteral(span.to)} AND r.ts <= t.ts AND r.ts >= ${earliest} ` +
    `AND (t.stopped IS NULL OR r.ts > t.stopped) QUALIFY r.ts = max(r.ts) OVER (PARTITION BY ${entity})`;
  const own = changedAt ? `, ${AS_OF}.ts AS ${quoteIdent(MetricColumn.CHANGED_AT)}` : '';
  return (
    `SELECT ${AS_OF}.host, ${AS_OF}.${SAMPLE_TS} AS ts, ${AS_OF}.* EXCLUDE (host, ts, ${gone}, ${SAMPLE_TS})${own} ` +
    `FROM (${rows}) AS ${AS_OF} WHERE ${AS_OF}.${gone} IS NOT TRUE`
  );
}

/**
 * The columns naming an entity of a metric table: the host, then the key columns. Every declared
 * column stays in the file, so a key column is always there; the check keeps a damaged catalogue
 * out of the SQL.
 */
export function entityColumns(table: Pick<MetaTable, 'key' | 'columns'>): readonly string[] {
  const stored = new Set(table.columns.map((column) => column.name));
  return [StoreColumn.HOST, ...table.key.filter((key) => stored.has(key))];
}

/** `column` within the staleness window of the instant; with no staleness, exactly at it. */
export function recentAt(window: { readonly at: number; readonly stalenessMs: number }, column: string): string {
  const at = timeLiteral(window.at);
  return window.stalenessMs > 0 ? `${column} > ${timeLiteral(window.at - window.stalenessMs)} AND ${column} <= ${at}` : `${column} = ${at}`;
}

/** Per host, its recorder's last stop at or before the instant `at` (a SQL time), as `stopped`. */
export function stopsAt(at: string): string {
  return `SELECT host, max(stopped_at) AS stopped FROM ${META_SCHEMA}.sessions WHERE stopped_at IS NOT NULL AND stopped_at <= ${at} GROUP BY host`;
}

/**
 * Per `(host, ts)` row of `relation` (a name or a parenthesized SELECT), its host's last stop at or
 * before `ts`, as `(host, of_ts, stopped)`; rows with no stop before them are absent. What
 * {@link stopsAt} answers for one instant, for many.
 */
export function stopsOf(relation: string): string {
  return (
    `SELECT i.host, i.ts AS ${OF_TS}, max(x.stopped_at) AS stopped FROM ${relation} AS i JOIN ${META_SCHEMA}.sessions AS x ` +
    `ON x.host = i.host AND x.stopped_at <= i.ts GROUP BY i.host, i.ts`
  );
}

/** True for a row of `alias` recorded after its host's last stop `s.stopped` (or with none). */
export function running(alias: string): string {
  return `(s.stopped IS NULL OR ${alias}.ts > s.stopped)`;
}
