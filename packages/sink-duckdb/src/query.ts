/**
 * Time-travel SQL on one fresh connection: only a single SELECT passes, unqualified names resolve
 * to `history` (or, with `at` or a range, to temporary views of the rows valid then), and the
 * query is held to its time limit, `maxRows` and `maxResultBytes`. The views and the reader's
 * samples and states questions are built here from the as-of definitions of asof.ts; the
 * `<table>_rates` views come from rates.ts and the `stepMs` buckets from steps.ts.
 */
import { StatementType, type DuckDBConnection, type DuckDBResult } from '@duckdb/node-api';
import { fail, StatusCode, type Clock, type QueryRequest, type QueryResult, type Result, type Status } from '@virtualeyes/core';
import { checkQuery, NO_PARAMETERS, ONLY_SELECT } from './allow-list.js';
import { AS_OF, entityColumns, lastSampleTimes, recentAt, rowsAsOf, running, stopsAt } from './asof.js';
import type { DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { readMetaTables, type MetaTable } from './layout.js';
import { FUTURE_SKEW_MS, MAX_TIME_MS, MIN_TIME_MS, readRows } from './limits.js';
import { ratesAtSql, ratesRangeSql, ratesViews, whyNoRates } from './rates.js';
import { HISTORY_SCHEMA, historyTable, META_SCHEMA, MetricColumn, quoteIdent, StoreColumn, timeLiteral } from './sql.js';
import { bucketCount, MAX_STEP_BUCKETS, MIN_STEP_MS, stepSql } from './steps.js';
import { safely } from './store.js';
import { tierViews } from './tiers.js';

// The gate's refusal message lives with the gate; re-exported here where callers always found it.
export { ONLY_SELECT };

/** The instant or range a query looks at; absent fields mean no bound. */
export type TimeWindow =
  | { readonly kind: 'all' }
  | { readonly kind: 'at'; readonly at: number; readonly stalenessMs: number }
  | { readonly kind: 'range'; readonly from?: number; readonly to?: number };

/** A range in buckets of `stepMs` (a QueryRequest's `stepMs`): both bounds given. */
export type StepWindow = { readonly kind: 'range'; readonly from: number; readonly to: number; readonly stepMs: number };

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
  const { window, step, stalenessMs, timeoutMs, maxRows, future } = checked.value;
  const started = context.clock.monotonic();
  return withTimeLimit(connection, timeoutMs, 'query', context, async () => {
    if (future !== undefined && (await isPastRecording(connection, future.value))) {
      return { ok: false, status: futureRefusal(future.name, context.source) };
    }
    await connection.run(`SET search_path = '${HISTORY_SCHEMA}'`);
    // Every table in vw_meta.tables exists: its row is written in the transaction creating it.
    const meta = await readMetaTables(connection);
    const rates = ratesViews(meta);
    const gate = await checkQuery(connection, request.sql, new Set(meta.keys()), context.source, new Set(rates.keys()));
    if (gate !== undefined) return { ok: false, status: explainRefusal(gate, meta) };
    const views = mentionedViews(meta, rates, window, request.sql);
    if (views.length > 0) {
      const sql = timeViews(views, { window, ...(step === undefined ? {} : { step }), stalenessMs, keyframeMs: await readKeyframeBound(connection) });
      await connection.run(sql);
      // A metric table whose raw rows retention deleted over the window reads its tiers instead (tiers.ts).
      const tiered = await tierViews(connection, window, request.sql, stalenessMs, step?.stepMs);
      if (tiered !== '') await connection.run(tiered);
    }
    const extracted = await connection.extractStatements(request.sql);
    if (extracted.count !== 1) return { ok: false, status: invalid(ONLY_SELECT, context.source) };
    const prepared = await extracted.prepare(0);
    try {
      if (prepared.statementType !== StatementType.SELECT) return { ok: false, status: invalid(ONLY_SELECT, context.source) };
      if (prepared.parameterCount > 0) return { ok: false, status: invalid(NO_PARAMETERS, context.source) };
      const fetched = await fetchResult(connection, await prepared.stream(), { maxRows, maxBytes: context.config.maxResultBytes, started }, context, 'query');
      return fetched.ok ? { ok: true, value: fetched.value.result } : fetched;
    } finally {
      safely(() => prepared.destroySync());
    }
  });
}

/**
 * Runs `work` on `connection` within `timeoutMs`: past it the connection is interrupted and the
 * call answers TIMEOUT, even if it then finished; any other rejection becomes the Status of `op`.
 * Never rejects.
 */
export async function withTimeLimit<T>(
  connection: DuckDBConnection,
  timeoutMs: number,
  op: string,
  context: QueryContext,
  work: () => Promise<Result<T>>,
): Promise<Result<T>> {
  let timedOut = false;
  const timer = context.clock.setTimer(() => {
    timedOut = true;
    safely(() => connection.interrupt());
  }, timeoutMs);
  const late = (): Result<T> => ({ ok: false, status: fail(StatusCode.TIMEOUT, `${op} ran past ${timeoutMs} ms`, { source: context.source, op }) });
  try {
    const result = await work();
    // An interrupt landing between two statements interrupts nothing; the call is late all the same.
    return timedOut ? late() : result;
  } catch (error) {
    return timedOut ? late() : { ok: false, status: classifyDuckDbError(error, op, context.source) };
  } finally {
    timer.cancel();
  }
}

/** The caps one fetched result is held to, and when its call started (for `elapsedMs`). */
export interface FetchLimits {
  /** Most rows kept; more set `truncated`. */
  readonly maxRows: number;
  /** Byte budget of the converted cells; past it the result fails. */
  readonly maxBytes: number;
  /** Monotonic time the call started. */
  readonly started: number;
}

/** A fetched result and what it counted against the byte budget. */
export interface Fetched {
  /** The result as the reader returns it. */
  readonly result: QueryResult;
  /** Bytes its cells were counted as. */
  readonly bytes: number;
}

/**
 * Streams `result` into a QueryResult within `limits`. A refusal interrupts the connection, so
 * DuckDB stops producing the rest now rather than when the connection is released.
 */
export async function fetchResult(connection: DuckDBConnection, result: DuckDBResult, limits: FetchLimits, context: QueryContext, op: string): Promise<Result<Fetched>> {
  const columns = result.columnNames().map((name, index) => ({ name, type: result.columnType(index).toString() }));
  const read = await readRows(result, limits.maxRows, limits.maxBytes, context.source, op);
  if (!read.ok) {
    safely(() => connection.interrupt());
    return read;
  }
  const { rows, truncated, bytes } = read.value;
  return { ok: true, value: { result: { columns, rows, truncated, maxRows: limits.maxRows, elapsedMs: context.clock.monotonic() - limits.started }, bytes } };
}

interface CheckedRequest {
  readonly window: TimeWindow;
  /** With `stepMs`: the range and its step (the window is that range). */
  readonly step?: StepWindow;
  /** How far before a sample the one before it may lie (for rates), and with `at` the window's staleness. */
  readonly stalenessMs: number;
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
    const problem = value === undefined ? undefined : instantProblem(name, value);
    if (problem !== undefined) return bad(problem);
  }
  const limited = limitProblem({ timeoutMs: request.timeoutMs, maxRows: request.maxRows, stalenessMs: request.stalenessMs });
  if (limited !== undefined) return bad(limited);
  const ranged = request.from !== undefined || request.to !== undefined;
  if (request.at !== undefined && ranged) return bad('give either at or from/to, not both');
  if (request.from !== undefined && request.to !== undefined && request.from > request.to) return bad('from is after to');
  const start = request.at !== undefined ? ({ name: 'at', value: request.at } as const) : request.from === undefined ? undefined : ({ name: 'from', value: request.from } as const);
  const future = start !== undefined && isFuture(start.value, context) ? start : undefined;
  const stepped = checkStep(request);
  if (typeof stepped === 'string') return bad(stepped);
  const window: TimeWindow =
    request.at !== undefined
      ? { kind: 'at', at: request.at, stalenessMs: stalenessAt(request.at, request.stalenessMs, config) }
      : ranged
        ? { kind: 'range', ...(request.from === undefined ? {} : { from: request.from }), ...(request.to === undefined ? {} : { to: request.to }) }
        : { kind: 'all' };
  // Also bounds how far before a sample of a range the one a rate starts from may lie.
  const stalenessMs = window.kind === 'at' ? window.stalenessMs : request.from === undefined ? (request.stalenessMs ?? config.stalenessMs) : stalenessAt(request.from, request.stalenessMs, config);
  const step = stepped === undefined ? {} : { step: stepped };
  return { ok: true, value: { window, ...step, stalenessMs, ...capsOf(request, config), ...(future === undefined ? {} : { future }) } };
}

/**
 * The request's step, checked: an integer of at least {@link MIN_STEP_MS}, with `from` and `to`
 * and at most {@link MAX_STEP_BUCKETS} buckets between them; undefined without one, and the
 * refusal's message when it is refused.
 */
function checkStep(request: QueryRequest): StepWindow | string | undefined {
  const { stepMs, from, to } = request;
  if (stepMs === undefined) return undefined;
  if (!(Number.isInteger(stepMs) && stepMs >= MIN_STEP_MS)) return `stepMs must be an integer >= ${MIN_STEP_MS} (one second)`;
  if (request.at !== undefined) return 'stepMs buckets a range: give from and to, not at';
  if (from === undefined || to === undefined) return 'stepMs needs a range: give both from and to';
  const buckets = bucketCount(from, to, stepMs);
  if (buckets > MAX_STEP_BUCKETS) {
    return `stepMs ${stepMs} cuts the range into ${buckets} buckets, more than ${MAX_STEP_BUCKETS}: use a longer step or a shorter range`;
  }
  return { kind: 'range', from, to, stepMs };
}

/** An instant question's fields (samples, states), checked, with the configured defaults and caps applied. */
export interface CheckedInstant {
  /** The instant, epoch milliseconds. */
  readonly at: number;
  /** The staleness window, cut at year 1. */
  readonly stalenessMs: number;
  /** The time limit that applies. */
  readonly timeoutMs: number;
  /** The row cap that applies. */
  readonly maxRows: number;
  /** True when `at` is past the clock: refused unless the recording reaches it. */
  readonly future: boolean;
}

/** Validates the fields of a samples or states request as {@link checkRequest} validates a query's, refusing with `op`. */
export function checkInstant(
  request: { readonly at: number; readonly stalenessMs?: number; readonly timeoutMs?: number; readonly maxRows?: number },
  context: QueryContext,
  op: string,
): Result<CheckedInstant> {
  const problem = instantProblem('at', request.at) ?? limitProblem({ timeoutMs: request.timeoutMs, maxRows: request.maxRows, stalenessMs: request.stalenessMs });
  if (problem !== undefined) return { ok: false, status: invalid(problem, context.source, op) };
  const { at } = request;
  return { ok: true, value: { at, stalenessMs: stalenessAt(at, request.stalenessMs, context.config), ...capsOf(request, context.config), future: isFuture(at, context) } };
}

/** Why an instant is refused, if it is. */
function instantProblem(name: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return `${name} must be a finite number of epoch milliseconds`;
  if (value < MIN_TIME_MS || value > MAX_TIME_MS) return `${name} is out of range (${TIME_RANGE})`;
  return undefined;
}

/** Why a limit is refused, if one is: each must be an integer, staleness >= 0 and the others >= 1. */
function limitProblem(limits: Readonly<Record<'timeoutMs' | 'maxRows' | 'stalenessMs', number | undefined>>): string | undefined {
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= (name === 'stalenessMs' ? 0 : 1))) {
      return `${name} must be an integer ${name === 'stalenessMs' ? '>= 0' : '>= 1'}`;
    }
  }
  return undefined;
}

/** The request's time limit and row cap, defaulted and capped by the config. */
function capsOf(request: { readonly timeoutMs?: number; readonly maxRows?: number }, config: DuckDbConfig): { timeoutMs: number; maxRows: number } {
  return {
    timeoutMs: Math.min(request.timeoutMs ?? config.queryTimeoutMs, config.queryTimeoutMs),
    maxRows: Math.min(request.maxRows ?? config.maxRows, config.maxRows),
  };
}

/** The staleness window at `at`: the request's or the config's. */
function stalenessAt(at: number, requested: number | undefined, config: DuckDbConfig): number {
  // A window reaching before year 1 means "any earlier sample"; cut it there so its start stays a valid timestamp.
  return Math.min(requested ?? config.stalenessMs, at - MIN_TIME_MS);
}

function isFuture(instant: number, context: QueryContext): boolean {
  return instant > context.clock.now() + FUTURE_SKEW_MS;
}

/** The refusal of an instant past both the clock and the recording. */
export function futureRefusal(name: 'at' | 'from', source: string, op = 'query'): Status {
  return invalid(`${name} is in the future; the recording ends now`, source, op);
}

/**
 * True when `instant` is later than the newest write of every session (plus the skew): past
 * the clock and past the recording, where state tables would show the still-open versions.
 */
export async function isPastRecording(connection: DuckDBConnection, instant: number): Promise<boolean> {
  const reader = await connection.runAndReadAll(`SELECT epoch_ms(max(last_write_at)) FROM ${META_SCHEMA}.sessions`);
  const last = reader.getRowsJS()[0]?.[0];
  return last === null || last === undefined || instant > Number(last) + FUTURE_SKEW_MS;
}

/**
 * The longest keyframe interval any session wrote metric tables with: no as-of read needs a row
 * older than that before its sample. A constant, so the reads can skip older row groups.
 */
export async function readKeyframeBound(connection: DuckDBConnection): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT coalesce(max(keyframe_ms), 0) FROM ${META_SCHEMA}.sessions`);
  return Number(reader.getRowsJS()[0]?.[0] ?? 0);
}

/** A view a query mentions: its name, the table it reads, and whether it is that table's rates. */
interface MentionedView {
  /** The view's name: the table's, or a rates view's. */
  readonly name: string;
  /** The stored table it reads. */
  readonly table: MetaTable;
  /** True for the table's rates view. */
  readonly rates: boolean;
}

/**
 * The views `sql` needs: with a time window, one per stored table it mentions, named like the
 * table; in every window, one per rates view it mentions. Binding a view costs about a
 * millisecond, so unmentioned tables get none; a name that only appears in a string or comment
 * merely costs an unused view.
 */
function mentionedViews(meta: ReadonlyMap<string, MetaTable>, rates: ReadonlyMap<string, MetaTable>, window: TimeWindow, sql: string): MentionedView[] {
  const views: MentionedView[] = [];
  if (window.kind !== 'all') {
    for (const table of meta.values()) if (mentions(sql, table.name)) views.push({ name: table.name, table, rates: false });
  }
  for (const [name, table] of rates) if (mentions(sql, name)) views.push({ name, table, rates: true });
  return views;
}

/** What the views of one query are built for. */
interface ViewWindow {
  /** The query's instant or range. */
  readonly window: TimeWindow;
  /** Buckets instead of rows, for metric tables and their rates. */
  readonly step?: StepWindow;
  /** Staleness of the instant, or of the sample a rate starts from. */
  readonly stalenessMs: number;
  /** {@link readKeyframeBound}'s. */
  readonly keyframeMs: number;
}

/** Statements creating the temporary `views`. */
function timeViews(views: readonly MentionedView[], built: ViewWindow): string {
  return views.map((view) => `CREATE OR REPLACE TEMP VIEW ${quoteIdent(view.name)} AS ${mentionedBody(view, built)}`).join(';\n');
}

/** The SELECT behind one mentioned view: buckets with a step, else rates, else the rows of the window. */
function mentionedBody({ table, rates }: MentionedView, { window, step, stalenessMs, keyframeMs }: ViewWindow): string {
  if (step !== undefined && table.kind === 'metric') return stepSql(table, { ...step, stalenessMs, keyframeMs });
  if (window.kind === 'at') return rates ? ratesAtSql(table, window.at, window.stalenessMs, keyframeMs) : viewBody(table, window, keyframeMs);
  // Without a window, only rates views are made: the tables themselves read history.
  if (rates || window.kind === 'all') return ratesRangeSql(table, window.kind === 'range' ? window : {}, stalenessMs, keyframeMs);
  return viewBody(table, window, keyframeMs);
}

/** The gate's refusal, with why a `<table>_rates` it names does not exist when the table does. */
function explainRefusal(status: Status, meta: ReadonlyMap<string, MetaTable>): Status {
  const refused = /^table ([A-Za-z0-9_]+) is not a recorded table$/.exec(status.message)?.[1];
  if (refused === undefined) return status;
  const why = whyNoRates(refused, meta) ?? recordedTables(refused, meta);
  return { ...status, message: `${status.message}: ${why}` };
}

/** The recorded tables, the ones spelled closest to `name` first (a typo's fix, a table's rates view). */
function recordedTables(name: string, meta: ReadonlyMap<string, MetaTable>): string {
  if (meta.size === 0) return 'nothing is recorded yet';
  const lower = name.toLowerCase();
  const names = [...meta.keys()].sort();
  const close = names.filter((table) => table.includes(lower) || lower.includes(table) || editDistance(table, lower) <= 2).slice(0, 3);
  const others = names.filter((table) => !close.includes(table));
  return `${close.length === 0 ? '' : `did you mean ${close.join(' or ')}? `}the recorded tables are ${[...close, ...others].join(', ')}`;
}

/** Levenshtein distance, for names of at most a few dozen characters. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

/**
 * The SELECT behind one table's view: rows valid at the instant, or in or overlapping the range.
 * `keyframeMs` is {@link readKeyframeBound}'s, for a metric table at an instant.
 */
export function viewBody(table: Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>, window: Exclude<TimeWindow, { kind: 'all' }>, keyframeMs = 0): string {
  const source = historyTable(table.name);
  if (window.kind === 'at') {
    const at = timeLiteral(window.at);
    if (table.kind === 'state') return `SELECT * FROM ${source} WHERE valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})`;
    if (table.kind === 'event') {
      return (
        `SELECT e.* FROM ${source} AS e LEFT JOIN (${stopsAt(at)}) AS s ON e.host = s.host ` +
        `WHERE ${recentAt(window, 'e.ts')} AND ${running('e')}`
      );
    }
    const span = { from: window.at - window.stalenessMs - keyframeMs, to: window.at };
    return rowsAsOf(table, lastSampleTimes(table.name, { at: window.at }, window.stalenessMs), span, true);
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
  // A metric range holds the stored rows (changes and keyframes), not the tombstones that only mark an end.
  const gone = quoteIdent(MetricColumn.GONE);
  if (table.kind === 'metric') conditions.push(`${gone} IS NOT TRUE`);
  const columns = table.kind === 'metric' ? `* EXCLUDE (${gone})` : '*';
  return `SELECT ${columns} FROM ${source}${conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`}`;
}

/**
 * The SQL of a samples request: each host's entities as of its last sample at or before `at`,
 * and as of the sample before it, ordered by host and key; `keyframeMs` as {@link viewBody}'s.
 */
export function samplesSql(
  table: Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>,
  at: number,
  stalenessMs: number,
  keyframeMs: number,
): { readonly current: string; readonly previous: string } {
  const order = orderBy(AS_OF, table);
  const times = lastSampleTimes(table.name, { at }, stalenessMs);
  const current = `${rowsAsOf(table, times, { from: at - stalenessMs - keyframeMs, to: at }, false)}${order}`;
  // The sample before lies after at − 2·staleness: the current one lies after at − staleness.
  const before = rowsAsOf(table, lastSampleTimes(table.name, { before: 'cur', from: at - stalenessMs, to: at }, stalenessMs), { from: at - 2 * stalenessMs - keyframeMs, to: at }, false);
  return { current, previous: `WITH cur AS (${times}) ${before}${order}` };
}

/** The SQL of a states request: the versions valid at `at`, with `$1` as the host when `byHost`, ordered by host and key. */
export function statesSql(table: Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>, at: number, byHost: boolean): string {
  const valid = viewBody(table, { kind: 'at', at, stalenessMs: 0 });
  return `SELECT * FROM (${valid}) AS v${byHost ? ` WHERE v.${StoreColumn.HOST} = $1` : ''}${orderBy('v', table)}`;
}

/** The SELECT of a state table's versions valid at some time in [from, to], optionally one host's (`$1`), ordered by host, key and validity. */
export function versionsSql(table: Pick<MetaTable, 'name' | 'kind' | 'key' | 'columns'>, from: number, to: number, byHost: boolean): string {
  const overlapping = viewBody(table, { kind: 'range', from, to });
  return `SELECT * FROM (${overlapping}) AS v${byHost ? ` WHERE v.${StoreColumn.HOST} = $1` : ''}${orderBy('v', table)}, v.${StoreColumn.VALID_FROM}`;
}

/** ` ORDER BY` host, then the table's key columns, of `alias`: a stable order, so a truncated answer is a prefix. */
function orderBy(alias: string, table: Pick<MetaTable, 'key' | 'columns'>): string {
  const columns = entityColumns(table);
  return ` ORDER BY ${columns.map((column) => `${alias}.${quoteIdent(column)}`).join(', ')}`;
}

/** True when `name` occurs in `sql` as a whole word, in any case (identifiers are case-insensitive). */
export function mentions(sql: string, name: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9_$])${name}(?![A-Za-z0-9_$])`, 'i').test(sql);
}

/** The instants a request may name, as the refusal states them. */
const TIME_RANGE = `${new Date(MIN_TIME_MS).toISOString()} to ${new Date(MAX_TIME_MS).toISOString()}`;

function invalid(message: string, source: string, op = 'query'): Status {
  return fail(StatusCode.INVALID_ARGUMENT, message, { source, op });
}
