/**
 * What keeps queries from starving the daemon: a limiter that lets a few calls of one store
 * run at once (each async DuckDB call holds one of Node's libuv threads, which the writer
 * needs too) and queues a few more for a short while, the byte budget a result is counted
 * against while it streams, and the range of instants a request may name.
 */
import { DuckDBListVector, type DuckDBResult } from '@duckdb/node-api';
import { fail, StatusCode, type Cell, type Clock, type Result, type Status, type Timer } from '@virtualeyes/core';
import { toCell } from './cells.js';
import { STORE_NAME, type DuckDbConfig } from './config.js';
import { storeClosed, type ConnectionPool } from './store.js';

/** How long a refused call is told to wait before trying again. */
export const RETRY_AFTER_MS = 1000;

/** Bytes counted for every cell on top of its text: a number, the quotes and separators. */
export const CELL_BYTES = 16;

/** Earliest instant a request may name: 0001-01-01T00:00:00.000Z (DuckDB holds earlier, nothing is recorded then). */
export const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');

/** Latest instant a request may name: 9999-12-31T23:59:59.999Z. */
export const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** How far past the clock a request's instant may be before it counts as the future. */
export const FUTURE_SKEW_MS = 1000;

/** Limits of a {@link QueryLimiter}. */
export interface LimiterOptions {
  /** Calls that may run at once. */
  readonly maxConcurrent: number;
  /** Calls that may wait for a slot. */
  readonly maxQueued: number;
  /** Longest a call waits for a slot. */
  readonly queueWaitMs: number;
  /** Timer of the queue wait. */
  readonly clock: Clock;
  /** True once the store closed: waiting calls are then refused as closed, not as busy. */
  readonly isClosed: () => boolean;
  /** Status source of its refusals (the instance name); the store's name by default. */
  readonly source?: string;
}

/** Admission of the calls of one store: a few run, a few wait in order, the rest are refused. */
export interface QueryLimiter {
  /** Runs `work` once a slot is free, or answers UNAVAILABLE when none frees in time. */
  run<T>(op: string, work: () => Promise<Result<T>>): Promise<Result<T>>;
}

interface Waiter {
  readonly op: string;
  readonly grant: (refusal: Status | undefined) => void;
  timer?: Timer;
}

/** The limiter of one open store, from its config: shared by every reader of `pool`. */
export function createStoreLimiter(
  config: Pick<DuckDbConfig, 'maxConcurrentQueries' | 'maxQueuedQueries' | 'queueWaitMs'>,
  pool: Pick<ConnectionPool, 'isClosed'>,
  clock: Clock,
  source: string = STORE_NAME,
): QueryLimiter {
  return createQueryLimiter({
    maxConcurrent: config.maxConcurrentQueries,
    maxQueued: config.maxQueuedQueries,
    queueWaitMs: config.queueWaitMs,
    clock,
    isClosed: () => pool.isClosed(),
    source,
  });
}

/** Creates a limiter; calls are admitted first come, first served. */
export function createQueryLimiter(options: LimiterOptions): QueryLimiter {
  let running = 0;
  const waiting: Waiter[] = [];
  const source = options.source ?? STORE_NAME;
  const closed = (op: string): Status => storeClosed(op, source);

  const busy = (op: string): Status =>
    fail(StatusCode.UNAVAILABLE, `too many queries running (${running} of ${options.maxConcurrent}); retry in ${RETRY_AFTER_MS / 1000} s`, {
      source,
      op,
      retryable: true,
      retryAfterMs: RETRY_AFTER_MS,
    });

  /** Resolves with undefined once the call holds a slot, or with why it never will. */
  const acquire = (op: string): Promise<Status | undefined> => {
    if (options.isClosed()) return Promise.resolve(closed(op));
    if (running < options.maxConcurrent) {
      running += 1;
      return Promise.resolve(undefined);
    }
    if (waiting.length >= options.maxQueued) return Promise.resolve(busy(op));
    return new Promise((resolve) => {
      const waiter: Waiter = { op, grant: resolve };
      waiter.timer = options.clock.setTimer(() => {
        const index = waiting.indexOf(waiter);
        if (index < 0) return;
        waiting.splice(index, 1);
        resolve(options.isClosed() ? closed(op) : busy(op));
      }, options.queueWaitMs);
      waiting.push(waiter);
    });
  };

  const release = (): void => {
    running -= 1;
    // The slot passes straight to the oldest waiter, so a newcomer cannot overtake it.
    while (running < options.maxConcurrent) {
      const next = waiting.shift();
      if (next === undefined) return;
      next.timer?.cancel();
      if (options.isClosed()) {
        next.grant(closed(next.op));
        continue;
      }
      running += 1;
      next.grant(undefined);
    }
  };

  return {
    async run(op, work) {
      const refusal = await acquire(op);
      if (refusal !== undefined) return { ok: false, status: refusal };
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

/** The rows of a result that fitted both limits. */
export interface ReadRows {
  /** Converted rows, at most `maxRows`. */
  readonly rows: Cell[][];
  /** True when more rows followed the last one kept. */
  readonly truncated: boolean;
  /** What the kept rows count against the byte budget. */
  readonly bytes: number;
}

/**
 * Fetches and converts `result` cell by cell, one chunk at a time, until `maxRows` rows or
 * the end; INVALID_ARGUMENT the moment the converted cells pass `maxBytes`, so the JS heap
 * never holds more than one chunk and the budget.
 */
export async function readRows(
  result: DuckDBResult,
  maxRows: number,
  maxBytes: number,
  source: string = STORE_NAME,
  op = 'query',
): Promise<Result<ReadRows>> {
  const rows: Cell[][] = [];
  let bytes = 0;
  const tooLarge = (): Result<ReadRows> => ({
    ok: false,
    status: fail(
      StatusCode.INVALID_ARGUMENT,
      `result too large: more than ${formatBytes(maxBytes)} (${rows.length} rows read); select fewer columns or rows, or add LIMIT`,
      { source, op },
    ),
  });
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) return { ok: true, value: { rows, truncated: false, bytes } };
    try {
      const vectors = Array.from({ length: chunk.columnCount }, (_, index) => chunk.getColumnVector(index));
      for (let index = 0; index < chunk.rowCount; index += 1) {
        if (rows.length === maxRows) return { ok: true, value: { rows, truncated: true, bytes } };
        const row: Cell[] = [];
        for (const vector of vectors) {
          // A list converts whole: one cell of a million elements must not be built to be counted.
          if (vector instanceof DuckDBListVector && bytes + (vector.getItemVector(index)?.itemCount ?? 0) * CELL_BYTES > maxBytes) return tooLarge();
          const cell = toCell(vector.getItem(index));
          bytes += cellBytes(cell);
          if (bytes > maxBytes) return tooLarge();
          row.push(cell);
        }
        rows.push(row);
      }
    } finally {
      // Free the chunk's native memory now (the converted cells are copies): V8 sees only a small
      // wrapper, so waiting for its garbage collection let each 100 MB chunk of wide rows pile up.
      chunk.reset();
    }
  }
}

/** Bytes a converted cell is counted as: text and blob lengths plus {@link CELL_BYTES} per value. */
export function cellBytes(cell: Cell): number {
  if (typeof cell === 'string') return CELL_BYTES + cell.length;
  if (cell === null || typeof cell !== 'object') return CELL_BYTES;
  let bytes = CELL_BYTES;
  if (Array.isArray(cell)) {
    for (const item of cell as readonly Cell[]) bytes += cellBytes(item);
    return bytes;
  }
  for (const [key, value] of Object.entries(cell)) bytes += key.length + cellBytes(value);
  return bytes;
}

/** `16 MiB`, `64 KiB` or `1000 bytes`: a byte count as people write it in config. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}
