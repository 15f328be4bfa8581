/**
 * Opening a store file with the restrictions every connection inherits (no file access
 * beyond the store, no extension installs or loads, configuration locked) and its memory
 * bounds (buffer pool, a bounded spill directory beside the file), a pool that tracks the
 * short-lived query connections so closing can interrupt them, and file sizes.
 */
import { statSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { classifyErrno, fail, fromPromise, fromThrowable, StatusCode, type Result, type Status } from '@virtualeyes/core';
import type { DuckDbConfig } from './config.js';
import { classifyDuckDbError } from './errors.js';
import { SINK_NAME } from './manifest.js';

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
    // The file is read only by this package's DuckDB: use its newest compression and layout.
    storage_compatibility_version: 'latest',
    default_block_size: String(BLOCK_SIZE),
  };
}

/**
 * Opens `path` with {@link instanceOptions}, bounds its spill directory and locks its
 * configuration before any other connection exists.
 */
export async function openInstance(path: string, config: DuckDbConfig, mode: AccessMode): Promise<Result<DuckDBInstance>> {
  const opened = await fromPromise(DuckDBInstance.create(path, instanceOptions(config, mode, path)), (error) => classifyDuckDbError(error, `open ${path}`));
  if (!opened.ok) return opened;
  const instance = opened.value;
  const locked = await fromPromise(lockConfiguration(instance, config.maxTempDirectorySize.trim()), (error) => classifyDuckDbError(error, `open ${path}`));
  if (!locked.ok) {
    safely(() => instance.closeSync());
    return locked;
  }
  return opened;
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
  /** A new connection, or UNAVAILABLE once the pool is closed. */
  open(): Promise<Result<DuckDBConnection>>;
  /** Disconnects a connection from {@link open}. */
  release(connection: DuckDBConnection): void;
  /** Interrupts every open connection (each is released by its caller once its query settles); later opens fail. */
  closeAll(): void;
  /** True once {@link closeAll} ran. */
  isClosed(): boolean;
}

/** Creates a pool over `instance`. */
export function createConnectionPool(instance: DuckDBInstance): ConnectionPool {
  const open = new Set<DuckDBConnection>();
  let closed = false;
  const disconnect = (connection: DuckDBConnection): void => {
    open.delete(connection);
    // A connection that fails to disconnect has nothing left worth reporting.
    safely(() => connection.disconnectSync());
  };
  return {
    async open() {
      if (closed) return { ok: false, status: storeClosed() };
      const connection = await fromPromise(instance.connect(), (error) => classifyDuckDbError(error, 'connect'));
      if (!connection.ok) return connection;
      if (closed) {
        disconnect(connection.value);
        return { ok: false, status: storeClosed() };
      }
      open.add(connection.value);
      return connection;
    },
    release: disconnect,
    closeAll() {
      closed = true;
      // Interrupt only: disconnecting a connection whose query is still unwinding leaves that
      // query's promise unsettled and hangs process exit. Each caller releases its connection
      // once its query settles.
      for (const connection of [...open]) safely(() => connection.interrupt());
    },
    isClosed: () => closed,
  };
}

/** UNAVAILABLE (not retryable): the store was closed. */
export function storeClosed(op = 'query'): Status {
  return fail(StatusCode.UNAVAILABLE, 'the store is closed', { source: SINK_NAME, op, retryable: false });
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
