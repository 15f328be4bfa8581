/**
 * The events group's collector: one process-events source per probe instance, started with the
 * probe and closed with it. Each collection of process_events hands over what arrived since the
 * one before as one batch, in time order, each row stamped with its event's own time, with at
 * most one Status saying how many events were lost or dropped.
 */
import { fail, OK, StatusCode, type Batch, type Row, type Status } from '@virtualeyes/core';
import type { GroupCollector, GroupContext, GroupOutput } from '../group.js';
import { PATHS } from '../linux/paths.js';
import { loadConnectorSyscalls, type ConnectorSyscalls } from './native.js';
import { createEventSource, type EventCursor, type EventSourceStats, type ProcessEvent } from './source.js';
import { EventsTable } from './tables.js';

/** The events group's collector, which also lets the core collector read the same socket. */
export interface EventsCollector extends GroupCollector {
  /** An independent cursor over the probe's process events (births, exits… with exact times); see {@link EventCursor}. */
  subscribe(): EventCursor;
  /** Counters of the source. */
  stats(): EventSourceStats;
}

/** Loads the native calls; tests and benchmarks pass their own. */
export type SyscallsLoader = () => Promise<{ ok: true; value: ConnectorSyscalls } | { ok: false; status: Status }>;

/** Creates the collector; the socket opens in start() when the processEvents option is on. */
export function createEventsCollector(context: GroupContext, syscalls: SyscallsLoader = () => loadConnectorSyscalls()): EventsCollector {
  const { config, deps } = context;
  const source = createEventSource({
    syscalls,
    files: context.files,
    proc: PATHS.proc,
    userHz: config.userHz,
    maxCmdlineChars: config.maxCmdlineChars,
    bootMs: context.bootMs,
    bufferBytes: config.processEventsBufferBytes,
    pollMs: config.processEventsPollMs,
    maxBuffered: config.processEventsMaxBuffered,
    monotonic: () => performance.now(),
    logger: deps.logger,
  });
  const table = source.subscribe();

  return {
    start: () => (config.processEvents ? source.start() : OK),
    collect(tables): GroupOutput {
      if (!tables.has(EventsTable.PROCESS_EVENTS)) return { batches: [], errors: [] };
      const errors: Status[] = [];
      const problem = source.takeProblem();
      if (problem !== undefined) errors.push(problem);
      const missed = table.missed();
      if (missed.lost > 0 || missed.dropped > 0 || missed.overruns > 0) errors.push(lossStatus(missed, config.processEventsBufferBytes, config.processEventsMaxBuffered));
      return { batches: toBatches(table.drain(), deps.clock.now()), errors };
    },
    async close() {
      table.close();
      return source.close();
    },
    subscribe: () => source.subscribe(),
    stats: () => source.stats(),
  };
}

/**
 * The events as one batch stamped `now` (or the last event's time, were the clocks to disagree),
 * each row at its own time; none when nothing arrived. They come sorted.
 */
export function toBatches(events: readonly ProcessEvent[], now: number): Batch[] {
  if (events.length === 0) return [];
  const ts = Math.max(now, events[events.length - 1]!.time);
  return [{ table: EventsTable.PROCESS_EVENTS, ts, rows: events.map(toRow), times: events.map((event) => event.time), snapshot: false }];
}

/** A process_events row. */
export function toRow(event: ProcessEvent): Row {
  return {
    event: event.kind,
    pid: event.pid,
    start_time: event.startTime,
    ppid: event.ppid,
    comm: event.comm,
    cmdline: event.argv === null ? null : event.argv.join(' '),
    argv: event.argv,
    uid: event.uid,
    gid: event.gid,
    ruid: event.ruid,
    rgid: event.rgid,
    exit_code: event.exitCode,
    signal: event.signal,
    core_dumped: event.coreDumped,
    lifetime_ms: event.lifetimeMs,
    tracer_pid: event.tracerPid,
  };
}

function lossStatus(missed: { dropped: number; lost: number; overruns: number }, bufferBytes: number, maxBuffered: number): Status {
  const parts: string[] = [];
  if (missed.lost > 0) parts.push(`${missed.lost} lost to overruns of the ${bufferBytes}-byte receive buffer (raise processEventsBufferBytes)`);
  if (missed.overruns > 0 && missed.lost === 0) {
    // The kernel's count of what it dropped shows as a sequence gap when the next event arrives.
    parts.push(`the ${bufferBytes}-byte receive buffer overran ${missed.overruns} time${missed.overruns === 1 ? '' : 's'}; the count follows with the next events (raise processEventsBufferBytes)`);
  }
  if (missed.dropped > 0) parts.push(`${missed.dropped} dropped past processEventsMaxBuffered (${maxBuffered}) between two collections`);
  return fail(StatusCode.UNAVAILABLE, `process_events: events missing: ${parts.join('; ')}`, { op: 'receive process events' });
}
