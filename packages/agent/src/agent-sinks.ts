/**
 * Starting sinks for the agent: each sink is started with the tables every probe declared
 * and gets its own bounded buffer. A start that fails retryably (a store file briefly held
 * by a reader, a server still coming up) is retried with backoff up to a deadline; a sink
 * that still fails is reported and left out, and the others run. Every sink has a spill
 * directory, `<dataDir>/spill/<sink>/`; batches left there by an earlier stop are written first.
 */
import { join } from 'node:path';
import { createSinkBuffer, type SinkBuffer } from './buffer.js';
import { fail, isOk, OK, sleep, StatusCode, statusFromError, withSource, type Clock, type Hooks, type Logger, type Sink, type Status, type TableSchema } from '@virtualeyes/core';
import type { AgentConfig } from './config.js';
import type { LoadedSink } from './loader.js';
import { createSpillStore, type SpillStore } from './spill.js';

/** A started sink with its buffer. */
export interface SinkRuntime {
  /** Instance name. */
  readonly name: string;
  /** The sink. */
  readonly sink: Sink;
  /** Its buffer. */
  readonly buffer: SinkBuffer;
  /** Its spill directory. */
  readonly spill: SpillStore;
}

/** A sink that did not start, with the spill files it still has waiting. */
export interface IdleSink {
  /** Instance name. */
  readonly name: string;
  /** Its spill directory (untouched, for the next start). */
  readonly spill: SpillStore;
}

/** Directory under the data directory holding one folder of spill files per sink. */
export const SPILL_DIR = 'spill';

/** What createBuffers needs from the agent. */
export interface BufferDeps {
  /** Agent config (default buffer limits). */
  readonly config: AgentConfig;
  /** Time source. */
  readonly clock: Clock;
  /** Hooks passed to every buffer. */
  readonly hooks: Hooks;
  /** Where failing statuses go. */
  readonly statusBoard: { report(status: Status): void };
  /** Random source for retry jitter. */
  readonly random: () => number;
  /** How long a retryable start failure is retried. */
  readonly startRetryMs: number;
  /** Aborted when the agent stops: start retries end at once. */
  readonly signal?: AbortSignal;
  /** Where the agent logs (the replay of spilled rows). */
  readonly logger?: Logger;
}

/** First delay between start attempts; it doubles up to {@link START_RETRY_MAX_MS}. */
const START_RETRY_BASE_MS = 100;
const START_RETRY_MAX_MS = 2000;

/** Starts one sink, retrying retryable failures with capped backoff until the deadline. */
async function startWithRetry(entry: LoadedSink, tables: readonly TableSchema[], deps: BufferDeps): Promise<Status> {
  const deadline = deps.clock.now() + deps.startRetryMs;
  let delay = START_RETRY_BASE_MS;
  for (;;) {
    let status: Status;
    try {
      status = await entry.sink.start({ tables });
    } catch (error) {
      status = statusFromError(error, { source: entry.name, op: 'start' });
    }
    if (isOk(status) || !status.retryable || deps.clock.now() + delay > deadline) return status;
    await sleep(deps.clock, delay, deps.signal);
    if (deps.signal?.aborted === true) {
      return fail(StatusCode.UNAVAILABLE, `start abandoned: stopping (last failure: ${status.message})`, { source: entry.name, op: 'start', retryable: false });
    }
    delay = Math.min(START_RETRY_MAX_MS, delay * 2);
  }
}

/** The spill directory of one loaded sink. */
export function spillStoreFor(entry: LoadedSink, deps: Pick<BufferDeps, 'config' | 'statusBoard' | 'clock'>): SpillStore {
  return createSpillStore({
    dir: join(deps.config.dataDir, SPILL_DIR, entry.name),
    sink: entry.name,
    maxBytes: entry.spec.buffer?.spillMaxBytes ?? deps.config.buffer.spillMaxBytes,
    onStatus: (status) => deps.statusBoard.report(status),
    now: () => deps.clock.now(),
  });
}

/** Starts every loaded sink and builds its buffer; the status is the first start failure. */
export async function createBuffers(
  loaded: readonly LoadedSink[],
  tables: readonly TableSchema[],
  deps: BufferDeps,
): Promise<{ sinks: SinkRuntime[]; idle: IdleSink[]; status: Status }> {
  const sinks: SinkRuntime[] = [];
  const idle: IdleSink[] = [];
  let first: Status = OK;
  for (const entry of loaded) {
    const spill = spillStoreFor(entry, deps);
    const status = deps.signal?.aborted === true ? fail(StatusCode.UNAVAILABLE, 'not started: stopping', { retryable: false }) : await startWithRetry(entry, tables, deps);
    if (!isOk(status)) {
      const tagged = withSource(status, entry.name, 'start');
      deps.statusBoard.report(tagged);
      if (isOk(first)) first = tagged;
      idle.push({ name: entry.name, spill });
      continue;
    }
    const pending = spill.pending();
    if (pending.length > 0) {
      const rows = pending.reduce((sum, file) => sum + file.rows, 0);
      deps.logger?.info(`Replaying ${rows} rows spilled at an earlier stop`, { sink: entry.name, files: pending.length, dir: spill.dir });
    }
    const buffer = createSinkBuffer({
      sink: entry.sink,
      config: { ...deps.config.buffer, ...entry.spec.buffer },
      clock: deps.clock,
      hooks: deps.hooks,
      random: deps.random,
      onStatus: (failure) => deps.statusBoard.report(failure),
      spill,
    });
    sinks.push({ name: entry.name, sink: entry.sink, buffer, spill });
    // Spilled batches go before anything collected from now on: pushing nothing starts writing them.
    if (pending.length > 0) buffer.push([]);
  }
  return { sinks, idle, status: first };
}
