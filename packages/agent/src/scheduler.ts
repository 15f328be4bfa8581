/**
 * The collection scheduler: per-table intervals aligned to the wall clock plus a fixed
 * per-probe jitter, never two collections of one table at once (the due one is skipped and
 * counted), a per-collection timeout, and capped backoff after repeated failures. Tables of
 * one probe that fall due together are collected in one call. All time comes from a Clock.
 */
import type { Clock, Timer } from '@virtualeyes/core';
import type { SchedulerConfig } from './config.js';

/** A table the scheduler polls. */
export interface ScheduledTable {
  /** Probe instance name. */
  readonly probe: string;
  /** Table name. */
  readonly table: string;
  /** Collection interval, milliseconds. */
  readonly intervalMs: number;
}

/** What one run of a collection reported back to the scheduler. */
export interface RunOutcome {
  /** False when the collection failed as a whole (backoff applies). */
  readonly ok: boolean;
  /** Rows produced, per table. */
  readonly rows?: Readonly<Record<string, number>>;
}

/** Runs one collection of `tables` of `probe`; must resolve, never reject. */
export type RunCollection = (
  probe: string,
  tables: readonly string[],
  ts: number,
  signal: AbortSignal,
) => Promise<RunOutcome>;

/** Counters of one scheduled table. */
export interface TableSchedule {
  /** Probe instance name. */
  readonly probe: string;
  /** Table name. */
  readonly table: string;
  /** Interval, milliseconds. */
  readonly intervalMs: number;
  /** Collections started. */
  readonly runs: number;
  /** Collections that failed as a whole. */
  readonly failures: number;
  /** Collections abandoned at the timeout. */
  readonly timeouts: number;
  /** Due collections skipped because the previous one was still running. */
  readonly skipped: number;
  /** Rows produced in total. */
  readonly rows: number;
  /** Duration of the last finished collection, milliseconds. */
  readonly lastDurationMs: number | null;
  /** Total time spent collecting, milliseconds. */
  readonly totalMs: number;
  /** Wall time of the last finished collection. */
  readonly lastRunAt: number | null;
  /** Wall time of the next planned collection. */
  readonly nextDueAt: number;
  /** Consecutive failed collections (backoff grows with it). */
  readonly consecutiveFailures: number;
}

/** Options for {@link createScheduler}. */
export interface SchedulerOptions {
  /** Time source and timers. */
  readonly clock: Clock;
  /** Jitter, timeout and backoff settings. */
  readonly config: SchedulerConfig;
  /** Performs a collection. */
  readonly run: RunCollection;
  /** Random source in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
}

/** The scheduler. */
export interface Scheduler {
  /** Adds tables to poll; call before start. Tables with interval 0 are ignored. */
  add(tables: readonly ScheduledTable[]): void;
  /** Starts the timers. */
  start(): void;
  /** Stops planning, aborts running collections and waits for them (at most the timeout). */
  stop(): Promise<void>;
  /** Counters per table. */
  stats(): readonly TableSchedule[];
}

interface Entry {
  probe: string;
  table: string;
  intervalMs: number;
  nextDueAt: number;
  running: boolean;
  runs: number;
  failures: number;
  timeouts: number;
  skipped: number;
  rows: number;
  lastDurationMs: number | null;
  totalMs: number;
  lastRunAt: number | null;
  consecutiveFailures: number;
}

/** Creates a scheduler; nothing runs until {@link Scheduler.start}. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { clock, config, run } = options;
  const random = options.random ?? Math.random;
  const entries: Entry[] = [];
  const offsets = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  let timer: Timer | undefined;
  let running = false;

  const offsetOf = (probe: string): number => {
    let offset = offsets.get(probe);
    if (offset === undefined) {
      offset = Math.floor(random() * config.jitterMs);
      offsets.set(probe, offset);
    }
    return offset;
  };

  /** The first aligned slot strictly after `after`: a multiple of the interval plus the probe's offset. */
  const nextSlot = (entry: Entry, after: number): number => {
    const offset = offsetOf(entry.probe);
    const slot = Math.floor((after - offset) / entry.intervalMs + 1) * entry.intervalMs + offset;
    return slot;
  };

  const arm = (): void => {
    timer?.cancel();
    timer = undefined;
    if (!running || entries.length === 0) return;
    const earliest = Math.min(...entries.map((entry) => entry.nextDueAt));
    timer = clock.setTimer(tick, Math.max(0, earliest - clock.now()));
  };

  const backoffMs = (entry: Entry): number => {
    if (entry.consecutiveFailures === 0) return 0;
    return Math.min(config.maxBackoffMs, entry.intervalMs * 2 ** (entry.consecutiveFailures - 1));
  };

  const launch = (probe: string, due: Entry[], ts: number): void => {
    const controller = new AbortController();
    controllers.add(controller);
    const started = clock.monotonic();
    for (const entry of due) {
      entry.running = true;
      entry.runs += 1;
    }
    let timedOut = false;
    let timeoutTimer: Timer | undefined;
    const timeout = new Promise<RunOutcome>((resolve) => {
      timeoutTimer = clock.setTimer(() => {
        timedOut = true;
        controller.abort();
        resolve({ ok: false });
      }, config.timeoutMs);
    });
    const collection = run(
      probe,
      due.map((entry) => entry.table),
      ts,
      controller.signal,
    ).catch((): RunOutcome => ({ ok: false }));
    const settled = Promise.race([collection, timeout]).then((outcome) => {
      timeoutTimer?.cancel();
      const duration = clock.monotonic() - started;
      for (const entry of due) {
        entry.lastDurationMs = duration;
        entry.totalMs += duration;
        entry.lastRunAt = clock.now();
        entry.rows += outcome.rows?.[entry.table] ?? 0;
        if (timedOut) entry.timeouts += 1;
        if (outcome.ok) {
          entry.consecutiveFailures = 0;
        } else {
          entry.failures += 1;
          entry.consecutiveFailures += 1;
          entry.nextDueAt = Math.max(entry.nextDueAt, nextSlot(entry, clock.now() + backoffMs(entry) - entry.intervalMs));
        }
      }
      if (running) arm();
    });
    // The table stays busy until the probe's promise really settles, even after a timeout;
    // rows a timed-out collection still delivers then are counted too.
    const busy = collection.then((outcome) => {
      for (const entry of due) {
        entry.running = false;
        if (timedOut) entry.rows += outcome.rows?.[entry.table] ?? 0;
      }
      controllers.delete(controller);
    });
    const tracked = Promise.all([settled, busy]).then(() => undefined);
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
  };

  const tick = (): void => {
    timer = undefined;
    if (!running) return;
    const now = clock.now();
    const dueByProbe = new Map<string, Entry[]>();
    for (const entry of entries) {
      if (entry.nextDueAt > now) continue;
      entry.nextDueAt = nextSlot(entry, now);
      if (entry.running) {
        entry.skipped += 1;
        continue;
      }
      const list = dueByProbe.get(entry.probe) ?? [];
      list.push(entry);
      dueByProbe.set(entry.probe, list);
    }
    for (const [probe, due] of dueByProbe) launch(probe, due, now);
    arm();
  };

  return {
    add(tables) {
      for (const table of tables) {
        if (!(table.intervalMs > 0)) continue;
        entries.push({
          probe: table.probe,
          table: table.table,
          intervalMs: table.intervalMs,
          nextDueAt: 0,
          running: false,
          runs: 0,
          failures: 0,
          timeouts: 0,
          skipped: 0,
          rows: 0,
          lastDurationMs: null,
          totalMs: 0,
          lastRunAt: null,
          consecutiveFailures: 0,
        });
      }
    },
    start() {
      if (running) return;
      running = true;
      const now = clock.now();
      // The first collection happens at once, so a fresh agent has data without waiting an interval.
      for (const entry of entries) entry.nextDueAt = now;
      arm();
    },
    async stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
      for (const controller of controllers) controller.abort();
      if (inFlight.size === 0) return;
      let waitTimer: Timer | undefined;
      await Promise.race([
        Promise.all([...inFlight]),
        new Promise<void>((resolve) => {
          waitTimer = clock.setTimer(resolve, config.timeoutMs);
        }),
      ]);
      waitTimer?.cancel();
    },
    stats() {
      return entries.map((entry) => ({
        probe: entry.probe,
        table: entry.table,
        intervalMs: entry.intervalMs,
        runs: entry.runs,
        failures: entry.failures,
        timeouts: entry.timeouts,
        skipped: entry.skipped,
        rows: entry.rows,
        lastDurationMs: entry.lastDurationMs,
        totalMs: entry.totalMs,
        lastRunAt: entry.lastRunAt,
        nextDueAt: entry.nextDueAt,
        consecutiveFailures: entry.consecutiveFailures,
      }));
    },
  };
}
