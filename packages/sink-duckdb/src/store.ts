/**
 * Opening a store file with the restrictions every connection inherits (no file access
 * beyond the store, no extension installs or loads, configuration locked) and its memory
 * bounds (buffer pool, a bounded spill directory beside the file), the pool of query
 * connections (prepared before the lock, reset between queries, interrupted at close), and file sizes.
 */
import { statSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { classifyErrno, fail, fromPromise, fromThrowable, StatusCode, type Result, type Status } from '@virtualeyes/core';
import { STORE_NAME, type DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';

/** How a store file is opened. */
export const AccessMode = {
  /** The writer (one process at a time). */
  READ_WRITE: 'READ_WRITE',
  /** An offline reader (refused while a writer holds the file). */
  READ_ONLY: 'READ_ONLY',
} as const;

/** One of the {@link AccessMode} strings. */
export type AccessMode = (typeof AccessMode)[keyof typeof AccessMode];

/**
 * Block size of new store files. DuckDB's default (256 KiB) leaves most of a young recording's
 * file empty: with 64 KiB, an hour of procfs samples takes 2.5 MB instead of 6 MB.
 */
const BLOCK_SIZE = 65_536;

/** The options that {@link instanceOptions} reads. */
type MemoryOptions = Pick<DuckDbConfig, 'memoryLimit' | 'threads'>;

/** Where DuckDB spills what does not fit in `memory_limit`: beside the store, never the working directory. */
export function tempDirectoryOf(path: string): string {
  return `${path}.tmp`;
}

/**
 * DuckDB options of every instance: the query surface may read the store and nothing else, and
 * memory stays bounded. `path` is the store file (its spill directory goes beside it); without
 * it DuckDB keeps its own default. Configuration is locked only by {@link openInstance}, once it
 * has set what DuckDB ignores at start-up.
 */
export function instanceOptions(config: MemoryOptions, mode: AccessMode, path?: string): Record<string, string> {
  return {
    // Before enable_external_access: DuckDB refuses to change the spill directory after it.
    ...(path === undefined ? {} : { temp_directory: tempDirectoryOf(path) }),
    access_mode: mode,
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    memory_limit: config.memoryLimit.trim(),
    threads: String(config.threads),
    // jemalloc purges freed memory only when the arena that freed it allocates again; the query
    // threads' arenas sit idle after a burst, so without its background thread the daemon held
    // 50 MB instead of 32 MB after the memory benchmark's queries (docs/benchmarks.md).
    allocator_background_threads: 'true',
    // The file is read only by this package's DuckDB: use its newest compression and layout.
    storage_compatibility_version: 'latest',
    default_block_size: String(BLOCK_SIZE),
    // DuckDB checkpoints on its own when the WAL passes this, inside whichever commit crosses it,
    // and a checkpoint that runs out of disk invalidates the database (FATAL until reopened). The
    // writer checkpoints at WAL_CHECKPOINT_BYTES itself, after checking the disk has room (sink.ts).
    ...(mode === AccessMode.READ_WRITE ? { checkpoint_threshold: NO_AUTO_CHECKPOINT } : {}),
  };
}

/** DuckDB's automatic checkpoint threshold for the writer: never reached, so no checkpoint happens unchecked. */
const NO_AUTO_CHECKPOINT = '1TB';

/** WAL size at which the writer checkpoints (DuckDB's own default threshold). */
export const WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * DuckDB's buffer of a streaming result on query connections. Its default (976 KiB) is counted
 * without string bytes, so before the first chunk reached the byte limit, a query of 50 KB rows
 * had DuckDB hold 3 GB. It is a per-connection setting that cannot be changed once the
 * configuration is locked, hence the query connections made before the lock.
 */
const QUERY_STREAMING_BUFFER = '1KB';

/** Longest {@link ConnectionPool.closeAll} waits for interrupted queries to be released. */
const CLOSE_WAIT_MS = 2000;

/** An open instance with the query connections made for it before its configuration was locked. */
export interface PooledInstance {
  /** The instance (the writer connects to it). */
  readonly instance: DuckDBInstance;
  /** Its query connections. */
  readonly pool: ConnectionPool;
}

/** Suffix of a store file being created: it takes the store's name only once DuckDB has written it whole. */
export const CREATING_SUFFIX = '.creating';

/**
 * Creates an empty store file at `path` atomically: DuckDB writes it under a scratch name, which
 * is synced and renamed into place. A SIGKILL while DuckDB writes its first blocks then leaves
 * only the scratch file (removed by the next creation), never a file at `path` that is "not a
 * valid DuckDB database file" and would stop every later start. DuckDB gets the store's own
 * options, so the file has the store's block size and storage version.
 */
export async function createStoreFile(path: string, config: MemoryOptions, source: string = STORE_NAME): Promise<Result<void>> {
  const scratch = `${path}${CREATING_SUFFIX}`;
  return fromPromise(
    async () => {
      await rm(scratch, { force: true });
      await rm(`${scratch}.wal`, { force: true });
      // The store's own options: its block size and storage version are fixed when the file is made.
      const instance = await DuckDBInstance.create(scratch, instanceOptions(config, AccessMode.READ_WRITE, path));
      instance.closeSync();
      // A closed new database has checkpointed; a log left beside it would still belong to it.
      const wal = await stat(`${scratch}.wal`).then(
        () => true,
        () => false,
      );
      await syncFile(scratch);
      if (wal) await rename(`${scratch}.wal`, `${path}.wal`);
      await rename(scratch, path);
      await syncFile(dirname(path));
    },
    (error) => classifyErrno(error, `create ${path}`, source),
  );
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens `path` with {@link instanceOptions}, bounds its spill directory and locks its
 * configuration before any other connection exists.
 */
export async function openInstance(path: string, config: DuckDbConfig, mode: AccessMode, source: string = STORE_NAME): Promise<Result<DuckDBInstance>> {
  const opened = await openWith(path, config, mode, 0, source);
  return opened.ok ? { ok: true, value: opened.value.instance } : opened;
}

/**
 * {@link openInstance} with `maxConcurrentQueries` query connections prepared before the lock
 * (a small streaming buffer), pooled for the readers.
 */
export async function openPooledInstance(path: string, config: DuckDbConfig, mode: AccessMode, source: string = STORE_NAME): Promise<Result<PooledInstance>> {
  return openWith(path, config, mode, config.maxConcurrentQueries, source);
}

async function openWith(path: string, config: DuckDbConfig, mode: AccessMode, queryConnections: number, source: string): Promise<Result<PooledInstance>> {
  const opened = await fromPromise(DuckDBInstance.create(path, instanceOptions(config, mode, path)), (error) => classifyDuckDbError(error, `open ${path}`, source));
  if (!opened.ok) return opened;
  const instance = opened.value;
  const prepared: DuckDBConnection[] = [];
  const locked = await fromPromise(
    async () => {
      for (let index = 0; index < queryConnections; index += 1) {
        const connection = await instance.connect();
        prepared.push(connection);
        await connection.run(`SET streaming_buffer_size = '${QUERY_STREAMING_BUFFER}'`);
      }
      await lockConfiguration(instance, config.maxTempDirectorySize.trim());
    },
    (error) => classifyDuckDbError(error, `open ${path}`, source),
  );
  if (!locked.ok) {
    for (const connection of prepared) safely(() => connection.disconnectSync());
    safely(() => instance.closeSync());
    return locked;
  }
  return { ok: true, value: { instance, pool: createConnectionPool(instance, prepared, source) } };
}

/**
 * DuckDB 1.5 accepts `max_temp_directory_size` as an open option but does not enforce it (the
 * spill directory then grows to 90 % of the free disk); set at run time, it holds.
 */
async function lockConfiguration(instance: DuckDBInstance, maxTempDirectorySize: string): Promise<void> {
  const connection = await instance.connect();
  try {
    await connection.run(`SET GLOBAL max_temp_directory_size = '${maxTempDirectorySize.replaceAll("'", "''")}'`);
    await connection.run('SET GLOBAL lock_configuration = true');
  } finally {
    connection.disconnectSync();
  }
}

/** Query connections of one instance, tracked so that closing can stop them. */
export interface ConnectionPool {
  /** An idle pooled connection (a new one if none is idle), or UNAVAILABLE once the pool is closed. */
  open(): Promise<Result<DuckDBConnection>>;
  /**
   * Takes back a connection from {@link open}: ends whatever result it left half-read (and so
   * its transaction) and drops its temporary views, then keeps it for the next caller, or
   * disconnects it if it was an extra one, the cleanup failed or the pool is closed.
   */
  release(connection: DuckDBConnection): Promise<void>;
  /**
   * Interrupts every busy connection and disconnects the idle ones; later opens fail. Resolves
   * once the interrupted queries were released (each by its caller, once it settled), or after
   * `waitMs`, so that the store's last checkpoint finds no transaction of theirs open.
   */
  closeAll(waitMs?: number): Promise<void>;
  /** True once {@link closeAll} ran. */
  isClosed(): boolean;
}

/** Creates a pool over `instance` that reuses `pooled` (prepared connections) before making new ones; its Status carry `source`. */
export function createConnectionPool(instance: DuckDBInstance, pooled: readonly DuckDBConnection[] = [], source: string = STORE_NAME): ConnectionPool {
  const own = new Set(pooled);
  const idle = [...pooled];
  const busy = new Set<DuckDBConnection>();
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  const settle = (): void => {
    if (busy.size > 0) return;
    for (const wake of idleWaiters) wake();
    idleWaiters = [];
  };
  const disconnect = (connection: DuckDBConnection): void => {
    own.delete(connection);
    // A connection that fails to disconnect has nothing left worth reporting.
    safely(() => connection.disconnectSync());
  };
  return {
    async open() {
      if (closed) return { ok: false, status: storeClosed('query', source) };
      const reused = idle.pop();
      if (reused !== undefined) {
        busy.add(reused);
        return { ok: true, value: reused };
      }
      const connection = await fromPromise(instance.connect(), (error) => classifyDuckDbError(error, 'connect', source));
      if (!connection.ok) return connection;
      if (closed) {
        disconnect(connection.value);
        return { ok: false, status: storeClosed('query', source) };
      }
      busy.add(connection.value);
      return connection;
    },
    async release(connection) {
      busy.delete(connection);
      const clean = await fromPromise(resetConnection(connection), (error) => classifyDuckDbError(error, 'release', source));
      if (clean.ok && !closed && own.has(connection)) idle.push(connection);
      else disconnect(connection);
      settle();
    },
    async closeAll(waitMs = CLOSE_WAIT_MS) {
      closed = true;
      // Interrupt only: disconnecting a connection whose query is still unwinding leaves that
      // query's promise unsettled and hangs process exit. Each caller releases its connection
      // once its query settles.
      for (const connection of busy) safely(() => connection.interrupt());
      for (const connection of idle.splice(0)) disconnect(connection);
      if (busy.size === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    isClosed: () => closed,
  };
}

/**
 * Makes a used query connection as new: a statement ends a streaming result left half-read
 * (which otherwise holds its transaction open until garbage collection, and makes the store's
 * final checkpoint fail), and the temporary views of a time-travel query go.
 */
async function resetConnection(connection: DuckDBConnection): Promise<void> {
  await connection.run('SELECT 1');
  const views = await connection.runAndReadAll('SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal');
  for (const [name] of views.getRowsJS()) await connection.run(`DROP VIEW IF EXISTS temp.main."${String(name).replaceAll('"', '""')}"`);
}

/** UNAVAILABLE (not retryable): the store was closed. */
export function storeClosed(op = 'query', source: string = STORE_NAME): Status {
  return fail(StatusCode.UNAVAILABLE, 'the store is closed', { source, op, retryable: false });
}

/** Bytes of the store file and its write-ahead log; undefined when the file does not exist. */
export function storeBytes(path: string): number | undefined {
  const file = sizeOf(path);
  if (file === undefined) return undefined;
  return file + (sizeOf(`${path}.wal`) ?? 0);
}

function sizeOf(path: string): number | undefined {
  // Missing is the normal answer before the first start; an unreadable file counts as unknown too.
  const stat = fromThrowable(() => statSync(path, { throwIfNoEntry: false }), (error) => classifyErrno(error, `stat ${path}`));
  return stat.ok ? stat.value?.size : undefined;
}

/** Runs a cleanup call whose failure changes nothing for the caller. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup of an already broken handle: nothing to report.
  }
}
