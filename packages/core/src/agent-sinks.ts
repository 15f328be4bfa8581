/**
 * Starting sinks for the agent: each sink is started with the tables every probe declared
 * and gets its own bounded buffer. A sink that fails to start is reported and left out; the
 * others run.
 */
import { createSinkBuffer, type SinkBuffer } from './buffer.js';
import type { Clock } from './clock.js';
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
    let status: Status;
    try {
      status = await entry.sink.start({ tables });
    } catch (error) {
      status = statusFromError(error, { source: entry.name, op: 'start' });
    }
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
