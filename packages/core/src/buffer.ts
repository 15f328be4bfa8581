/**
 * The bounded buffer core keeps in front of every sink. Batches are written in order, one
 * write at a time; a retryable failure keeps them and retries with capped exponential
 * backoff and jitter. Beyond the byte and age limits the oldest batches are dropped, and
 * every drop is counted, so nothing is lost silently. With a spill store, batches a previous
 * run left on disk are written first, and at a stop whatever is still queued goes to disk.
 */
import { sleep, type Clock, type Timer } from './clock.js';
import type { BufferConfig } from './config.js';
import type { Hooks } from './hooks.js';
import type { Sink } from './plugin.js';
import type { Batch, Row } from './schema.js';
import type { SpillFile, SpillStore, SpillWrite } from './spill.js';
import { fail, isOk, OK, statusFromError, StatusCode, withSource, type Status } from './status.js';

/** Counters of one sink buffer. */
export interface BufferStats {
  /** Sink instance name. */
  readonly sink: string;
  /** Batches waiting in memory. */
  readonly queuedBatches: number;
  /** Estimated bytes waiting in memory. */
  readonly queuedBytes: number;
  /** Batches written (replayed ones included). */
  readonly writtenBatches: number;
  /** Rows written (replayed ones included). */
  readonly writtenRows: number;
  /** Batches dropped (limits, permanent failures, or no room to spill them). */
  readonly droppedBatches: number;
  /** Rows dropped. */
  readonly droppedRows: number;
  /** Writes retried after a retryable failure. */
  readonly retries: number;
  /** Batches this buffer wrote to its spill directory. */
  readonly spilledBatches: number;
  /** Rows this buffer wrote to its spill directory. */
  readonly spilledRows: number;
  /** Batches read back from the spill directory and written to the sink. */
  readonly replayedBatches: number;
  /** Rows read back from the spill directory and written to the sink. */
  readonly replayedRows: number;
  /** Rows on disk in the spill directory, not yet written to the sink. */
  readonly spillPendingRows: number;
  /** Outcome of the last write. */
  readonly lastStatus: Status;
}

/** A sink's buffer. */
export interface SinkBuffer {
  /** Queues batches and starts writing if idle; after {@link spill}, they go straight to disk. */
  push(batches: readonly Batch[]): void;
  /**
   * Writes everything queued, retrying until `deadline` on the clock and no longer (a write
   * that never returns is abandoned there); without one, or with one already past, one attempt
   * is awaited in full. Then flushes the sink.
   */
  flush(deadline?: number): Promise<Status>;
  /** Stops retry timers. */
  stop(): void;
  /** Stops, and writes every batch still queued to the spill store, synchronously; what cannot be kept is dropped and counted. */
  spill(): SpillWrite;
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
  /** Where batches left at a stop go, and where earlier ones are replayed from first. */
  readonly spill?: SpillStore;
}

interface Pending {
  readonly batch: Batch;
  readonly bytes: number;
  readonly queuedAt: number;
}

/** The spill file being replayed: its batches not yet written, and how many already were. */
interface Replay {
  readonly file: SpillFile;
  readonly items: Pending[];
  consumed: number;
}

/** Creates the buffer for one sink. */
export function createSinkBuffer(options: SinkBufferOptions): SinkBuffer {
  const { sink, config, clock, hooks, spill } = options;
  const random = options.random ?? Math.random;
  const queue: Pending[] = [];
  let queuedBytes = 0;
  let writtenBatches = 0;
  let writtenRows = 0;
  let droppedBatches = 0;
  let droppedRows = 0;
  let retries = 0;
  let spilledBatches = 0;
  let spilledRows = 0;
  let replayedBatches = 0;
  let replayedRows = 0;
  let attempt = 0;
  let lastStatus: Status = OK;
  let writing: Promise<void> | undefined;
  let retryTimer: Timer | undefined;
  let stopped = false;
  // After spill() the queue lives on disk; a write still in flight must not touch it.
  let spilled = false;
  let epoch = 0;
  let replay: Replay | undefined;
  // Spill files skipped for the rest of this run: unreadable (an I/O error, not corruption; still
  // pending), or replayed but not deletable (skipped so their batches are not written twice now).
  const unreadable = new Set<number>();
  const replayedFiles = new Set<number>();

  const removeReplayed = (file: SpillFile): void => {
    const removed = spill?.remove(file) ?? OK;
    if (isOk(removed)) return;
    replayedFiles.add(file.seq);
    report(removed);
  };

  const report = (status: Status): void => {
    if (!isOk(status)) options.onStatus?.(withSource(status, sink.name, status.op ?? 'write'));
  };

  const drop = (items: readonly Pending[], why: string): void => {
    if (items.length === 0) return;
    const rows = countRows(items.map((item) => item.batch));
    droppedBatches += items.length;
    droppedRows += rows;
    report(fail(StatusCode.UNAVAILABLE, `dropped ${items.length} batches (${rows} rows): ${why}`, { op: 'buffer', retryable: false }));
  };

  const take = (from: Pending[], count: number): Pending[] => {
    const removed = from.splice(0, count);
    if (from === queue) for (const item of removed) queuedBytes -= item.bytes;
    return removed;
  };

  const putBack = (into: Pending[], items: readonly Pending[]): void => {
    into.unshift(...items);
    if (into === queue) for (const item of items) queuedBytes += item.bytes;
  };

  const enforceLimits = (): void => {
    const oldest = clock.now() - config.maxAgeMs;
    let expired = 0;
    while (expired < queue.length && queue[expired]!.queuedAt < oldest) expired += 1;
    if (expired > 0) drop(take(queue, expired), `older than ${config.maxAgeMs} ms`);
    let over = 0;
    let bytes = queuedBytes;
    while (bytes > config.maxBytes && over < queue.length - 1) {
      bytes -= queue[over]!.bytes;
      over += 1;
    }
    if (over > 0) drop(take(queue, over), `buffer over ${config.maxBytes} bytes`);
  };

  /** Spill files still to replay this run. */
  const spillFiles = (): readonly SpillFile[] =>
    spill === undefined ? [] : spill.pending().filter((file) => !unreadable.has(file.seq) && !replayedFiles.has(file.seq));

  /** Loads the next spill file to replay; false when none is left. */
  const loadReplay = (): boolean => {
    if (replay !== undefined) return true;
    if (spill === undefined || spilled) return false;
    for (;;) {
      const file = spillFiles()[0];
      if (file === undefined) return false;
      const read = spill.read(file);
      if (!read.ok) {
        // A corrupt file was moved aside by the store (and reported); an unreadable one stays for later.
        if (read.status.code !== StatusCode.PARSE_ERROR) {
          unreadable.add(file.seq);
          report(read.status);
        }
        continue;
      }
      if (read.value.length === 0) {
        removeReplayed(file);
        continue;
      }
      const now = clock.now();
      replay = { file, items: read.value.map((batch) => ({ batch, bytes: 0, queuedAt: now })), consumed: 0 };
      return true;
    }
  };

  const hasWork = (): boolean => queue.length > 0 || loadReplay();

  const written = (item: Pending, replayed: boolean): void => {
    writtenBatches += 1;
    writtenRows += item.batch.rows.length;
    if (!replayed) return;
    replayedBatches += 1;
    replayedRows += item.batch.rows.length;
  };

  /** After a replay chunk: delete the file once every batch of it is done. */
  const settleReplay = (done: number): void => {
    if (replay === undefined) return;
    replay.consumed += done;
    if (replay.items.length > 0) return;
    removeReplayed(replay.file);
    replay = undefined;
  };

  const writeOnce = async (): Promise<boolean> => {
    enforceLimits();
    const replaying = loadReplay();
    const source = replaying ? replay!.items : queue;
    if (source.length === 0) return false;
    const chunk = source.slice(0, config.maxBatchesPerWrite);
    const batches = chunk.map((item) => item.batch);
    hooks?.beforeWrite.call(sink.name, batches);
    const startedIn = epoch;
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
    const failed = new Set(isOk(status) ? [] : (rejected ?? chunk.map((_, index) => index)));
    if (startedIn !== epoch) {
      // spill() ran during the write and already put these batches on disk: count what the sink took, touch nothing else.
      for (const [index, item] of chunk.entries()) if (!failed.has(index)) written(item, replaying);
      return false;
    }
    if (!isOk(status)) report(status);
    const removed = take(source, chunk.length);
    const kept = removed.filter((_, index) => failed.has(index));
    for (const [index, item] of removed.entries()) if (!failed.has(index)) written(item, replaying);
    if (isOk(status) || !status.retryable) {
      attempt = 0;
      drop(kept, `sink refused them: ${status.message}`);
      if (replaying) settleReplay(removed.length);
      return true;
    }
    // Retryable: keep the failed batches (in order) at the front.
    putBack(source, kept);
    if (replaying) settleReplay(removed.length - kept.length);
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
      while (!stopped && retryTimer === undefined && hasWork()) {
        const progressed = await writeOnce();
        if (!progressed && !stopped && hasWork()) {
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

  /** Resolves true when `work` settles within `ms` on the clock, false when the time runs out first. */
  const within = async (work: Promise<void>, ms: number): Promise<boolean> => {
    if (ms <= 0) return false;
    const timeout = new AbortController();
    let finished = false;
    await Promise.race([work.then(() => void (finished = true)), sleep(clock, ms, timeout.signal)]);
    timeout.abort();
    return finished;
  };

  const pendingStatus = (): Status | undefined => {
    const replayItems = replay?.items ?? [];
    const files = spillFiles().filter((file) => file.seq !== replay?.file.seq);
    const batches = queue.length + replayItems.length + files.reduce((sum, file) => sum + file.batches, 0);
    if (batches === 0) return undefined;
    const rows = countRows([...queue, ...replayItems].map((item) => item.batch)) + files.reduce((sum, file) => sum + file.rows, 0);
    return fail(StatusCode.UNAVAILABLE, `${batches} batches (${rows} rows) still pending at flush`, { source: sink.name, op: 'flush' });
  };

  const stop = (): void => {
    stopped = true;
    retryTimer?.cancel();
    retryTimer = undefined;
  };

  const toDisk = (batches: readonly Batch[]): SpillWrite => {
    if (batches.length === 0) return { batches: 0, rows: 0, droppedBatches: 0, droppedRows: 0, status: OK };
    const result: SpillWrite =
      spill === undefined
        ? { batches: 0, rows: 0, droppedBatches: batches.length, droppedRows: countRows(batches), status: fail(StatusCode.UNAVAILABLE, 'no spill directory', { op: 'spill', retryable: false }) }
        : spill.append(batches);
    spilledBatches += result.batches;
    spilledRows += result.rows;
    if (result.droppedBatches > 0) {
      droppedBatches += result.droppedBatches;
      droppedRows += result.droppedRows;
      report(fail(StatusCode.UNAVAILABLE, `dropped ${result.droppedBatches} batches (${result.droppedRows} rows) at stop: could not spill them: ${result.status.message}`, { op: 'spill', retryable: false }));
    }
    return result;
  };

  return {
    push(batches) {
      if (spilled) {
        toDisk(batches);
        return;
      }
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
      for (let first = true; ; first = false) {
        // The caller is waiting: retry now instead of after the planned backoff.
        retryTimer?.cancel();
        retryTimer = undefined;
        const remaining = until - clock.now();
        // One attempt is always awaited in full (a deadline of now means "try once"); later ones only until the deadline.
        if (first && remaining <= 0) await drain();
        else if (!(await within(drain(), remaining))) break;
        if (!hasWork() || stopped) break;
        const left = until - clock.now();
        if (left <= 0) break;
        await sleep(clock, Math.min(left, delay()));
      }
      const pending = pendingStatus();
      if (pending !== undefined) return pending;
      let flushed: Status;
      try {
        flushed = await sink.flush();
      } catch (error) {
        flushed = statusFromError(error, { source: sink.name, op: 'flush' });
      }
      return withSource(flushed, sink.name, 'flush');
    },
    stop,
    spill() {
      stop();
      if (spilled) return { batches: 0, rows: 0, droppedBatches: 0, droppedRows: 0, status: OK };
      spilled = true;
      epoch += 1;
      // The replayed file keeps its place; only its unwritten remainder stays in it.
      if (replay !== undefined && spill !== undefined) {
        if (replay.consumed > 0) report(spill.rewrite(replay.file, replay.items.map((item) => item.batch)));
        replay = undefined;
      }
      return toDisk(take(queue, queue.length).map((item) => item.batch));
    },
    stats() {
      const onDisk = (spill?.pending() ?? []).filter((file) => !replayedFiles.has(file.seq)).reduce((sum, file) => sum + file.rows, 0);
      // The file being replayed is still on disk in full; the part already written no longer counts.
      const consumed = replay === undefined ? 0 : replay.file.rows - countRows(replay.items.map((item) => item.batch));
      return {
        sink: sink.name,
        queuedBatches: queue.length,
        queuedBytes,
        writtenBatches,
        writtenRows,
        droppedBatches,
        droppedRows,
        retries,
        spilledBatches,
        spilledRows,
        replayedBatches,
        replayedRows,
        spillPendingRows: Math.max(0, onDisk - consumed),
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

function countRows(batches: readonly Batch[]): number {
  return batches.reduce((sum, batch) => sum + batch.rows.length, 0);
}
