/**
 * Time-travel SQL on one fresh connection: only a single SELECT passes, unqualified table
 * names resolve to `history` (or, with `at` or a range, to temporary views of the rows valid
 * then), the query is interrupted at its time limit, and at most `maxRows` rows and
 * `maxResultBytes` bytes are fetched.
 */
import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { fail, StatusCode, type Clock, type QueryRequest, type QueryResult, type Result, type Status } from '@virtualeyes/core';
import { checkQuery, NO_PARAMETERS, ONLY_SELECT } from './allow-list.js';
import type { DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { readMetaTables, type MetaTable } from './layout.js';
import { FUTURE_SKEW_MS, MAX_TIME_MS, MIN_TIME_MS, readRows } from './limits.js';
import { HISTORY_SCHEMA, historyTable, META_SCHEMA, quoteIdent, timeLiteral } from './sql.js';
import { safely } from './store.js';

// The gate's refusal message lives with the gate; re-exported here where callers always found it.
export { ONLY_SELECT };

/** The instant or range a query looks at; absent fields mean no bound. */
export type TimeWindow =
  | { readonly kind: 'all' }
  | { readonly kind: 'at'; readonly at: number; readonly stalenessMs: number }
  | { readonly kind: 'range'; readonly from?: number; readonly to?: number };

/** What a query needs besides its connection. */
export interface QueryContext {
  /** Limits and defaults. */
  readonly config: DuckDbConfig;
  /** Timer for the time limit, monotonic time for `elapsedMs`. */
  readonly clock: Clock;
  /** Status source of its refusals: the instance name, or the store's name offline. */
  readonly source: string;
}

/** Runs `request` on `connection` (which the caller releases afterwards). Never rejects. */
export async function runQuery(connection: DuckDBConnection, request: QueryRequest, context: QueryContext): Promise<Result<QueryResult>> {
  const checked = checkRequest(request, context);
  if (!checked.ok) return checked;
  const { window, timeoutMs, maxRows, future } = checked.value;
  const started = context.clock.monotonic();
  let timedOut = false;
  const timer = context.clock.setTimer(() => {
    timedOut = true;
    safely(() => connection.interrupt());
  }, timeoutMs);
  let prepared: DuckDBPreparedStatement | undefined;
  try {
    if (future !== undefined && (await isPastRecording(connection, future.value))) {
      return { ok: false, status: invalid(`${future.name} is in the future; the recording ends now`, context.source) };
    }
    await connection.run(`SET search_path = '${HISTORY_SCHEMA}'`);
    // Every table in vw_meta.tables exists: its row is written in the transaction creating it.
    const meta = await readMetaTables(connection);
    const gate = await checkQuery(connection, request.sql, new Set(meta.keys()), context.source);
    if (gate !== undefined) return { ok: false, status: gate };
    if (window.kind !== 'all') {
      const views = timeViews(meta, window, request.sql);
      if (views !== '') await connection.run(views);
    }
    const extracted = await connection.extractStatements(request.sql);
    if (extracted.count !== 1) return { ok: false, status: invalid(ONLY_SELECT, context.source) };
    prepared = await extracted.prepare(0);
    if (prepared.statementType !== StatementType.SELECT) return { ok: false, status: invalid(ONLY_SELECT, context.source) };
    if (prepared.parameterCount > 0) return { ok: false, status: invalid(NO_PARAMETERS, context.source) };
    const result = await prepared.stream();
    const columns = result.columnNames().map((name, index) => ({ name, type: result.columnType(index).toString() }));
    const read = await readRows(result, maxRows, context.config.maxResultBytes, context.source);
    if (!read.ok) {
      // Stop DuckDB producing the rest now rather than when the connection is released.
      safely(() => connection.interrupt());
      return read;
    }
    const { rows, truncated } = read.value;
    return { ok: true, value: { columns, rows, truncated, maxRows, elapsedMs: context.clock.monotonic() - started } };
  } catch (error) {
    if (timedOut) return { ok: false, status: fail(StatusCode.TIMEOUT, `query ran past ${timeoutMs} ms`, { source: context.source, op: 'query' }) };
    return { ok: false, status: classifyDuckDbError(error, 'query', context.source) };
  } finally {
    timer.cancel();
    if (prepared !== undefined) {
      const statement = prepared;
      safely(() => statement.destroySync());
    }
  }
}

interface CheckedRequest {
  readonly window: TimeWindow;
  readonly timeoutMs: number;
  readonly maxRows: number;
  /** `at` or `from` when it is later than the clock: refused unless the recording reaches it. */
  readonly future?: { readonly name: 'at' | 'from'; readonly value: number };
}

/**
 * Validates the request's fields and applies the configured defaults and caps. Instants must
 * lie in years 1 to 9999 (DuckDB holds more, but nothing outside is a recording's time).
 */
export function checkRequest(request: QueryRequest, context: QueryContext): Result<CheckedRequest> {
  const { config } = context;
  const bad = (message: string): Result<CheckedRequest> => ({ ok: false, status: invalid(message, context.source) });
  if (typeof request.sql !== 'string' || request.sql.trim() === '') return bad('sql is empty');
  for (const name of ['at', 'from', 'to'] as const) {
    const value = request[name];
    if (value === undefined) continue;
    if (!Number.isFinite(value)) return bad(`${name} must be a finite number of epoch milliseconds`);
    if (value < MIN_TIME_MS || value > MAX_TIME_MS) return bad(`${name} is out of range (${TIME_RANGE})`);
  }
  const limits = { timeoutMs: request.timeoutMs, maxRows: request.maxRows, stalenessMs: request.stalenessMs };
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= (name === 'stalenessMs' ? 0 : 1))) {
      return bad(`${name} must be an integer ${name === 'stalenessMs' ? '>= 0' : '>= 1'}`);
    }
  }
  const ranged = request.from !== undefined || request.to !== undefined;
  if (request.at !== undefined && ranged) return bad('give either at or from/to, not both');
  if (request.from !== undefined && request.to !== undefined && request.from > request.to) return bad('from is after to');
  const start = request.at !== undefined ? ({ name: 'at', value: request.at } as const) : request.from === undefined ? undefined : ({ name: 'from', value: request.from } as const);
  const future = start !== undefined && start.value > context.clock.now() + FUTURE_SKEW_MS ? start : undefined;
  // A staleness window reaching before year 1 means "any earlier sample"; cut it there so its start stays a valid timestamp.
  const window: TimeWindow =
    request.at !== undefined
      ? { kind: 'at', at: request.at, stalenessMs: Math.min(request.stalenessMs ?? config.stalenessMs, request.at - MIN_TIME_MS) }
      : ranged
        ? { kind: 'range', ...(request.from === undefined ? {} : { from: request.from }), ...(request.to === undefined ? {} : { to: request.to }) }
        : { kind: 'all' };
  return {
    ok: true,
    value: {
      window,
      timeoutMs: Math.min(request.timeoutMs ?? config.queryTimeoutMs, config.queryTimeoutMs),
      maxRows: Math.min(request.maxRows ?? config.maxRows, config.maxRows),
      ...(future === undefined ? {} : { future }),
    },
  };
}

/**
 * True when `instant` is later than the newest write of every session (plus the skew): past
 * the clock and past the recording, where state tables would show the still-open versions.
 */
async function isPastRecording(connection: DuckDBConnection, instant: number): Promise<boolean> {
  const reader = await connection.runAndReadAll(`SELECT epoch_ms(max(last_write_at)) FROM ${META_SCHEMA}.sessions`);
  const last = reader.getRowsJS()[0]?.[0];
  return last === null || last === undefined || instant > Number(last) + FUTURE_SKEW_MS;
}

/**
 * Statements creating a temporary view for `window` per stored table the SQL mentions, named
 * like the table. Binding a view costs about a millisecond, so unmentioned tables get none; a
 * name that only appears in a string or comment merely costs an unused view.
 */
function timeViews(meta: ReadonlyMap<string, MetaTable>, window: Exclude<TimeWindow, { kind: 'all' }>, sql: string): string {
  const statements: string[] = [];
  for (const table of meta.values()) {
    if (!mentions(sql, table.name)) continue;
    statements.push(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(table.name)} AS ${viewBody(table, window)}`);
  }
  return statements.join(';\n');
}

/** The SELECT behind one table's view: rows valid at the instant, or in or overlapping the range. */
export function viewBody(table: Pick<MetaTable, 'name' | 'kind'>, window: Exclude<TimeWindow, { kind: 'all' }>): string {
  const source = historyTable(table.name);
  if (window.kind === 'at') {
    const at = timeLiteral(window.at);
    if (table.kind === 'state') return `SELECT * FROM ${source} WHERE valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})`;
    const recent = (column: string): string =>
      window.stalenessMs > 0 ? `${column} > ${timeLiteral(window.at - window.stalenessMs)} AND ${column} <= ${at}` : `${column} = ${at}`;
    // A sample counts only if the host's recording did not stop between it and the instant:
    // while vwatchd was stopped, metric and event tables are empty, as state tables are.
    const stops =
      `SELECT host, max(stopped_at) AS stopped FROM ${META_SCHEMA}.sessions ` +
      `WHERE stopped_at IS NOT NULL AND stopped_at <= ${at} GROUP BY host`;
    const running = (alias: string): string => `(s.stopped IS NULL OR ${alias}.ts > s.stopped)`;
    if (table.kind === 'event') {
      return `SELECT e.* FROM ${source} AS e LEFT JOIN (${stops}) AS s ON e.host = s.host WHERE ${recent('e.ts')} AND ${running('e')}`;
    }
    // Per host, the rows of the last batch inside the window.
    return (
      `SELECT sample.* FROM ${source} AS sample SEMI JOIN ` +
      `(SELECT m.host, max(m.ts) AS ts FROM ${source} AS m LEFT JOIN (${stops}) AS s ON m.host = s.host ` +
      `WHERE ${recent('m.ts')} AND ${running('m')} GROUP BY m.host) AS latest ` +
      `ON sample.host = latest.host AND sample.ts = latest.ts`
    );
  }
  const from = window.from === undefined ? undefined : timeLiteral(window.from);
  const to = window.to === undefined ? undefined : timeLiteral(window.to);
  const conditions: string[] = [];
  if (table.kind === 'state') {
    if (to !== undefined) conditions.push(`valid_from <= ${to}`);
    if (from !== undefined) conditions.push(`(valid_to IS NULL OR valid_to > ${from})`);
  } else {
    if (from !== undefined) conditions.push(`ts >= ${from}`);
    if (to !== undefined) conditions.push(`ts <= ${to}`);
  }
  return `SELECT * FROM ${source}${conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`}`;
}

/** True when `name` occurs in `sql` as a whole word, in any case (identifiers are case-insensitive). */
export function mentions(sql: string, name: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9_$])${name}(?![A-Za-z0-9_$])`, 'i').test(sql);
}

/** The instants a request may name, as the refusal states them. */
const TIME_RANGE = `${new Date(MIN_TIME_MS).toISOString()} to ${new Date(MAX_TIME_MS).toISOString()}`;

function invalid(message: string, source: string): Status {
  return fail(StatusCode.INVALID_ARGUMENT, message, { source, op: 'query' });
}
