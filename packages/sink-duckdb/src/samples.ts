/**
 * The reader's questions that need no SQL from the caller: each host's last two samples of a
 * metric table at an instant (what a rate or a CPU% needs), the state rows valid at one, and
 * the state versions valid over a range (what changed in it).
 * The table name and host are user input: the name only picks an entry of vw_meta.tables, whose
 * name is then quoted into the SQL, and the host is a bound parameter.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fail, StatusCode, type QueryResult, type Result, type Samples, type SamplesRequest, type StatesRequest, type Status, type TableKind, type VersionsRequest } from '@virtualeyes/core';
import { readMetaTables, type MetaTable } from './layout.js';
import { checkInstant, fetchResult, futureRefusal, isPastRecording, readKeyframeBound, samplesSql, statesSql, versionsSql, withTimeLimit, type CheckedInstant, type QueryContext } from './query.js';

/** Answers `request` on `connection` (which the caller releases afterwards). Never rejects. */
export async function runSamples(connection: DuckDBConnection, request: SamplesRequest, context: QueryContext): Promise<Result<Samples>> {
  const op = 'samples';
  const checked = checkInstant(request, context, op);
  if (!checked.ok) return checked;
  const { at, stalenessMs, timeoutMs, maxRows } = checked.value;
  const started = context.clock.monotonic();
  return withTimeLimit(connection, timeoutMs, op, context, async () => {
    const table = await usableTable(connection, request.table, 'metric', checked.value, context, op);
    if (!table.ok) return table;
    const sql = samplesSql(table.value, at, stalenessMs, await readKeyframeBound(connection));
    const current = await fetchResult(connection, await connection.stream(sql.current), { maxRows, maxBytes: context.config.maxResultBytes, started }, context, op);
    if (!current.ok) return current;
    // One answer, one budget: the two results together stay within maxResultBytes.
    const limits = { maxRows, maxBytes: context.config.maxResultBytes - current.value.bytes, started: context.clock.monotonic() };
    const previous = await fetchResult(connection, await connection.stream(sql.previous), limits, context, op);
    if (!previous.ok) return previous;
    return { ok: true, value: { current: current.value.result, previous: previous.value.result } };
  });
}

/** Answers `request` on `connection` (which the caller releases afterwards). Never rejects. */
export async function runStates(connection: DuckDBConnection, request: StatesRequest, context: QueryContext): Promise<Result<QueryResult>> {
  const op = 'states';
  // Only the fields a states request has: a stray stalenessMs from JSON is no concern of it.
  const checked = checkInstant({ at: request.at, timeoutMs: request.timeoutMs, maxRows: request.maxRows }, context, op);
  if (!checked.ok) return checked;
  const { host } = request;
  if (host !== undefined && typeof host !== 'string') return { ok: false, status: invalid('host must be a string', context, op) };
  const { at, timeoutMs, maxRows } = checked.value;
  const started = context.clock.monotonic();
  return withTimeLimit(connection, timeoutMs, op, context, async () => {
    const table = await usableTable(connection, request.table, 'state', checked.value, context, op);
    if (!table.ok) return table;
    const result = await connection.stream(statesSql(table.value, at, host !== undefined), host === undefined ? undefined : [host]);
    const fetched = await fetchResult(connection, result, { maxRows, maxBytes: context.config.maxResultBytes, started }, context, op);
    return fetched.ok ? { ok: true, value: fetched.value.result } : fetched;
  });
}

/** Answers a versions request on `connection` (which the caller releases afterwards). Never rejects. */
export async function runVersions(connection: DuckDBConnection, request: VersionsRequest, context: QueryContext): Promise<Result<QueryResult>> {
  const op = 'versions';
  // The range is checked as two instants: each in years 1 to 9999, and in order.
  const checked = checkInstant({ at: request.from, timeoutMs: request.timeoutMs, maxRows: request.maxRows }, context, op);
  if (!checked.ok) return { ok: false, status: { ...checked.status, message: checked.status.message.replace(/^at /, 'from ') } };
  const end = checkInstant({ at: request.to }, context, op);
  if (!end.ok) return { ok: false, status: { ...end.status, message: end.status.message.replace(/^at /, 'to ') } };
  if (request.from > request.to) return { ok: false, status: invalid('from is after to', context, op) };
  const { host } = request;
  if (host !== undefined && typeof host !== 'string') return { ok: false, status: invalid('host must be a string', context, op) };
  const { timeoutMs, maxRows } = checked.value;
  const started = context.clock.monotonic();
  return withTimeLimit(connection, timeoutMs, op, context, async () => {
    const table = await usableTable(connection, request.table, 'state', checked.value, context, op);
    if (!table.ok) return table;
    const result = await connection.stream(versionsSql(table.value, request.from, request.to, host !== undefined), host === undefined ? undefined : [host]);
    const fetched = await fetchResult(connection, result, { maxRows, maxBytes: context.config.maxResultBytes, started }, context, op);
    return fetched.ok ? { ok: true, value: fetched.value.result } : fetched;
  });
}

/**
 * The catalogue entry named `name` when it is a table of `kind`, or the refusal. Also refuses an
 * instant past both the clock and the recording, as a query's `at` is refused.
 */
async function usableTable(
  connection: DuckDBConnection,
  name: unknown,
  kind: TableKind,
  checked: CheckedInstant,
  context: QueryContext,
  op: string,
): Promise<Result<MetaTable>> {
  const meta = await readMetaTables(connection);
  const table = typeof name === 'string' ? meta.get(name) : undefined;
  if (table === undefined) return { ok: false, status: invalid(`table '${String(name)}' is not a recorded table`, context, op) };
  if (table.kind !== kind) return { ok: false, status: invalid(`table '${table.name}' is ${article(table.kind)} ${table.kind} table; ${op} needs a ${kind} table`, context, op) };
  if (checked.future && (await isPastRecording(connection, checked.at))) return { ok: false, status: futureRefusal('at', context.source, op) };
  return { ok: true, value: table };
}

function article(kind: TableKind): string {
  return kind === 'event' ? 'an' : 'a';
}

function invalid(message: string, context: QueryContext, op: string): Status {
  return fail(StatusCode.INVALID_ARGUMENT, message, { source: context.source, op });
}
