/**
 * Read access to a store: the StoreReader a running sink hands out (sharing its instance)
 * and the offline reader the CLI opens read-only when no daemon runs. Every call uses a
 * fresh connection from the pool, released when the call ends, and first waits for one of
 * the few slots that every reader of the same pool shares.
 */
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  classifyErrno,
  errnoOf,
  fail,
  fromPromise,
  OK,
  StatusCode,
  type ColumnType,
  type QueryRequest,
  type ReaderDeps,
  type SamplesRequest,
  type SlicePlanRequest,
  type SliceRequest,
  type StatesRequest,
  type VersionsRequest,
  type ReaderFactory,
  type Result,
  type Status,
  type StoredTable,
  type StoreInfo,
  type StoreReader,
} from '@virtualeyes/core';
import { parseConfig, STORE_NAME, storePath, type DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { newerLayout, readMetaTables, readPhysicalColumns, selectRows, type MetaTable } from './layout.js';
import { createStoreLimiter, type QueryLimiter } from './limits.js';
import { runQuery } from './query.js';
import { runSamples, runStates, runVersions } from './samples.js';
import { runSlice, runSlicePlan } from './slice.js';
import { FORMAT_VERSION, historyTable, META_SCHEMA, quoteText, SAMPLES_TABLE, StoreColumn, timeColumnsOf } from './sql.js';
import { AccessMode, openPooledInstance, safely, storeBytes, storeClosed, type ConnectionPool } from './store.js';

/** What a reader reads through. */
export interface ReaderBackend {
  /** The store file. */
  readonly path: string;
  /** Limits and defaults of queries. */
  readonly config: DuckDbConfig;
  /** Where connections come from. */
  readonly pool: ConnectionPool;
  /** The slots every reader of this pool shares (the limit is on the store's threads, not per reader). */
  readonly limiter: QueryLimiter;
  /** Time for query limits. */
  readonly clock: ReaderDeps['clock'];
  /** Status source: the sink's instance name, or the store's name for the offline reader. */
  readonly source: string;
}

const STORE_COLUMN_TEXT: Readonly<Record<string, string>> = {
  [StoreColumn.HOST]: 'Host the row was recorded on.',
  [StoreColumn.TS]: 'When the row was observed.',
  [StoreColumn.VALID_FROM]: 'When this version of the entity was first observed (inclusive).',
  [StoreColumn.VALID_TO]: 'When this version stopped being valid (exclusive); null while it still is.',
};

/** Builds a reader over `backend`; `release` runs once when the reader is closed. */
export function createStoreReader(backend: ReaderBackend, release: () => Promise<Status> = async () => OK): StoreReader {
  let closing: Promise<Status> | undefined;
  const { limiter } = backend;

  const withConnection = async <T>(op: string, work: (connection: DuckDBConnection) => Promise<Result<T>>): Promise<Result<T>> => {
    if (closing !== undefined) return { ok: false, status: fail(StatusCode.UNAVAILABLE, 'the reader is closed', { source: backend.source, op, retryable: false }) };
    // Connecting is itself an async DuckDB call on a libuv thread: it waits for a slot too.
    return limiter.run(op, async () => {
      const connection = await backend.pool.open();
      if (!connection.ok) return connection;
      try {
        const result = await work(connection.value);
        // A call cut short because the store closed under it says so, not TIMEOUT.
        return !result.ok && backend.pool.isClosed() ? { ok: false, status: storeClosed(op, backend.source) } : result;
      } finally {
        await backend.pool.release(connection.value);
      }
    });
  };

  const storedTables = (connection: DuckDBConnection): Promise<Result<StoredTable[]>> =>
    fromPromise(
      async () => {
        const meta = await readMetaTables(connection);
        const physical = await readPhysicalColumns(connection);
        const tables: StoredTable[] = [];
        for (const table of meta.values()) {
          if (!physical.has(table.name)) continue;
          tables.push({ ...describe(table), ...(await countRows(connection, table)) });
        }
        return tables;
      },
      (error) => classifyDuckDbError(error, 'list tables', backend.source),
    );

  return {
    query: (request: QueryRequest) => withConnection('query', (connection) => runQuery(connection, request, backend)),
    samples: (request: SamplesRequest) => withConnection('samples', (connection) => runSamples(connection, request, backend)),
    states: (request: StatesRequest) => withConnection('states', (connection) => runStates(connection, request, backend)),
    versions: (request: VersionsRequest) => withConnection('versions', (connection) => runVersions(connection, request, backend)),
    slicePlan: (request: SlicePlanRequest) => withConnection('slice plan', (connection) => runSlicePlan(connection, request, backend)),
    slice: (request: SliceRequest) => withConnection('slice', (connection) => runSlice(connection, request, backend)),
    tables: () => withConnection('list tables', storedTables),
    info: () =>
      withConnection('info', async (connection) => {
        const tables = await storedTables(connection);
        if (!tables.ok) return tables;
        const hosts = await fromPromise(selectRows(connection, `SELECT DISTINCT host FROM ${META_SCHEMA}.sessions ORDER BY host`), (error) =>
          classifyDuckDbError(error, 'info', backend.source),
        );
        if (!hosts.ok) return hosts;
        const sessions = await fromPromise(
          selectRows(
            connection,
            `SELECT host, epoch_ms(started_at), epoch_ms(stopped_at), epoch_ms(last_write_at) FROM ${META_SCHEMA}.sessions ORDER BY host, started_at, id`,
          ),
          (error) => classifyDuckDbError(error, 'info', backend.source),
        );
        if (!sessions.ok) return sessions;
        const time = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
        const firsts = tables.value.map((table) => table.first).filter((time): time is number => time !== null);
        const lasts = tables.value.map((table) => table.last).filter((time): time is number => time !== null);
        const info: StoreInfo = {
          path: backend.path,
          ...optional('bytes', storeBytes(backend.path)),
          first: firsts.length === 0 ? null : Math.min(...firsts),
          last: lasts.length === 0 ? null : Math.max(...lasts),
          hosts: hosts.value.map(([host]) => String(host)),
          recordings: sessions.value.map(([host, from, to, last]) => ({ host: String(host), from: Number(from), to: time(to), lastWrite: time(last) })),
        };
        return { ok: true, value: info };
      }),
    close() {
      closing ??= release();
      return closing;
    },
  };
}

/** A stored table's catalogue entry: store-added columns first, then the declared ones. */
function describe(table: MetaTable): Omit<StoredTable, 'rows' | 'first' | 'last'> {
  const added = [StoreColumn.HOST, ...timeColumnsOf(table.kind)].map((name) => ({
    name,
    type: (name === StoreColumn.HOST ? 'text' : 'timestamp') as ColumnType,
    description: STORE_COLUMN_TEXT[name] ?? '',
  }));
  const declared = table.columns.map((column) => ({
    name: column.name,
    type: column.type,
    ...optional('unit', column.unit),
    ...(column.counter === true ? { counter: true as const } : {}),
    description: column.description,
  }));
  return { name: table.name, kind: table.kind, description: table.description, key: table.key, columns: [...added, ...declared] };
}

/**
 * Row count (stored rows: versions, events, a metric table's changes, keyframes and tombstones)
 * and time span: validity for state versions, `ts` for events, the sample log for metric
 * tables (whose last sample may have stored nothing).
 */
async function countRows(connection: DuckDBConnection, table: MetaTable): Promise<Pick<StoredTable, 'rows' | 'first' | 'last'>> {
  const source = historyTable(table.name);
  const sql =
    table.kind === 'state'
      ? `SELECT count(*), epoch_ms(min(valid_from)), epoch_ms(max(coalesce(valid_to, valid_from))) FROM ${source}`
      : table.kind === 'event'
        ? `SELECT count(*), epoch_ms(min(ts)), epoch_ms(max(ts)) FROM ${source}`
        : `SELECT (SELECT count(*) FROM ${source}), epoch_ms(min(ts)), epoch_ms(max(ts)) FROM ${SAMPLES_TABLE} WHERE table_name = ${quoteText(table.name)}`;
  const [row] = await selectRows(connection, sql);
  const time = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
  return { rows: Number(row?.[0] ?? 0), first: time(row?.[1]), last: time(row?.[2]) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Opens a store file read-only with the same restrictions as the writer. NOT_FOUND when there
 * is no file, UNAVAILABLE while a running vwatchd holds it.
 */
export const createReader: ReaderFactory<DuckDbConfig> = async (rawConfig, deps) => {
  const parsed = parseConfig(rawConfig);
  if (!parsed.ok) return parsed;
  const config = parsed.value;
  const path = storePath(config, deps.dataDir);
  const exists = await fromPromise(stat(path), (error) =>
    errnoOf(error) === 'ENOENT'
      ? fail(StatusCode.NOT_FOUND, `no recording at ${path}; start vwatchd first`, { source: STORE_NAME, op: 'open store', cause: error })
      : classifyErrno(error, `open ${path}`, STORE_NAME),
  );
  if (!exists.ok) return exists;
  const opened = await openPooledInstance(path, config, AccessMode.READ_ONLY);
  if (!opened.ok) {
    const status = opened.status;
    if (status.code !== StatusCode.UNAVAILABLE || !/Could not set lock/i.test(status.message)) return opened;
    return {
      ok: false,
      status: fail(StatusCode.UNAVAILABLE, `${path} is in use by a running vwatchd; query through its socket`, {
        source: STORE_NAME,
        op: 'open store',
        cause: status.cause,
      }),
    };
  }
  const { instance, pool } = opened.value;
  const release = async (): Promise<Status> => {
    await pool.closeAll();
    safely(() => instance.closeSync());
    return OK;
  };
  const recording = await recordingLayout(pool);
  if (!recording.ok || recording.value === undefined || recording.value > FORMAT_VERSION) {
    await release();
    if (!recording.ok) return recording;
    // A newer layout may mean what this reader would misread: refused, as the writer refuses it.
    if (recording.value !== undefined) return { ok: false, status: newerLayout(recording.value, STORE_NAME, 'open store') };
    return { ok: false, status: fail(StatusCode.NOT_FOUND, `${path} is not a virtualeyes recording`, { source: STORE_NAME, op: 'open store' }) };
  }
  deps.logger.debug('Opened store read-only', { path });
  const limiter = createStoreLimiter(config, pool, deps.clock);
  return { ok: true, value: createStoreReader({ path, config, pool, limiter, clock: deps.clock, source: STORE_NAME }, release) };
};

/** The layout version of the store the pool reads, or undefined when it is not a recording. */
async function recordingLayout(pool: ConnectionPool): Promise<Result<number | undefined>> {
  const connection = await pool.open();
  if (!connection.ok) return connection;
  try {
    return await fromPromise(
      async () => {
        const rows = await selectRows(
          connection.value,
          `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '${META_SCHEMA}' AND table_name = 'tables'`,
        );
        if (Number(rows[0]?.[0] ?? 0) === 0) return undefined;
        const version = await selectRows(connection.value, `SELECT max(format_version) FROM ${META_SCHEMA}.store`);
        const value = version[0]?.[0];
        return value === null || value === undefined ? FORMAT_VERSION : Number(value);
      },
      (error) => classifyDuckDbError(error, 'open store'),
    );
  } finally {
    await pool.release(connection.value);
  }
}
