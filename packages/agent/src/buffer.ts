/**
 * The bounded buffer core keeps in front of every sink. Batches are written in order, one
 * write at a time; a retryable failure keeps them and retries with capped exponential backoff
 * and jitter. Memory holds at most `maxBytes` for at most `maxAgeMs`: beyond either, the oldest
 * batches move to the sink's spill directory (one bounded piece per push or write attempt, so
 * the synchronous file write stays short), and everything on disk is written before anything
 * newer in memory, mid-run and after a restart alike. Only beyond the spill limits
 * (`spillMaxBytes`, oldest files first; `spillMaxAgeMs`) or with spilling off are batches
 * dropped, and every drop is counted by reason and reported once per outage, never silently.
 * At a stop whatever is still in memory goes to disk too.
 */
import { fail, isOk, OK, sleep, StatusCode, statusFromError, withSource, type Batch, type Clock, type Hooks, type Row, type Sink, type Status, type Timer } from '@virtualeyes/core';
import type { BufferConfig } from './config.js';
import type { SpillFile, SpillStore, SpillWrite } from './spill.js';

/** Why a buffer dropped batches; each reason is counted on its own. */
export const DropReason = {
  /** The sink refused them permanently (a non-retryable status). */
  REFUSED: 'refused',
  /** Over the memory limits (`maxBytes`, `maxAgeMs`) with spilling off. */
  MEMORY: 'memory',
  /** The spill directory was full (`spillMaxBytes`: the oldest files go first) or could not be written. */
  SPILL: 'spill',
  /** On disk longer than `spillMaxAgeMs`. */
  AGE: 'age',
} as const;

/** One of the {@link DropReason} strings. */
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Batches and rows dropped for one reason. */
export interface DropCount {
  /** Batches dropped. */
  readonly batches: number;
  /** Rows of those batches. */
  readonly rows: number;
}

/** Counters of one sink buffer. */
export interface BufferStats {
  /** Sink instance name. */
  readonly sink: string;
  /** Batches waiting in memory. */
  readonly queuedBatches: number;
  /** Estimated bytes waiting in memory (a spill file being replayed is not counted: it is on disk). */
  readonly queuedBytes: number;
  /** Batches written (replayed ones included). */
  readonly writtenBatches: number;
  /** Rows written (replayed ones included). */
  readonly writtenRows: number;
  /** Batches dropped (limits, permanent failures, or no room to spill them); {@link droppedBy} splits them by reason. */
  readonly droppedBatches: number;
  /** Rows dropped. */
  readonly droppedRows: number;
  /** Drops by reason; the batches and rows add up to {@link droppedBatches} and {@link droppedRows}. */
  readonly droppedBy: Readonly<Record<DropReason, DropCount>>;
  /** Writes retried after a retryable failure. */
  readonly retries: number;
  /** Batches this buffer wrote to its spill directory (while running and at a stop). */
  readonly spilledBatches: number;
  /** Rows this buffer wrote to its spill directory (while running and at a stop). */
  readonly spilledRows: number;
  /** Batches moved to the spill directory while running (memory limits reached), a part of {@link spilledBatches}. */
  readonly runSpilledBatches: number;
  /** Rows moved to the spill directory while running. */
  readonly runSpilledRows: number;
  /** Batches read back from the spill directory and written to the sink. */
  readonly replayedBatches: number;
  /** Rows read back from the spill directory and written to the sink. */
  readonly replayedRows: number;
  /** Rows on disk in the spill directory, not yet written to the sink. */
  readonly spillPendingRows: number;
  /** Bytes of the spill files still to replay. */
  readonly spillPendingBytes: number;
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
  /**
   * Stops, and writes every batch still in memory to the spill store, synchronously, keeping the
   * global order; what cannot be kept is dropped and counted (the oldest spill files first).
   */
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
  /** Where batches go when memory is full or at a stop, and where earlier ones are replayed from first. */
  readonly spill?: SpillStore;
}

/**
 * Most estimated bytes moved to disk in one synchronous piece while running (a piece is one
 * spill file, fsynced). Encoding dominates: on a 2-core VM a 1 MiB piece took about 40 ms and a
 * 4 MiB one about 100 ms, so 1 MiB keeps the stall well under a collection interval while a
 * 256 MiB spill directory is still only some 256 files. A larger push is spilled in several pieces.
 */
export const SPILL_PIECE_BYTES = 1024 * 1024;

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

/** Where the batches of a write come from, in the order they are written. */
type Source = 'head' | 'replay' | 'queue';

const NOTHING_SPILLED: SpillWrite = { batches: 0, rows: 0, droppedBatches: 0, droppedRows: 0, status: OK };

/**
 * Creates the buffer for one sink.
 *
 * Order: `head` (batches of a write that failed after newer ones went to disk), then the spill
 * files oldest first (one, `replay`, read into memory at a time), then `queue`. Only the queue is
 * ever spilled while running, from its front, and never the part in flight (`locked`), so disk
 * always holds batches older than the queue and newer than the head, and no batch is both
 * written and spilled. At a stop the head is put back in front of the first spill file.
 */
export function createSinkBuffer(options: SinkBufferOptions): SinkBuffer {
  const { sink, config, clock, hooks, spill } = options;
  const random = options.random ?? Math.random;
  const piece = Math.min(SPILL_PIECE_BYTES, Math.max(1, Math.floor(config.maxBytes / 2)));
  const queue: Pending[] = [];
  const head: Pending[] = [];
  // Batches at the queue's front handed to the write in flight: neither spilled nor dropped meanwhile.
  let locked = 0;
  let inFlight: Source | undefined;
  let queuedBytes = 0;
  let writtenBatches = 0;
  let writtenRows = 0;
  let droppedBatches = 0;
  let droppedRows = 0;
  const droppedBy: Record<DropReason, { batches: number; rows: number }> = {
    refused: { batches: 0, rows: 0 },
    memory: { batches: 0, rows: 0 },
    spill: { batches: 0, rows: 0 },
    age: { batches: 0, rows: 0 },
  };
  let retries = 0;
  let spilledBatches = 0;
  let spilledRows = 0;
  let runSpilledBatches = 0;
  let runSpilledRows = 0;
  // Counts running spills, so a write can tell whether newer batches went to disk while it ran.
  let runSpills = 0;
  let replayedBatches = 0;
  let replayedRows = 0;
  let attempt = 0;
  let lastStatus: Status = OK;
  let writing: Promise<void> | undefined;
  let retryTimer: Timer | undefined;
  // The write window: queued batches wait until the oldest is writeWindowMs old (or a flush asks).
  let windowTimer: Timer | undefined;
  let flushing = 0;
  let stopped = false;
  // After spill() the queue lives on disk; a write still in flight must not touch it.
  let spilled = false;
  let epoch = 0;
  let replay: Replay | undefined;
  // What was reported in this outage (spilling started, a kind of drop): once each until a write succeeds again.
  const episode = new Set<string>();
  // Spill files skipped for the rest of this run: unreadable (an I/O error, not corruption; still
  // pending), or done with but not deletable (replayed, or dropped; skipped so they are not written now).
  const unreadable = new Set<number>();
  const doneFiles = new Set<number>();

  const report = (status: Status): void => {
    if (!isOk(status)) options.onStatus?.(withSource(status, sink.name, status.op ?? 'write'));
  };

  const removeFile = (file: SpillFile): void => {
    const removed = spill?.remove(file) ?? OK;
    if (isOk(removed)) return;
    doneFiles.add(file.seq);
    report(removed);
  };

  /** Counts a drop; refusals and drops at a stop are reported each time, the rest once per outage. */
  const dropped = (reason: DropReason, batches: number, rows: number, why: string, always = reason === DropReason.REFUSED): void => {
    if (batches === 0) return;
    droppedBatches += batches;
    droppedRows += rows;
    droppedBy[reason].batches += batches;
    droppedBy[reason].rows += rows;
    if (!always && episode.has(reason)) return;
    if (!always) episode.add(reason);
    const more = always ? '' : '; further drops for this reason are counted, not reported, until the sink takes writes again';
    const op = reason === DropReason.SPILL || reason === DropReason.AGE ? 'spill' : 'buffer';
    report(fail(StatusCode.UNAVAILABLE, `dropped ${batches} batches (${rows} rows): ${why}${more}`, { op, retryable: false }));
  };

  const drop = (items: readonly Pending[], reason: DropReason, why: string): void =>
    dropped(reason, items.length, countRows(items.map((item) => item.batch)), why);

  const take = (from: Pending[], start: number, count: number): Pending[] => {
    const removed = from.splice(start, count);
    if (from !== head && from !== queue) return removed;
    for (const item of removed) queuedBytes -= item.bytes;
    return removed;
  };

  const putBack = (into: Pending[], items: readonly Pending[]): void => {
    into.unshift(...items);
    if (into !== head && into !== queue) return;
    for (const item of items) queuedBytes += item.bytes;
  };

  /** Spill files still to replay this run. */
  const spillFiles = (): readonly SpillFile[] =>
    spill === undefined ? [] : spill.pending().filter((file) => !unreadable.has(file.seq) && !doneFiles.has(file.seq));

  /** Deletes the oldest spill file not being written, counting its rows as dropped; false when there is none. */
  const evictOldest = (why: DropReason, message: string, before = Infinity): boolean => {
    for (const file of spillFiles()) {
      if (file.createdAt >= before) continue;
      if (replay?.file.seq === file.seq) {
        // Its batches are with the sink right now: the next file goes instead.
        if (inFlight === 'replay') continue;
        drop(replay.items, why, message);
        replay = undefined;
      } else {
        dropped(why, file.batches, file.rows, message);
      }
      removeFile(file);
      return true;
    }
    return false;
  };

  const makeRoom = (): boolean => evictOldest(DropReason.SPILL, `spill directory full (spillMaxBytes ${config.spillMaxBytes}): oldest spilled batches deleted unwritten`);

  const expireSpill = (): void => {
    // Written as a negation so that a config from before this option (no value) means no age limit.
    if (spill === undefined || !(config.spillMaxAgeMs > 0)) return;
    const before = clock.now() - config.spillMaxAgeMs;
    const why = `spilled more than ${config.spillMaxAgeMs} ms ago (spillMaxAgeMs)`;
    while (evictOldest(DropReason.AGE, why, before)) {
      // Each call deletes one expired file.
    }
  };

  const canSpill = (): boolean => spill !== undefined && config.spillMaxBytes > 0 && !spilled;

  /** Moves batches from memory to the end of the spill directory while running; what cannot be kept is dropped. */
  const moveToDisk = (items: readonly Pending[]): void => {
    const batches = items.map((item) => item.batch);
    runSpills += 1;
    const result = spill!.append(batches, makeRoom);
    spilledBatches += result.batches;
    spilledRows += result.rows;
    runSpilledBatches += result.batches;
    runSpilledRows += result.rows;
    if (result.batches > 0 && !episode.has('spilling')) {
      episode.add('spilling');
      const message = `sink is not taking writes: moving the oldest batches to ${spill!.dir} (memory limits ${config.maxBytes} bytes, ${config.maxAgeMs} ms); they are written first when it recovers`;
      report(fail(StatusCode.UNAVAILABLE, message, { op: 'spill', retryable: true }));
    }
    dropped(DropReason.SPILL, result.droppedBatches, result.droppedRows, `could not spill them: ${result.status.message}`);
  };

  const enforceLimits = (): void => {
    expireSpill();
    const oldest = clock.now() - config.maxAgeMs;
    const aged = (): boolean => locked < queue.length && queue[locked]!.queuedAt < oldest;
    if (canSpill()) {
      // Over the byte limit: spill until under it. Past the age limit: one piece per call, so a
      // long outage's backlog goes to disk over several pushes instead of in one long stall.
      for (let pieces = 0; queuedBytes > config.maxBytes || (pieces === 0 && aged()); pieces += 1) {
        let count = 0;
        let bytes = 0;
        while (locked + count < queue.length && (count === 0 || bytes < piece)) {
          bytes += queue[locked + count]!.bytes;
          count += 1;
        }
        if (count === 0) break;
        moveToDisk(take(queue, locked, count));
      }
      return;
    }
    let expired = 0;
    while (locked + expired < queue.length && queue[locked + expired]!.queuedAt < oldest) expired += 1;
    if (expired > 0) drop(take(queue, locked, expired), DropReason.MEMORY, `older than ${config.maxAgeMs} ms and spilling is off`);
    let over = 0;
    let bytes = queuedBytes;
    while (bytes > config.maxBytes && locked + over < queue.length - 1) {
      bytes -= queue[locked + over]!.bytes;
      over += 1;
    }
    if (over > 0) drop(take(queue, locked, over), DropReason.MEMORY, `buffer over ${config.maxBytes} bytes and spilling is off`);
  };

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
        removeFile(file);
        continue;
      }
      const now = clock.now();
      replay = { file, items: read.value.map((batch) => ({ batch, bytes: 0, queuedAt: now })), consumed: 0 };
      return true;
    }
  };

  const hasWork = (): boolean => head.length > 0 || queue.length > 0 || loadReplay();

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
    removeFile(replay.file);
    replay = undefined;
  };

  const writeOnce = async (): Promise<boolean> => {
    enforceLimits();
    const source: Source = head.length > 0 ? 'head' : loadReplay() ? 'replay' : 'queue';
    const items = source === 'head' ? head : source === 'replay' ? replay!.items : queue;
    if (items.length === 0) return false;
    const replaying = source === 'replay';
    const chunk = items.slice(0, config.maxBatchesPerWrite);
    const batches = chunk.map((item) => item.batch);
    hooks?.beforeWrite.call(sink.name, batches);
    const startedIn = epoch;
    const spillsBefore = runSpills;
    inFlight = source;
    if (source === 'queue') locked = chunk.length;
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
    inFlight = undefined;
    locked = 0;
    lastStatus = status;
    hooks?.sinkResult.call(sink.name, status);
    const failed = new Set(isOk(status) ? [] : (rejected ?? chunk.map((_, index) => index)));
    if (startedIn !== epoch) {
      // spill() ran during the write and already put these batches on disk: count what the sink took, touch nothing else.
      for (const [index, item] of chunk.entries()) if (!failed.has(index)) written(item, replaying);
      return false;
    }
    if (!isOk(status)) report(status);
    const removed = take(items, 0, chunk.length);
    const kept = removed.filter((_, index) => failed.has(index));
    for (const [index, item] of removed.entries()) if (!failed.has(index)) written(item, replaying);
    if (isOk(status) || !status.retryable) {
      attempt = 0;
      if (isOk(status)) episode.clear();
      drop(kept, DropReason.REFUSED, `sink refused them: ${status.message}`);
      if (replaying) settleReplay(removed.length);
      return true;
    }
    // Retryable: keep the failed batches (in order) at the front; if newer ones went to disk meanwhile, ahead of those.
    putBack(source === 'queue' && runSpills !== spillsBefore ? head : items, kept);
    if (replaying) settleReplay(removed.length - kept.length);
    attempt += 1;
    retries += 1;
    return false;
  };

  const delay = (): number => {
    const base = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base / 2 + (random() * base) / 2);
  };

  /**
   * Whether the queue is due a write: always without a window, during a flush, with a failed
   * write's batches or a spill file waiting, or once the oldest queued batch is a window old or
   * the queue holds a quarter of its memory limit.
   */
  const due = (): boolean => {
    if (!(config.writeWindowMs > 0) || flushing > 0 || head.length > 0 || replay !== undefined) return true;
    const oldest = queue[locked];
    if (oldest === undefined) return true;
    return clock.now() - oldest.queuedAt >= config.writeWindowMs || queuedBytes >= config.maxBytes / 4 || spillFiles().length > 0;
  };

  /** Writes when the oldest queued batch's window closes. */
  const awaitWindow = (): void => {
    if (windowTimer !== undefined || stopped) return;
    const oldest = queue[locked];
    const wait = oldest === undefined ? 0 : Math.max(0, oldest.queuedAt + config.writeWindowMs - clock.now());
    windowTimer = clock.setTimer(() => {
      windowTimer = undefined;
      void drain();
    }, wait);
  };

  const drain = (): Promise<void> => {
    if (writing !== undefined) return writing;
    if (!stopped && hasWork() && !due()) {
      awaitWindow();
      return Promise.resolve();
    }
    const loop: Promise<void> = (async () => {
      while (!stopped && retryTimer === undefined && hasWork()) {
        if (!due()) {
          awaitWindow();
          break;
        }
        const progressed = await writeOnce();
        if (!progressed && !stopped && hasWork()) {
          retryTimer = clock.setTimer(() => {
            retryTimer = undefined;
            void drain();
          }, delay());
        }
      }
    })().finally(() => {
      if (writing === loop) writing = undefined;
    });
    writing = loop;
    return loop;
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
    const inMemory = [...head, ...queue, ...replayItems];
    const batches = inMemory.length + files.reduce((sum, file) => sum + file.batches, 0);
    if (batches === 0) return undefined;
    const rows = countRows(inMemory.map((item) => item.batch)) + files.reduce((sum, file) => sum + file.rows, 0);
    return fail(StatusCode.UNAVAILABLE, `${batches} batches (${rows} rows) still pending at flush`, { source: sink.name, op: 'flush' });
  };

  const stop = (): void => {
    stopped = true;
    retryTimer?.cancel();
    retryTimer = undefined;
    windowTimer?.cancel();
    windowTimer = undefined;
  };

  /** At a stop: appends batches to the spill directory; what cannot be kept is dropped and reported. */
  const toDisk = (batches: readonly Batch[]): SpillWrite => {
    if (batches.length === 0) return NOTHING_SPILLED;
    const result: SpillWrite =
      spill === undefined
        ? { batches: 0, rows: 0, droppedBatches: batches.length, droppedRows: countRows(batches), status: fail(StatusCode.UNAVAILABLE, 'no spill directory', { op: 'spill', retryable: false }) }
        : spill.append(batches, makeRoom);
    spilledBatches += result.batches;
    spilledRows += result.rows;
    dropped(DropReason.SPILL, result.droppedBatches, result.droppedRows, `at stop: could not spill them: ${result.status.message}`, true);
    return result;
  };

  /** At a stop: rewrites `file` with `front` before its own batches, so the head keeps its place; false when that failed. */
  const prependTo = (file: SpillFile, front: readonly Batch[], own: readonly Batch[]): boolean => {
    const status = spill!.rewrite(file, [...front, ...own]);
    report(status);
    if (!isOk(status)) return false;
    spilledBatches += front.length;
    spilledRows += countRows(front);
    return true;
  };

  /** Writes everything queued, then flushes the sink (see SinkBuffer.flush). */
  const flushAll = async (deadline: number | undefined): Promise<Status> => {
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
    // A sink that cannot flush now (its disk is full) says so retryably: try again until the deadline.
    for (;;) {
      let flushed: Status;
      try {
        flushed = await sink.flush();
      } catch (error) {
        flushed = statusFromError(error, { source: sink.name, op: 'flush' });
      }
      const left = until - clock.now();
      if (isOk(flushed) || !flushed.retryable || stopped || left <= 0) return withSource(flushed, sink.name, 'flush');
      await sleep(clock, Math.min(left, flushed.retryAfterMs ?? delay()));
    }
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
      flushing += 1;
      try {
        return await flushAll(deadline);
      } finally {
        flushing -= 1;
      }
    },
    stop,
    spill() {
      stop();
      if (spilled) return NOTHING_SPILLED;
      spilled = true;
      epoch += 1;
      locked = 0;
      // The head is older than every spill file: it goes into the first one, ahead of its batches.
      let front = take(head, 0, head.length).map((item) => item.batch);
      const rest = take(queue, 0, queue.length).map((item) => item.batch);
      if (spill !== undefined && replay !== undefined) {
        // The replayed file keeps its place; only its unwritten remainder stays in it.
        const own = replay.items.map((item) => item.batch);
        if (front.length > 0) {
          if (prependTo(replay.file, front, own)) front = [];
        } else if (replay.consumed > 0) {
          report(spill.rewrite(replay.file, own));
        }
        replay = undefined;
      } else if (spill !== undefined && front.length > 0) {
        const first = spillFiles()[0];
        const read = first === undefined ? undefined : spill.read(first);
        if (first !== undefined && read?.ok === true && prependTo(first, front, read.value)) front = [];
      }
      if (front.length > 0) {
        // Could not put them in front: kept after the rest of the disk rather than lost.
        report(fail(StatusCode.UNAVAILABLE, `${front.length} batches spilled after newer ones: they will be written out of order`, { op: 'spill', retryable: false }));
      }
      return toDisk([...front, ...rest]);
    },
    stats() {
      const files = (spill?.pending() ?? []).filter((file) => !doneFiles.has(file.seq));
      const onDisk = files.reduce((sum, file) => sum + file.rows, 0);
      // The file being replayed is still on disk in full; the part already written no longer counts.
      const consumed = replay === undefined ? 0 : replay.file.rows - countRows(replay.items.map((item) => item.batch));
      return {
        sink: sink.name,
        queuedBatches: head.length + queue.length,
        queuedBytes,
        writtenBatches,
        writtenRows,
        droppedBatches,
        droppedRows,
        droppedBy: {
          refused: { ...droppedBy.refused },
          memory: { ...droppedBy.memory },
          spill: { ...droppedBy.spill },
          age: { ...droppedBy.age },
        },
        retries,
        spilledBatches,
        spilledRows,
        runSpilledBatches,
        runSpilledRows,
        replayedBatches,
        replayedRows,
        spillPendingRows: Math.max(0, onDisk - consumed),
        spillPendingBytes: files.reduce((sum, file) => sum + file.bytes, 0),
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
