/**
 * A table group: a set of tables with its own collector, options and per-table time budgets,
 * plugged into the Linux collector beside the core tables (system_info, cpu, memory, load,
 * processes, process_stats). Each group lives in its own folder (system/, detail/, events/);
 * the collector hands each the tables of its own that are due, a budget per table, and the
 * processes of the most recent scan, so groups never re-list /proc for themselves. A group's
 * tables are declared in its own `tables.ts` (which src/tables.ts lists) and its options in its
 * own `options.ts` (which src/config.ts merges), so neither imports the group's collector.
 */
import { fail, isStatus, StatusCode, type Batch, type FileReader, type PluginDeps, type Status, type TableSchema } from '@virtualeyes/core';
import type { ProcfsConfig } from './config.js';

/** A process as the most recent scan saw it: what groups need to pick and label processes. */
export interface ProcessInfo {
  readonly pid: number;
  /** Epoch milliseconds; with pid, the key of every per-process table. */
  readonly startTime: number;
  readonly comm: string;
  readonly uid: number;
  /** User name from /etc/passwd, or the uid as text. */
  readonly user: string;
  readonly kernelThread: boolean;
  /** One-letter state from /proc/PID/stat. */
  readonly state: string;
  /** utime + stime since start, milliseconds. */
  readonly cpuMs: number;
  /** CPU milliseconds since the scan before (0 for a process new in this scan). */
  readonly cpuRecentMs: number;
  /** Resident memory, bytes. */
  readonly rss: number;
}

/** Time left for one table's collection: the agent's signal and the table's own budget together. */
export interface Budget {
  /** The table's budget in milliseconds. */
  readonly ms: number;
  /** True once the budget is spent or the agent aborted the collection: stop, keep what was read. The first call starts the budget's time. */
  expired(): boolean;
  /** The TIMEOUT (or the agent's abort) Status for a collection cut short after `done` of `total` items. */
  cutShort(table: string, done: number, total: number): Status;
}

/** What a group's collector gets from the probe. */
export interface GroupContext {
  readonly config: ProcfsConfig;
  readonly deps: PluginDeps;
  /** deps.files: every path goes through it (roots, fixtures). */
  readonly files: FileReader;
  /** Boot time, epoch milliseconds, from /proc/stat's btime (read on first use). */
  bootMs(): number | undefined;
  /**
   * The processes of the most recent scan, running a scan first when none ran within the last
   * second (when processes and process_stats are turned off, or at another interval).
   */
  processes(signal: AbortSignal): Promise<readonly ProcessInfo[]>;
}

/** One collection's output of a group. */
export interface GroupOutput {
  readonly batches: Batch[];
  readonly errors: Status[];
}

/** A group's collector for one probe instance; it owns whatever it holds open. */
export interface GroupCollector {
  /** Opens what the group holds for its lifetime (a netlink socket…); called only when one of its tables is on (`tables`). Optional. */
  start?(tables: ReadonlySet<string>): Promise<Status> | Status;
  /** Collects `tables` (only this group's, only the due ones), each within `budgets.get(table)`. */
  collect(tables: ReadonlySet<string>, budgets: ReadonlyMap<string, Budget>, signal: AbortSignal): Promise<GroupOutput> | GroupOutput;
  /** Releases everything. Optional. */
  close?(): Promise<Status> | Status;
}

/** A group of tables: declared once, created per probe instance. */
export interface TableGroup {
  /** The group's tables, in the order its batches come. */
  readonly tables: readonly TableSchema[];
  /** Default time budget per table, milliseconds (the `budgets` option overrides). */
  readonly budgetMs: Readonly<Record<string, number>>;
  /** Creates the group's collector. */
  create(context: GroupContext): GroupCollector;
}

/**
 * A budget of `ms` on the collector's monotonic clock, also ending when `signal` aborts. Its time
 * starts at the first `expired()` call, so a table a group collects after others gets its whole
 * budget: check it once as the table's collection begins.
 */
export function createBudget(ms: number, signal: AbortSignal, monotonic: () => number): Budget {
  let deadline: number | undefined;
  return {
    ms,
    expired: () => {
      if (signal.aborted) return true;
      deadline ??= monotonic() + ms;
      return monotonic() > deadline;
    },
    cutShort(table, done, total) {
      if (signal.aborted) {
        const reason: unknown = signal.reason;
        const code = isStatus(reason) && reason.code !== StatusCode.OK ? reason.code : StatusCode.TIMEOUT;
        return fail(code, `${table}: collection stopped after ${done} of ${total}; rows are partial`, { op: `collect ${table}` });
      }
      return fail(StatusCode.TIMEOUT, `${table}: exceeded its ${ms} ms budget after ${done} of ${total}; rows are partial`, { op: `collect ${table}` });
    },
  };
}
