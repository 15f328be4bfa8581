/**
 * System-wide counters, one set of groups per online CPU (pid -1, cpu N). The online list is
 * re-read at each collection, so a CPU taken offline releases its fds and one coming back
 * gets fresh counters (a new opened_at). A refusal stops per-CPU counting for the instance,
 * reported once with the perf_event_paranoid value.
 */
import { fail, formatStatus, StatusCode, type Row, type Status } from '@virtualeyes/core';
import type { EventDef } from '../events.js';
import { parseCpuList } from '../parse/cpulist.js';
import { closeGroups, fdCount, openGroups, readGroup, type CounterTarget, type OpenGroup } from './counters.js';
import { addCounts, counterColumns, hostFileStatus, type EventTotal, type Session } from './session.js';

const SYS = '/sys';
/** Read through the FileReader, which maps /sys to the host's sysfs. */
const ONLINE = '/sys/devices/system/cpu/online';

/** One CPU's counters. */
interface CpuSet {
  readonly target: CounterTarget;
  readonly groups: OpenGroup[];
  /** Epoch milliseconds when they opened. */
  readonly openedAt: number;
}

/** One CPU's reading: totals per event. */
export interface CpuReading {
  readonly cpu: number;
  readonly openedAt: number;
  readonly totals: ReadonlyMap<EventDef, EventTotal>;
}

/** The per-CPU counters of one probe instance. */
export interface CpuCounters {
  /** Opens counters on CPUs that came online and closes those that went offline; problems go to `errors`. */
  refresh(errors: Status[]): void;
  /** Reads every open CPU once. */
  read(errors: Status[]): CpuReading[];
  /** Rows of perf_cpu from a reading (a sum past int64 is reported once and its row left out). */
  rows(readings: readonly CpuReading[]): Row[];
  /** Whether any CPU has counters open. */
  counting(): boolean;
  /** File descriptors held. */
  fds(): number;
  /** Closes every fd. */
  close(): void;
}

/** Creates the per-CPU counters; nothing opens until the first refresh. */
export function createCpuCounters(session: Session): CpuCounters {
  const open = new Map<number, CpuSet>();
  let refused = false;

  const onlineCpus = (): number[] | undefined => {
    const text = session.files.readText(ONLINE);
    const parsed = text.ok ? parseCpuList(text.value) : text;
    if (parsed.ok) return parsed.value;
    // A missing or malformed online list does not heal by itself: say it once.
    session.once('cpu:online', hostFileStatus(parsed.status, session.files.resolve(SYS)));
    return undefined;
  };

  return {
    refresh(errors) {
      if (refused) return;
      const online = onlineCpus();
      if (online === undefined) return;
      const wanted = new Set(online);
      for (const [cpu, set] of open) {
        if (wanted.has(cpu)) continue;
        closeGroups(session.io.sys, set.groups);
        open.delete(cpu);
        session.logger.debug(`CPU ${cpu} went offline; its counters are closed`);
      }
      for (const cpu of online) {
        if (open.has(cpu)) continue;
        const target: CounterTarget = { pid: -1, cpu, scope: 'cpu', label: `CPU ${cpu}`, inherit: false, excludeKernel: false };
        const outcome = openGroups(session.io, session.groups, target, (event) => session.unsupported.has(event));
        for (const { event, status } of outcome.unsupported) session.markUnsupported(event, status);
        if (outcome.failure !== undefined) {
          if (outcome.failure.code === StatusCode.PERMISSION_DENIED) {
            // The same refusal would come for every CPU and event: say it once and stop asking.
            refused = true;
            session.once('cpu:denied', outcome.failure);
            for (const set of open.values()) closeGroups(session.io.sys, set.groups);
            open.clear();
            return;
          }
          errors.push(outcome.failure);
          continue;
        }
        open.set(cpu, { target, groups: outcome.groups, openedAt: session.clock.now() });
      }
    },
    read(errors) {
      const readings: CpuReading[] = [];
      const failed = new Set<string>();
      for (const [cpu, set] of open) {
        const totals = new Map<EventDef, EventTotal>();
        for (const group of set.groups) {
          const counts = readGroup(session.io, group, set.target);
          if (counts.ok) {
            addCounts(totals, counts.value, group.leader);
          } else if (!failed.has(counts.status.code)) {
            failed.add(counts.status.code);
            errors.push(counts.status);
          } else {
            session.logger.debug(formatStatus(counts.status));
          }
        }
        readings.push({ cpu, openedAt: set.openedAt, totals });
      }
      return readings.sort((a, b) => a.cpu - b.cpu);
    },
    rows(readings) {
      const rows: Row[] = [];
      for (const reading of readings) {
        for (const event of session.events) {
          const total = reading.totals.get(event);
          if (total === undefined) continue;
          const columns = counterColumns(event, total);
          if (columns === undefined) {
            session.once(`cpu:overflow:${event.name}`, fail(StatusCode.PARSE_ERROR, `${event.name} on CPU ${reading.cpu} passed int64`, { op: 'read counters' }));
            continue;
          }
          rows.push({ cpu: reading.cpu, ...columns, opened_at: reading.openedAt });
        }
      }
      return rows;
    },
    counting: () => open.size > 0,
    fds() {
      let count = 0;
      for (const set of open.values()) count += fdCount(set.groups);
      return count;
    },
    close() {
      for (const set of open.values()) closeGroups(session.io.sys, set.groups);
      open.clear();
    },
  };
}
