/**
 * Starting sinks for the agent: each sink is started with the tables every probe declared
 * and gets its own bounded buffer. A start that fails retryably (a store file briefly held
 * by a reader, a server still coming up) is retried with backoff up to a deadline; a sink
 * that still fails is reported and left out, and the others run.
 */
import { createSinkBuffer, type SinkBuffer } from './buffer.js';
import { sleep, type Clock } from './clock.js';
import type { AgentConfig } from './config.js';
import type { Hooks } from './hooks.js';
import type { LoadedSink } from './loader.js';
import type { Sink } from './plugin.js';
import type { TableSchema } from './schema.js';
import { isOk, OK, statusFromError, withSource, type Status } from './status.js';

/** A started sink with its buffer. */
export interface SinkRuntime {
  /** Instance name. */
  readonly name: string;
  /** The sink. */
  readonly sink: Sink;
  /** Its buffer. */
  readonly buffer: SinkBuffer;
}

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
    await sleep(deps.clock, delay);
    delay = Math.min(START_RETRY_MAX_MS, delay * 2);
  }
}

/** Starts every loaded sink and builds its buffer; the status is the first start failure. */
export async function createBuffers(
  loaded: readonly LoadedSink[],
  tables: readonly TableSchema[],
  deps: BufferDeps,
): Promise<{ sinks: SinkRuntime[]; status: Status }> {
  const sinks: SinkRuntime[] = [];
  let first: Status = OK;
  for (const entry of loaded) {
    const status = await startWithRetry(entry, tables, deps);
    if (!isOk(status)) {
      const tagged = withSource(status, entry.name, 'start');
      deps.statusBoard.report(tagged);
      if (isOk(first)) first = tagged;
      continue;
    }
    const buffer = createSinkBuffer({
      sink: entry.sink,
      config: { ...deps.config.buffer, ...entry.spec.buffer },
      clock: deps.clock,
      hooks: deps.hooks,
      random: deps.random,
      onStatus: (failure) => deps.statusBoard.report(failure),
    });
    sinks.push({ name: entry.name, sink: entry.sink, buffer });
  }
  return { sinks, status: first };
}
