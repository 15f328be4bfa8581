/**
 * What the per-CPU, per-process and NUMA collectors of one probe instance share once it has
 * started: the system calls and scratch buffers, the configured groups, what the kernel said
 * about each event, and the report-once bookkeeping that keeps a status from repeating.
 */
import { fail, StatusCode, type Clock, type FileReader, type Logger, type Row, type Status } from '@virtualeyes/core';
import type { EventDef } from '../events.js';
import { toCount } from '@virtualeyes/linux';
import { scaleCount } from '../scale.js';
import type { CounterIo, GroupCounts } from './counters.js';

/** Shared state of one started probe instance. */
export interface Session {
  /** System calls, scratch buffers and kernel facts. */
  readonly io: CounterIo;
  /** The agent's file reader. */
  readonly files: FileReader;
  /** Stamps opened_at. */
  readonly clock: Clock;
  /** The probe's name-scoped logger. */
  readonly logger: Logger;
  /** Configured events, in config order. */
  readonly events: readonly EventDef[];
  /** The groups they are opened in. */
  readonly groups: readonly (readonly EventDef[])[];
  /** Events the kernel refused as unsupported, with the status that said so. */
  readonly unsupported: Map<EventDef, Status>;
  /** Whether per-process counters exclude kernel events. */
  readonly excludeKernel: boolean;
  /** Queues `status` for the next collection unless a status with `key` was queued before in this instance. */
  once(key: string, status: Status): void;
  /** Marks `event` unsupported and reports why, once. */
  markUnsupported(event: EventDef, status: Status): void;
}

/** Counts of one event summed over groups (threads of a process, or one CPU's group). */
export interface EventTotal {
  /** Raw count. */
  raw: bigint;
  /** Nanoseconds enabled. */
  timeEnabled: bigint;
  /** Nanoseconds running. */
  timeRunning: bigint;
  /** The leader of the (first) group the event was counted in. */
  leader: string;
}

/** Adds a group read into per-event totals. */
export function addCounts(totals: Map<EventDef, EventTotal>, counts: GroupCounts, leader: EventDef): void {
  for (const [event, raw] of counts.values) {
    const total = totals.get(event);
    if (total === undefined) {
      totals.set(event, { raw, timeEnabled: counts.timeEnabled, timeRunning: counts.timeRunning, leader: leader.name });
    } else {
      total.raw += raw;
      total.timeEnabled += counts.timeEnabled;
      total.timeRunning += counts.timeRunning;
    }
  }
}

/**
 * The counter columns of a row from an event's totals (perf stat's arithmetic: sum, then
 * scale); undefined when a sum passes int64 (years of time_enabled over thousands of threads).
 */
export function counterColumns(event: EventDef, total: EventTotal): Row | undefined {
  const raw = toCount(total.raw);
  const timeEnabled = toCount(total.timeEnabled);
  const timeRunning = toCount(total.timeRunning);
  if (raw === undefined || timeEnabled === undefined || timeRunning === undefined) return undefined;
  const { value, scale } = scaleCount(total.raw, total.timeEnabled, total.timeRunning);
  return { event: event.name, value, raw, time_enabled: timeEnabled, time_running: timeRunning, scale, group_leader: total.leader };
}

/**
 * What a failed read of a host-wide file (the online CPU list, /proc/stat) is reported as: a
 * missing one is a wrong root or an unmounted filesystem, UNAVAILABLE naming the root, never
 * NOT_FOUND (which the agent logs at debug, as for a vanished process).
 */
export function hostFileStatus(status: Status, root: string): Status {
  if (status.code !== StatusCode.NOT_FOUND) return status;
  return fail(StatusCode.UNAVAILABLE, `${status.message} (is ${root} mounted there?)`, {
    retryable: false,
    ...(status.op === undefined ? {} : { op: status.op }),
    cause: status.cause,
  });
}
