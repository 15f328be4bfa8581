/**
 * The DuckDB sink: opens the store file, declares the tables, and writes each call's batches
 * in one transaction — events appended, metric samples stored only when an entity appears,
 * changes, disappears or is due for a keyframe (every sample instant goes to the sample log),
 * state tables as versions. Closing closes every open version. After writes, at most every
 * `maintenanceIntervalMs`, it rolls metric tables into their tiers and applies retention
 * (retention.ts).
 */
import { mkdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection, type DuckDBInstance } from '@duckdb/node-api';
import {
  classifyErrno,
  fail,
  fromPromise,
  isOk,
  ok,
  OK,
  StatusCode,
  validateTimes,
  type Batch,
  type PlatformFactory,
  type PluginDeps,
  type Row,
  type SinkImpl,
  type SinkStartContext,
  type Status,
  type WriteResult,
} from '@virtualeyes/core';
import { createAppenders, planRows, planTombstones, planValues, type RowAppender, type WriteAppenders } from './append.js';
import { diffMetricBatch, type StoredSample } from './changes.js';
import { checkConfig, DEFAULT_FILE_NAME, storePath, type DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { inTransaction, prepareStore, StopReason, type TableLayout } from './layout.js';
import { createStoreLimiter, type QueryLimiter } from './limits.js';
import { createStoreReader } from './reader.js';
import { createMaintenance, type Maintenance } from './retention.js';
import { HISTORY_SCHEMA, historyTable, META_SCHEMA, microsOf, quoteIdent, rawTable, SAMPLES_NAME, STAGE_SCHEMA, stageTable, StoreColumn, timeLiteral } from './sql.js';
import { AccessMode, createStoreFile, openPooledInstance, safely, storeBytes, storeClosed, WAL_CHECKPOINT_BYTES, type ConnectionPool } from './store.js';
import { createOverlay, diffStateBatch, type OpenVersion, type Overlay, type VersionClose, type VersionInsert, type VersionOverlay } from './versions.js';

/** Mode of the store directory when the sink creates it. */
const DIRECTORY_MODE = 0o750;

/** A declared table ready for writing. */
interface WritableTable {
  readonly layout: TableLayout;
  /** Appends a row of this host as a sample, event or new version. */
  readonly append: RowAppender;
  /** State tables: the temporary table listing versions to close, and how to fill it. */
  readonly closer?: VersionCloser;
  /** State tables: the open version of every entity. */
  readonly versions: Map<string, OpenVersion>;
  /** Metric tables: appends a tombstone (key, time, `_gone`). */
  readonly tombstone?: RowAppender;
  /** Metric tables: the last stored row of every entity. */
  readonly samples: Map<string, StoredSample>;
  /** Metric tables: this session's rows not yet rewritten in entity order. */
  readonly unsorted: UnsortedRows;
}

/** A metric table's rows this session appended in time order and has not sorted yet: from which batch time, how many. */
interface UnsortedRows {
  from: number | undefined;
  rows: number;
}


/** Closes state versions in one UPDATE joined with a temporary table. */
interface VersionCloser {
  /** Name of the temporary table (in `temp.main`). */
  readonly table: string;
  /** Appends one version to close: its key, its valid_from and the close time. */
  readonly append: (appender: DuckDBAppender, version: OpenVersion, micros: bigint) => void;
  /** The UPDATE closing every listed version. */
  readonly update: string;
  /** Empties the close list. */
  readonly clear: string;
}

/** The open store of a started sink. */
interface OpenStore {
  /** The store file. */
  readonly path: string;
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly pool: ConnectionPool;
  /** Query slots shared by every reader the sink hands out. */
  readonly limiter: QueryLimiter;
  readonly tables: ReadonlyMap<string, WritableTable>;
  readonly unusable: ReadonlyMap<string, Status>;
  readonly sessionId: number;
  /** Longest a metric entity goes without a stored row (the `keyframeMs` option). */
  readonly keyframeMs: number;
  /** Latest write (or batch time) recorded in the session row, epoch milliseconds. */
  lastWriteAt: number;
  /** Rollup into the tiers and retention. */
  readonly maintenance: Maintenance;
  /** Rows after which a metric table's newest rows are put in entity order (the `sortRows` option; 0: never). */
  readonly sortRows: number;
}

/**
 * The store on every platform, for the plugin kit: nothing is opened until start(). The kit has
 * already refused calls after close and batches of tables no probe declared; Status carry the
 * instance name.
 */
export const createStoreSink: PlatformFactory<DuckDbConfig, SinkImpl> = (config, deps) => {
  // The schema checked the options' shapes; durations, sizes and tiers are checked here, as parseConfig does.
  const checked = checkConfig(config);
  if (checked.code !== StatusCode.OK) return { ok: false, status: checked };
  const path = storePath(config, deps.dataDir);
  const source = deps.name;
  let store: OpenStore | undefined;
  let phase: 'new' | 'starting' | 'started' | 'closed' = 'new';
  let closed = false;
  let starting: ReturnType<typeof openStore> | undefined;
  let rowsWritten = 0;
  // Writer-connection work runs one call at a time, in call order.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  return ok({
    async start(context: SinkStartContext) {
      if (phase !== 'new') return fail(StatusCode.INVALID_ARGUMENT, `cannot start a sink that is ${phase}`, { source, op: 'start' });
      phase = 'starting';
      starting = openStore(path, config, deps, context);
      const opened = await starting;
      starting = undefined;
      if (closed) return storeClosed('start', source); // close() was called meanwhile and releases the file
      if (!opened.ok) {
        phase = 'new';
        return opened.status;
      }
      store = opened.value;
      phase = 'started';
      return OK;
    },
    async write(batches: readonly Batch[]): Promise<WriteResult> {
      const open = store;
      if (phase !== 'started' || open === undefined) {
        return { status: fail(StatusCode.UNAVAILABLE, 'the store is not started', { source, op: 'write', retryable: false }) };
      }
      // A rejection reaches the kit, which answers it as a Status of this instance's write.
      const outcome = await serial(async () => {
        const written = await writeBatches(open, batches, deps);
        // Sorted, an entity's rows lie together: its unchanged columns become runs and its counters small steps (docs/storage.md).
        if (config.sortRows > 0) for (const table of open.tables.values()) if (table.unsorted.rows >= config.sortRows) await sortRows(open, table, deps);
        // After a write that failed (a full disk, say) the maintenance waits: it would fail too.
        if (isOk(written.result.status) && open.maintenance.due(deps.clock.now())) await maintain(open, deps);
        await checkpointLongWal(open, deps);
        return written;
      });
      rowsWritten += outcome.rows;
      return outcome.result;
    },
    async flush() {
      const open = store;
      if (phase !== 'started' || open === undefined) return OK;
      return serial(async () => {
        // DuckDB treats a checkpoint that runs out of disk as fatal and invalidates the database;
        // short of space, the rows stay in the WAL (durable, replayed at the next open) and the caller retries.
        const room = await checkpointRoom(open.path);
        if (room !== undefined) return fail(StatusCode.UNAVAILABLE, room, { source, op: 'flush', retryable: true, retryAfterMs: 1000 });
        const done = await fromPromise(checkpoint(open, deps), (error) => classifyDuckDbError(error, 'flush', source));
        return done.ok ? OK : done.status;
      });
    },
    async close() {
      closed = true;
      // A start still opening the file finishes first, so its file is released too.
      const opened = starting === undefined ? undefined : await starting;
      const open = store ?? (opened?.ok === true ? opened.value : undefined);
      phase = 'closed';
      store = undefined;
      if (open === undefined) return OK;
      return serial(() => closeStore(open, deps));
    },
    stats() {
      const bytes = storeBytes(path);
      return bytes === undefined ? { rowsWritten, path } : { rowsWritten, bytesOnDisk: bytes, path };
    },
    reader() {
      const open = store;
      if (phase !== 'started' || open === undefined) return undefined;
      return createStoreReader({ path, config, pool: open.pool, limiter: open.limiter, clock: deps.clock, source });
    },
  });
};

/** Creates the directory, opens the file, prepares the layout and the per-table writers. */
async function openStore(path: string, config: DuckDbConfig, deps: PluginDeps, context: SinkStartContext): Promise<{ ok: true; value: OpenStore } | { ok: false; status: Status }> {
  const directory = dirname(path);
  const made = await fromPromise(mkdir(directory, { recursive: true, mode: DIRECTORY_MODE }), (error) =>
    classifyErrno(error, `create ${directory}`, deps.name),
  );
  if (!made.ok) return made;
  // DuckDB reports a directory as a transient IO error, which would be retried for seconds in silence.
  const existing = await fromPromise(stat(path), (error) => classifyErrno(error, `stat ${path}`, deps.name));
  if (existing.ok && !existing.value.isFile()) {
    return {
      ok: false,
      status: fail(StatusCode.INVALID_CONFIG, `store path ${path} is not a file; set path to a file name such as ${join(path, DEFAULT_FILE_NAME)}`, {
        source: deps.name,
        op: 'open store',
        retryable: false,
      }),
    };
  }
  if (!existing.ok && existing.status.code === StatusCode.NOT_FOUND) {
    const created = await createStoreFile(path, config, deps.name);
    if (!created.ok) return created;
  }
  const opened = await openPooledInstance(path, config, AccessMode.READ_WRITE, deps.name);
  if (!opened.ok) return opened;
  const instance = { ok: true, value: opened.value.instance } as const;
  const connection = await fromPromise(instance.value.connect(), (error) => classifyDuckDbError(error, 'connect', deps.name));
  if (!connection.ok) {
    void opened.value.pool.closeAll();
    safely(() => instance.value.closeSync());
    return connection;
  }
  const abandon = (status: Status): { ok: false; status: Status } => {
    safely(() => connection.value.disconnectSync());
    void opened.value.pool.closeAll();
    safely(() => instance.value.closeSync());
    return { ok: false, status };
  };
  const now = deps.clock.now();
  const prepared = await prepareStore(connection.value, context.tables, deps.host, now, deps.name, config.keyframeMs);
  if (!prepared.ok) return abandon(prepared.status);

  const tables = new Map<string, WritableTable>();
  for (const layout of prepared.value.layouts.values()) {
    const closer = layout.schema.kind === 'state' ? versionCloser(layout, deps.host) : undefined;
    if (closer !== undefined) {
      const created = await fromPromise(connection.value.run(closer.create), (error) => classifyDuckDbError(error, `declare table ${layout.schema.name}`, deps.name));
      if (!created.ok) return abandon(created.status);
    }
    // A staged table's stage may hold rows the WAL replayed after a crash: they are moved with the next ones.
    const staged = layout.staged
      ? await fromPromise(stagedRows(connection.value, layout.schema.name), (error) => classifyDuckDbError(error, `declare table ${layout.schema.name}`, deps.name))
      : ({ ok: true, value: 0 } as const);
    if (!staged.ok) return abandon(staged.status);
    tables.set(layout.schema.name, {
      layout,
      append: planRows(layout, deps.host),
      ...(closer === undefined ? {} : { closer }),
      ...(layout.schema.kind === 'metric' ? { tombstone: planTombstones(layout, deps.host) } : {}),
      versions: new Map(),
      samples: new Map(),
      unsorted: { from: undefined, rows: staged.value },
    });
  }
  for (const [name, status] of prepared.value.unusable) deps.logger.warn(`Table ${name} will not be stored: ${status.message}`);
  for (const name of Object.keys(config.retention.tables)) {
    if (!context.tables.some((table) => table.name === name)) deps.logger.warn(`retention.tables.${name} names no table the loaded probes declare; it applies once one does`);
  }
  const maintenance = createMaintenance(config, {
    source: deps.name,
    logger: deps.logger,
    now: () => deps.clock.now(),
    monotonic: () => deps.clock.monotonic(),
    checkpointRoom,
  });
  await maintenance.load(connection.value);
  deps.logger.info('Store opened', { path, tables: tables.size, session: prepared.value.sessionId, recoveredVersions: prepared.value.recovered });
  return {
    ok: true,
    value: {
      path,
      instance: instance.value,
      connection: connection.value,
      pool: opened.value.pool,
      limiter: createStoreLimiter(config, opened.value.pool, deps.clock, deps.name),
      tables,
      unusable: prepared.value.unusable,
      sessionId: prepared.value.sessionId,
      keyframeMs: config.keyframeMs,
      lastWriteAt: now,
      maintenance,
      sortRows: config.sortRows,
    },
  };
}

/** The temporary close list of a state table and the UPDATE that applies it. */
function versionCloser(layout: TableLayout, host: string): VersionCloser & { readonly create: string } {
  const name = layout.schema.name;
  const table = `vw_close_${name}`;
  const types = new Map(layout.columns.map((column) => [column.name, column.type]));
  const keys = layout.schema.key.map((key) => ({ name: key, type: types.get(key) ?? 'VARCHAR' }));
  const appendKey = planValues(keys);
  const columns = [
    `${StoreColumn.HOST} VARCHAR`,
    ...keys.map((key) => `${quoteIdent(key.name)} ${key.type}`),
    `${StoreColumn.VALID_FROM} TIMESTAMPTZ`,
    `${StoreColumn.VALID_TO} TIMESTAMPTZ`,
  ];
  const matches = ['t.host = c.host', 't.valid_from = c.valid_from', ...keys.map((key) => `t.${quoteIdent(key.name)} = c.${quoteIdent(key.name)}`)];
  return {
    table,
    create: `CREATE OR REPLACE TEMP TABLE ${quoteIdent(table)} (${columns.join(', ')})`,
    append: (appender, version, micros) => {
      appender.appendVarchar(host);
      appendKey(appender, version.row);
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(microsOf(version.validFrom)));
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(micros));
      appender.endRow();
    },
    update:
      `UPDATE ${historyTable(name)} AS t SET valid_to = greatest(t.valid_from, c.valid_to) ` +
      `FROM temp.main.${quoteIdent(table)} AS c WHERE t.valid_to IS NULL AND ${matches.join(' AND ')}`,
    clear: `DELETE FROM temp.main.${quoteIdent(table)}`,
  };
}

/** What one write call did: the result for core and the rows it accepted. */
interface WriteOutcome {
  readonly result: WriteResult;
  readonly rows: number;
}

/**
 * Writes the batches that name a writable table, all in one transaction; the others are rejected
 * by index. Rows arrive validated by the agent's pipeline; a value DuckDB still refuses fails
 * the transaction, which leaves neither rows nor remembered versions behind.
 */
async function writeBatches(store: OpenStore, batches: readonly Batch[], deps: PluginDeps): Promise<WriteOutcome> {
  const rejected: number[] = [];
  let refusal: Status | undefined;
  const accepted: { readonly batch: Batch; readonly table: WritableTable }[] = [];
  for (const [index, batch] of batches.entries()) {
    const checked = checkBatch(store, batch, deps.name);
    if (checked.ok) {
      accepted.push({ batch, table: checked.value });
    } else {
      rejected.push(index);
      refusal ??= checked.status;
    }
  }
  if (accepted.length === 0) {
    return { result: refusal === undefined ? { status: OK } : { status: refusal, rejected }, rows: 0 };
  }

  const overlays = new Map<WritableTable, VersionOverlay>();
  const stored = new Map<WritableTable, Overlay<StoredSample>>();
  const sampled: LoggedSample[] = [];
  const writeAt = Math.max(store.lastWriteAt, deps.clock.now(), ...accepted.map(({ batch }) => batch.ts));
  const done = await fromPromise(
    inTransaction(store.connection, async () => {
      // One appender per target for the whole write, however many batches it holds: closing an
      // appender (which inserts its rows) costs about as much as appending hundreds of rows.
      const appenders = createAppenders(store.connection);
      const closing = new Set<VersionCloser>();
      try {
        for (const { batch, table } of accepted) {
          const micros = microsOf(batch.ts);
          if (table.tombstone !== undefined) {
            let overlay = stored.get(table);
            if (overlay === undefined) {
              overlay = createOverlay(table.samples);
              stored.set(table, overlay);
            }
            const changes = diffMetricBatch(table.layout.schema, overlay, batch, store.keyframeMs);
            if (changes.rows.length > 0 || changes.gone.length > 0) await appendRows(appenders, table, changes.rows, micros, changes.gone);
            sampled.push({ table: table.layout.schema.name, micros, ts: batch.ts, rows: changes.rows.length + changes.gone.length, unsorted: table.unsorted });
            continue;
          }
          if (table.closer === undefined) {
            await appendEvents(appenders, table, batch);
            continue;
          }
          let overlay = overlays.get(table);
          if (overlay === undefined) {
            overlay = createOverlay(table.versions);
            overlays.set(table, overlay);
          }
          // A version opened and closed within this write is matched by its valid_from once both are appended.
          const changes = diffStateBatch(table.layout.schema, overlay, batch);
          if (changes.closes.length > 0) {
            await appendCloses(appenders, table.closer, changes.closes);
            closing.add(table.closer);
          }
          if (changes.inserts.length > 0) await appendVersions(appenders, table, changes.inserts);
        }
        if (sampled.length > 0) await logSamples(appenders, sampled, deps.host, store.keyframeMs);
        await appenders.close();
      } catch (error) {
        // Drop what was buffered so a half-appended write never reaches the transaction.
        appenders.discard();
        return Promise.reject(error);
      }
      for (const closer of closing) {
        await store.connection.run(closer.update);
        await store.connection.run(closer.clear);
      }
      // A batch older than what a tier has rolled up: those buckets are rolled up again.
      for (const sample of sampled) {
        const late = store.maintenance.late(sample.table, sample.ts);
        if (late !== undefined) await store.connection.run(late);
      }
      await store.connection.run(`UPDATE ${META_SCHEMA}.sessions SET last_write_at = ${timeLiteral(writeAt)} WHERE id = ${store.sessionId}`);
    }),
    (error) => classifyDuckDbError(error, 'write', deps.name),
  );
  if (!done.ok) {
    // Nothing was written: every batch is rejected, and the remembered versions stay as they were.
    return { result: { status: done.status, ...(rejected.length > 0 ? { rejected: batches.map((_, index) => index) } : {}) }, rows: 0 };
  }
  for (const overlay of overlays.values()) overlay.commit();
  for (const overlay of stored.values()) overlay.commit();
  for (const { batch } of accepted) store.maintenance.wrote(batch.table, batch.ts);
  for (const sample of sampled) {
    sample.unsorted.from = Math.min(sample.unsorted.from ?? sample.ts, sample.ts);
    sample.unsorted.rows += sample.rows;
  }
  store.lastWriteAt = writeAt;
  const rows = accepted.reduce((sum, { batch }) => sum + batch.rows.length, 0);
  return { result: refusal === undefined ? { status: OK } : { status: refusal, rejected }, rows };
}

/**
 * The writable table of a batch, or why the batch cannot be written. The kit refused tables no
 * probe declared; a declared table missing here is one the store could not use. Rows are not
 * checked here: the pipeline checked each against its schema once, for every sink.
 */
function checkBatch(store: OpenStore, batch: Batch, source: string): { ok: true; value: WritableTable } | { ok: false; status: Status } {
  const table = store.tables.get(batch.table);
  if (table === undefined) {
    const status = store.unusable.get(batch.table) ?? fail(StatusCode.INTERNAL, `table '${batch.table}' has no layout in the store`, { source, op: 'write' });
    return { ok: false, status };
  }
  if (!Number.isFinite(batch.ts)) {
    return { ok: false, status: fail(StatusCode.INVALID_ARGUMENT, `${batch.table}: batch time ${String(batch.ts)} is not a number`, { source, op: 'write' }) };
  }
  const timed = validateTimes(table.layout.schema, batch);
  if (!isOk(timed)) return { ok: false, status: { ...timed, source, op: 'write' } };
  return { ok: true, value: table };
}

/**
 * Runs `append` on the table's appender of this write (a staged metric table's rows go to its
 * stage; the writer moves them into vw_raw in entity order), naming the table in what the
 * bindings throw: their conversion errors do not say where (`number is not an integer`).
 */
async function appendTo(appenders: WriteAppenders, table: WritableTable, append: (appender: DuckDBAppender) => void): Promise<void> {
  const appender = await appenders.get(table.layout.schema.name, table.layout.staged ? STAGE_SCHEMA : HISTORY_SCHEMA);
  try {
    append(appender);
  } catch (error) {
    return Promise.reject(new Error(`${table.layout.schema.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
  }
}

/** Appends metric rows and tombstones at `micros`. */
function appendRows(appenders: WriteAppenders, table: WritableTable, rows: readonly Row[], micros: bigint, gone: readonly Row[]): Promise<void> {
  return appendTo(appenders, table, (appender) => {
    for (const row of rows) table.append(appender, row, micros);
    if (table.tombstone !== undefined) for (const row of gone) table.tombstone(appender, row, micros);
  });
}

/** Appends event rows, each at its own time when the batch has per-row times, else at the batch's. */
function appendEvents(appenders: WriteAppenders, table: WritableTable, batch: Batch): Promise<void> {
  const micros = microsOf(batch.ts);
  const { times } = batch;
  return appendTo(appenders, table, (appender) => {
    for (const [index, row] of batch.rows.entries()) table.append(appender, row, times === undefined ? micros : microsOf(times[index]!));
  });
}

/** A metric batch written in a write call: its table, time, and the rows it stored. */
interface LoggedSample {
  readonly table: string;
  readonly micros: bigint;
  readonly ts: number;
  readonly rows: number;
  readonly unsorted: UnsortedRows;
}

/** Records each metric batch's instant in the sample log, so readers know a sample was taken when nothing changed. */
async function logSamples(appenders: WriteAppenders, sampled: readonly LoggedSample[], host: string, keyframeMs: number): Promise<void> {
  const appender = await appenders.get(SAMPLES_NAME, META_SCHEMA);
  for (const sample of sampled) {
    appender.appendVarchar(sample.table);
    appender.appendVarchar(host);
    appender.appendTimestampTZ(new DuckDBTimestampTZValue(sample.micros));
    appender.appendBigInt(BigInt(keyframeMs));
    appender.endRow();
  }
}

/** Lists versions to close in the table's close list; the write's end sets their valid_to in one UPDATE. */
async function appendCloses(appenders: WriteAppenders, closer: VersionCloser, closes: readonly VersionClose[]): Promise<void> {
  const appender = await appenders.get(closer.table, 'main', 'temp');
  for (const close of closes) closer.append(appender, close.version, microsOf(close.at));
}

/** Appends new versions of a state table, each from its own time (and to its end when it is already over). */
function appendVersions(appenders: WriteAppenders, table: WritableTable, inserts: readonly VersionInsert[]): Promise<void> {
  return appendTo(appenders, table, (appender) => {
    for (const insert of inserts) table.append(appender, insert.row, microsOf(insert.from), insert.to === undefined ? undefined : microsOf(insert.to));
  });
}

/**
 * Rewrites the rows this session appended to a metric table since its last sort, ordered by
 * host, key and time, in one transaction (readers see the rows before or after, never both),
 * then checkpoints so DuckDB compresses them in that order (it reclaims the replaced rows when a
 * later checkpoint rewrites their row group). Only the physical order changes. A failure is
 * logged and leaves the rows as they were: they stay correct, only larger.
 */
async function sortRows(store: OpenStore, table: WritableTable, deps: PluginDeps): Promise<void> {
  const name = table.layout.schema.name;
  if (table.layout.staged) {
    // The checkpoint moves the stage into vw_raw first (see checkpoint).
    const room = await checkpointRoom(store.path);
    if (room !== undefined) {
      deps.logger.debug(`Rows of ${name} stay in its stage: ${room}`);
      return;
    }
    const done = await fromPromise(checkpoint(store, deps), (error) => classifyDuckDbError(error, `sort ${name}`, deps.name));
    if (!done.ok) deps.logger.warn(`Rows of ${name} stay in its stage for now: ${done.status.message}`);
    return;
  }
  const from = table.unsorted.from;
  if (from === undefined || table.unsorted.rows === 0) return;
  const target = historyTable(name);
  const order = entityOrder(table);
  const since = `host = $1 AND ts >= ${timeLiteral(from)}`;
  const sorted = await fromPromise(
    inTransaction(store.connection, async () => {
      // Rows this transaction inserts get row ids above every committed one, so the DELETE spares them.
      const last = await store.connection.runAndReadAll(`SELECT max(rowid) FROM ${target}`);
      const lastRowId = last.getRowsJS()[0]?.[0];
      if (lastRowId === null || lastRowId === undefined) return;
      await store.connection.run(`INSERT INTO ${target} SELECT * FROM ${target} WHERE ${since} ORDER BY ${order}`, [deps.host]);
      await store.connection.run(`DELETE FROM ${target} WHERE ${since} AND rowid <= ${String(lastRowId)}`, [deps.host]);
    }),
    (error) => classifyDuckDbError(error, `sort ${name}`, deps.name),
  );
  // A failed sort is not retried at every write: those rows stay in time order.
  table.unsorted.from = undefined;
  table.unsorted.rows = 0;
  if (!sorted.ok) {
    deps.logger.warn(`Rows of ${name} stay in time order: ${sorted.status.message}`);
    return;
  }
  // Out of disk, a checkpoint would invalidate the database (see flush): the sorted rows then wait for a later one.
  const room = await checkpointRoom(store.path);
  if (room !== undefined) {
    deps.logger.debug(`No checkpoint after sorting ${name}: ${room}`);
    return;
  }
  const done = await fromPromise(checkpoint(store, deps), (error) => classifyDuckDbError(error, `sort ${name}`, deps.name));
  if (!done.ok) deps.logger.debug(`No checkpoint after sorting ${name}: ${done.status.message}`);
}

/** A metric table's entity order: host, its stored key columns, ts (quoted, for ORDER BY). */
function entityOrder(table: WritableTable): string {
  const stored = new Set(table.layout.columns.map((column) => column.name));
  return [StoreColumn.HOST, ...table.layout.schema.key.filter((key) => stored.has(key)), StoreColumn.TS].map(quoteIdent).join(', ');
}

/** Rows in a staged table's stage. */
async function stagedRows(connection: DuckDBConnection, name: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${stageTable(name)}`);
  return Number(reader.getRowsJS()[0]?.[0] ?? 0);
}

/**
 * Moves every row of a staged table's stage into its raw table, ordered by host, key and time, in
 * one transaction (readers of `history.<t>` see each row once, before or after). Never checkpointed
 * with rows, the stage's row groups are dropped whole, so the move leaves no free blocks; the moved
 * rows are compressed in that order at the checkpoint that follows (docs/storage.md).
 */
async function moveStage(store: OpenStore, table: WritableTable): Promise<void> {
  const name = table.layout.schema.name;
  // `sortRows: 0` keeps arrival order (DuckDB's INSERT … SELECT preserves it).
  const sorted = store.sortRows > 0 ? ` ORDER BY ${entityOrder(table)}` : '';
  await inTransaction(store.connection, async () => {
    await store.connection.run(`INSERT INTO ${rawTable(name)} BY NAME SELECT * FROM ${stageTable(name)}${sorted}`);
    await store.connection.run(`DELETE FROM ${stageTable(name)}`);
  });
  table.unsorted.from = undefined;
  table.unsorted.rows = 0;
}

/**
 * The writer's checkpoint: the stages of staged tables holding rows are moved first, so that no
 * checkpoint writes them to the file. Rejects with DuckDB's error; callers convert it, and have
 * checked the disk has room (a checkpoint out of disk invalidates the database).
 */
async function checkpoint(store: OpenStore, deps: PluginDeps): Promise<void> {
  let moved = false;
  const pending = [...store.tables.values()].filter((table) => table.layout.staged && table.unsorted.rows > 0);
  // A move logs its rows in the WAL a second time: on a disk without room for that and the
  // checkpoint after it, the stages are checkpointed where they are (their blocks come back at a
  // later move) rather than the WAL left to grow.
  const before = await walSize(store.path);
  const tight = pending.length > 0 ? await checkpointRoom(store.path, 2) : undefined;
  if (tight !== undefined) deps.logger.debug(`Stages checkpointed without a move: ${tight}`);
  for (const table of tight === undefined ? pending : []) {
    // A failed move leaves the rows in the stage (its transaction rolled back): the checkpoint writes them there.
    await moveStage(store, table).then(
      () => (moved = true),
      (error: unknown) => deps.logger.warn(`Rows of ${table.layout.schema.name} stay in its stage: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  // The moves took disk for their WAL bytes, which the caller's check did not count (a checkpoint
  // out of disk invalidates the database). The checkpoint still writes about what the WAL held
  // before them: the moved rows instead of the stage's appends, which it drops.
  const room = moved ? await checkpointRoom(store.path, 1, before) : undefined;
  if (room !== undefined) {
    deps.logger.debug(`No checkpoint after moving the stages: ${room}`);
    return;
  }
  await store.connection.run('CHECKPOINT');
  // Stages checkpointed unmoved count afresh, so a full stage does not ask for a checkpoint at every write; the next move takes them whole.
  if (tight !== undefined) for (const table of pending) table.unsorted.rows = 0;
}

/**
 * Rolls the metric tables into their tiers and applies retention, on the writer's connection
 * between two writes. Never rejects; failures were logged by the maintenance itself.
 */
async function maintain(store: OpenStore, deps: PluginDeps): Promise<void> {
  const report = await store.maintenance.run({ path: store.path, connection: store.connection, checkpoint: () => checkpoint(store, deps) });
  deps.logger.debug('Maintenance ran', {
    tierRows: report.tierRows,
    deletedRows: report.deletedRows,
    failures: report.failures.length,
    rollupMs: Math.round(report.rollupMs),
    retentionMs: Math.round(report.retentionMs),
  });
}

/**
 * Checkpoints once the WAL holds {@link WAL_CHECKPOINT_BYTES}, as DuckDB would on its own (its
 * automatic checkpoint is off for the writer, store.ts), but only when the disk has room: out of
 * disk the rows stay in the WAL and a later write tries again. A failure is logged, not returned:
 * the rows are committed either way.
 */
async function checkpointLongWal(store: OpenStore, deps: PluginDeps): Promise<void> {
  const wal = await stat(`${store.path}.wal`).catch(() => undefined);
  if (wal === undefined || wal.size < WAL_CHECKPOINT_BYTES) return;
  const room = await checkpointRoom(store.path);
  if (room !== undefined) {
    deps.logger.debug(`No checkpoint of a ${wal.size}-byte WAL: ${room}`);
    return;
  }
  const done = await fromPromise(checkpoint(store, deps), (error) => classifyDuckDbError(error, 'checkpoint', deps.name));
  if (!done.ok) deps.logger.warn(`Checkpoint of a ${wal.size}-byte WAL failed: ${done.status.message}`);
}

/** Free space a checkpoint needs beyond the WAL's size: a few blocks of metadata and headers. */
const CHECKPOINT_MARGIN_BYTES = 4 * 65_536;

/**
 * Why a checkpoint of the store at `path` would run out of disk, or undefined when it has room:
 * it copies what the WAL holds into the file, so it needs about the WAL's size and a margin.
 * `walFactor` scales that size (2: room for a move of the stages first), `walBytes` replaces the
 * WAL's size now (its size before the moves). When the free space cannot be read, the checkpoint is tried.
 */
export async function checkpointRoom(path: string, walFactor = 1, walBytes?: number): Promise<string | undefined> {
  const [fs, wal] = await Promise.all([statfs(dirname(path)).catch(() => undefined), stat(`${path}.wal`).catch(() => undefined)]);
  if (fs === undefined) return undefined;
  const free = Number(fs.bavail) * Number(fs.bsize);
  const need = Math.ceil((walBytes ?? wal?.size ?? 0) * walFactor) + CHECKPOINT_MARGIN_BYTES;
  if (free >= need) return undefined;
  return `the store's disk is full (No space left on device): ${free} bytes free where a checkpoint needs about ${need}; every written row stays in the WAL`;
}

/** The WAL's size now (0 when there is none). */
async function walSize(path: string): Promise<number> {
  return (await stat(`${path}.wal`).catch(() => undefined))?.size ?? 0;
}

/** Closes this session's open versions at the close time, ends the session and releases the file. */
async function closeStore(store: OpenStore, deps: PluginDeps): Promise<Status> {
  // A staged table's stage is moved by the close's checkpoint. A table of layout 2 keeps its rows
  // since the last sort in time order: sorting them in place now would leave the replaced rows in the file.
  await store.pool.closeAll();
  const closeAt = Math.max(store.lastWriteAt, deps.clock.now());
  const states = [...store.tables.values()].filter((table) => table.closer !== undefined);
  const ended = await fromPromise(
    inTransaction(store.connection, async () => {
      for (const table of states) {
        await store.connection.run(
          `UPDATE ${historyTable(table.layout.schema.name)} SET valid_to = greatest(valid_from, ${timeLiteral(closeAt)}) WHERE valid_to IS NULL AND host = $1`,
          [deps.host],
        );
      }
      await store.connection.run(
        `UPDATE ${META_SCHEMA}.sessions SET last_write_at = ${timeLiteral(closeAt)}, stopped_at = ${timeLiteral(closeAt)}, stop_reason = '${StopReason.CLOSE}' WHERE id = ${store.sessionId}`,
      );
    }),
    (error) => classifyDuckDbError(error, 'close', deps.name),
  );
  for (const table of states) table.versions.clear();
  for (const table of store.tables.values()) table.samples.clear();
  // Out of disk, a checkpoint would invalidate the database: the WAL keeps the rows for the next open instead.
  const room = await checkpointRoom(store.path);
  const checkpointed =
    room === undefined
      ? await fromPromise(checkpoint(store, deps), (error) => classifyDuckDbError(error, 'close', deps.name))
      : ({ ok: false, status: fail(StatusCode.UNAVAILABLE, room, { source: deps.name, op: 'close' }) } as const);
  safely(() => store.connection.disconnectSync());
  safely(() => store.instance.closeSync());
  const status = !ended.ok ? ended.status : !checkpointed.ok ? checkpointed.status : OK;
  if (isOk(status)) deps.logger.debug('Store closed', { session: store.sessionId });
  return status;
}
