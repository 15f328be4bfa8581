/**
 * The bounded buffer core keeps in front of every sink. Batches are written in order, one
 * write at a time; a retryable failure keeps them and retries with capped exponential
 * backoff and jitter. Beyond the byte and age limits the oldest batches are dropped, and
 * every drop is counted, so nothing is lost silently.
 */
import { sleep, type Clock, type Timer } from './clock.js';
import type { BufferConfig } from './config.js';
import type { Hooks } from './hooks.js';
import type { Sink } from './plugin.js';
import type { Batch, Row } from './schema.js';
import { fail, isOk, OK, statusFromError, StatusCode, withSource, type Status } from './status.js';

/** Counters of one sink buffer. */
export interface BufferStats {
  /** Sink instance name. */
  readonly sink: string;
  /** Batches waiting. */
  readonly queuedBatches: number;
  /** Estimated bytes waiting. */
  readonly queuedBytes: number;
  /** Batches written. */
  readonly writtenBatches: number;
  /** Rows written. */
  readonly writtenRows: number;
  /** Batches dropped (limits or permanent failures). */
  readonly droppedBatches: number;
  /** Rows dropped. */
  readonly droppedRows: number;
  /** Writes retried after a retryable failure. */
  readonly retries: number;
  /** Outcome of the last write. */
  readonly lastStatus: Status;
}

/** A sink's buffer. */
export interface SinkBuffer {
  /** Queues batches and starts writing if idle. */
  push(batches: readonly Batch[]): void;
  /** Writes everything queued (retrying until `deadline` on the clock), then flushes the sink. */
  flush(deadline?: number): Promise<Status>;
  /** Stops retry timers. */
  stop(): void;
  /** Counters. */
  stats(): BufferStats;
}

/** Options for {@link createSinkBuffer}. */
export interface SinkBufferOptions {
  /** The sink written to. */
  readonly sink: Sink;
  /** Limits and retry timing. */
  readonly config: BufferConfig;
  /** Time source. */
  readonly clock: Clock;
  /** Hooks called around writes (`beforeWrite`, `sinkResult`). */
  readonly hooks?: Hooks;
  /** Receives failing statuses (already tagged with the sink name). */
  readonly onStatus?: (status: Status) => void;
  /** Random source for jitter. @default Math.random */
  readonly random?: () => number;
}

interface Pending {
  readonly batch: Batch;
  readonly bytes: number;
  readonly queuedAt: number;
}

/** Creates the buffer for one sink. */
export function createSinkBuffer(options: SinkBufferOptions): SinkBuffer {
  const { sink, config, clock, hooks } = options;
  const random = options.random ?? Math.random;
  const queue: Pending[] = [];
  let queuedBytes = 0;
  let writtenBatches = 0;
  let writtenRows = 0;
  let droppedBatches = 0;
  let droppedRows = 0;
  let retries = 0;
  let attempt = 0;
  let lastStatus: Status = OK;
  let writing: Promise<void> | undefined;
  let retryTimer: Timer | undefined;
  let stopped = false;

  const report = (status: Status): void => {
    if (!isOk(status)) options.onStatus?.(withSource(status, sink.name, status.op ?? 'write'));
  };

  const drop = (items: readonly Pending[], why: string): void => {
    if (items.length === 0) return;
    const rows = items.reduce((sum, item) => sum + item.batch.rows.length, 0);
    droppedBatches += items.length;
    droppedRows += rows;
    report(fail(StatusCode.UNAVAILABLE, `dropped ${items.length} batches (${rows} rows): ${why}`, { op: 'buffer', retryable: false }));
  };

  const remove = (count: number): Pending[] => {
    const removed = queue.splice(0, count);
    for (const item of removed) queuedBytes -= item.bytes;
    return removed;
  };

  const enforceLimits = (): void => {
    const oldest = clock.now() - config.maxAgeMs;
    let expired = 0;
    while (expired < queue.length && queue[expired]!.queuedAt < oldest) expired += 1;
    if (expired > 0) drop(remove(expired), `older than ${config.maxAgeMs} ms`);
    let over = 0;
    let bytes = queuedBytes;
    while (bytes > config.maxBytes && over < queue.length - 1) {
      bytes -= queue[over]!.bytes;
      over += 1;
    }
    if (over > 0) drop(remove(over), `buffer over ${config.maxBytes} bytes`);
  };

  const writeOnce = async (): Promise<boolean> => {
    enforceLimits();
    if (queue.length === 0) return false;
    const chunk = queue.slice(0, config.maxBatchesPerWrite);
    const batches = chunk.map((item) => item.batch);
    hooks?.beforeWrite.call(sink.name, batches);
    let status: Status;
    let rejected: readonly number[] | undefined;
    try {
      const result = await sink.write(batches);
      status = result.status;
      rejected = result.rejected;
    } catch (error) {
      // Sinks must not throw; one that does is treated as a retryable failure of the whole write.
      status = statusFromError(error, { code: StatusCode.INTERNAL, source: sink.name, op: 'write', retryable: true });
    }
    lastStatus = status;
    hooks?.sinkResult.call(sink.name, status);
    if (isOk(status)) {
      attempt = 0;
      for (const item of remove(chunk.length)) {
        writtenBatches += 1;
        writtenRows += item.batch.rows.length;
      }
      return true;
    }
    report(status);
    const failed = new Set(rejected ?? chunk.map((_, index) => index));
    if (!status.retryable) {
      attempt = 0;
      const removed = remove(chunk.length);
      const lost = removed.filter((_, index) => failed.has(index));
      for (const [index, item] of removed.entries()) {
        if (failed.has(index)) continue;
        writtenBatches += 1;
        writtenRows += item.batch.rows.length;
      }
      drop(lost, `sink refused them: ${status.message}`);
      return true;
    }
    // Retryable: keep the failed batches (in order) at the front, count the rest as written.
    const removed = remove(chunk.length);
    const keep = removed.filter((_, index) => failed.has(index));
    for (const [index, item] of removed.entries()) {
      if (failed.has(index)) continue;
      writtenBatches += 1;
      writtenRows += item.batch.rows.length;
    }
    queue.unshift(...keep);
    for (const item of keep) queuedBytes += item.bytes;
    attempt += 1;
    retries += 1;
    return false;
  };

  const delay = (): number => {
    const base = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base / 2 + (random() * base) / 2);
  };

  const drain = (): Promise<void> => {
    if (writing !== undefined) return writing;
    writing = (async () => {
      while (!stopped && retryTimer === undefined && queue.length > 0) {
        const progressed = await writeOnce();
        if (!progressed && queue.length > 0 && !stopped) {
          retryTimer = clock.setTimer(() => {
            retryTimer = undefined;
            void drain();
          }, delay());
        }
      }
    })().finally(() => {
      writing = undefined;
    });
    return writing;
  };

  return {
    push(batches) {
      const now = clock.now();
      for (const batch of batches) {
        const bytes = estimateBytes(batch.rows);
        queue.push({ batch, bytes, queuedAt: now });
        queuedBytes += bytes;
      }
      enforceLimits();
      if (!stopped) void drain();
    },
    async flush(deadline) {
      const until = deadline ?? clock.now();
      for (;;) {
        // The caller is waiting: retry now instead of after the planned backoff.
        retryTimer?.cancel();
        retryTimer = undefined;
        await drain();
        if (queue.length === 0 || stopped) break;
        const remaining = until - clock.now();
        if (remaining <= 0) break;
        await sleep(clock, Math.min(remaining, delay()));
      }
      if (queue.length > 0) {
        const rows = queue.reduce((sum, item) => sum + item.batch.rows.length, 0);
        return fail(StatusCode.UNAVAILABLE, `${queue.length} batches (${rows} rows) still pending at flush`, {
          source: sink.name,
          op: 'flush',
        });
      }
      let flushed: Status;
      try {
        flushed = await sink.flush();
      } catch (error) {
        flushed = statusFromError(error, { source: sink.name, op: 'flush' });
      }
      return withSource(flushed, sink.name, 'flush');
    },
    stop() {
      stopped = true;
      retryTimer?.cancel();
      retryTimer = undefined;
    },
    stats() {
      return {
        sink: sink.name,
        queuedBatches: queue.length,
        queuedBytes,
        writtenBatches,
        writtenRows,
        droppedBatches,
        droppedRows,
        retries,
        lastStatus,
      };
    },
  };
}

/** A cheap estimate of a batch's memory: 16 bytes per cell plus string lengths. */
export function estimateBytes(rows: readonly Row[]): number {
  let bytes = 64;
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      bytes += 16;
      if (typeof value === 'string') bytes += value.length;
      else if (Array.isArray(value)) for (const item of value as readonly string[]) bytes += item.length + 8;
    }
  }
  return bytes;
}
