/**
 * The Linux implementation, the plugin kit's `linux` factory: start() loads libc through koffi
 * and opens the per-CPU counters; collections read them, re-select processes and read numastat.
 * Whatever start() found (unsupported events, refusals) is returned by the next collection, each
 * problem once per instance, so a VM without a PMU says so once and then records its software events quietly.
 */
import {
  fail,
  ok,
  OK,
  StatusCode,
  type Batch,
  type CollectResult,
  type PlatformFactory,
  type PluginDeps,
  type ProbeImpl,
  type Row,
  type Status,
} from '@virtualeyes/core';
import type { PerfSettings } from '../config.js';
import { groupEvents, type EventDef } from '../events.js';
import { createCounterIo } from '../linux/counters.js';
import { createCpuCounters, type CpuCounters, type CpuReading } from '../linux/cpus.js';
import { loadLibcSyscalls, type PerfSyscallsLoader } from '../linux/native.js';
import { numaRows } from '../linux/numa.js';
import { createProcessCounters, type ProcessCounters } from '../linux/processes.js';
import type { Session } from '../linux/session.js';
import { parseCapEff, parseIntFile } from '../parse/values.js';
import { Table, TABLES } from '../tables.js';

const KNOWN: ReadonlySet<string> = new Set(TABLES.map((table) => table.name));
const PARANOID = '/proc/sys/kernel/perf_event_paranoid';
const SELF_STATUS = '/proc/self/status';
/** CAP_SYS_ADMIN and CAP_PERFMON (Linux 5.8+): either lifts perf_event_paranoid. */
const PERF_CAPABILITIES = [21n, 38n];

/** The `linux` factory; `loader` replaces the libc system calls (tests pass a scripted kernel). */
export function linuxPlatform(loader: PerfSyscallsLoader = () => loadLibcSyscalls()): PlatformFactory<PerfSettings, ProbeImpl> {
  return (settings, deps) => ok(createLinuxCollector(settings, deps, loader));
}

/** Creates the implementation of one probe instance; it holds no fd until start() or the first collection. */
function createLinuxCollector(settings: PerfSettings, deps: PluginDeps, loader: PerfSyscallsLoader): ProbeImpl {
  const { config, events, patterns } = settings;
  const { files, clock, logger, name } = deps;
  const pending: Status[] = [];
  const reported = new Set<string>();
  const once = (key: string, status: Status): void => {
    if (reported.has(key)) return;
    reported.add(key);
    pending.push(status);
  };
  // Events found unsupported since the last collection: reported together, one status per reason.
  const unsupportedSince: { event: EventDef; status: Status }[] = [];

  let closed = false;
  let starting: Promise<Status> | undefined;
  let session: Session | undefined;
  const countUnsupported = (): number => session?.unsupported.size ?? 0;
  let cpus: CpuCounters | undefined;
  let processes: ProcessCounters | undefined;
  // The kit answers every call after close(); these cover a close() while start() is still loading.
  const closedStatus = (op: string): Status => fail(StatusCode.UNAVAILABLE, `${name} is closed`, { source: name, op, retryable: false });

  const start = (): Promise<Status> => {
    starting ??= (async (): Promise<Status> => {
      const loaded = await loader();
      if (closed) return closedStatus('start');
      if (!loaded.ok) {
        // NUMA statistics need no counters: the probe keeps going without them.
        once('native', loaded.status);
        return OK;
      }
      const paranoid = readParanoid();
      const privileged = isPrivileged();
      session = {
        io: createCounterIo(
          loaded.value,
          // Messages quote the value at the time of the refusal, which an admin may have changed.
          readParanoid,
          () => logger.warn('this kernel predates inherit_thread (Linux 5.13): perf_process also counts child processes started after its counters opened'),
        ),
        files,
        clock,
        logger,
        events,
        groups: groupEvents(events),
        unsupported: new Map(),
        excludeKernel: !privileged && (paranoid === null || paranoid > 1),
        once,
        markUnsupported(event, status) {
          if (session!.unsupported.has(event)) return;
          session!.unsupported.set(event, status);
          unsupportedSince.push({ event, status });
        },
      };
      cpus = createCpuCounters(session);
      processes = createProcessCounters(session, {
        selection: config.processes,
        patterns,
        maxProcesses: config.maxProcesses,
        maxFds: config.maxFds,
        userHz: config.userHz,
        cgroupRoot: trimSlash(config.cgroupRoot),
      });
      cpus.refresh(pending);
      logger.debug(`per-CPU counters: ${events.length - session.unsupported.size} of ${events.length} events, ${cpus.fds()} fds`);
      return OK;
    })();
    return starting;
  };

  const readParanoid = (): number | null => {
    const text = files.readText(PARANOID);
    const value = text.ok ? parseIntFile(text.value, PARANOID) : text;
    return value.ok ? value.value : null;
  };

  const isPrivileged = (): boolean => {
    const text = files.readText(SELF_STATUS);
    const caps = text.ok ? parseCapEff(text.value) : text;
    if (!caps.ok) return process.geteuid?.() === 0;
    return PERF_CAPABILITIES.some((bit) => ((caps.value >> bit) & 1n) === 1n);
  };

  return {
    start,
    async collect({ tables, signal }): Promise<CollectResult> {
      await start();
      if (closed) return { batches: [], errors: [closedStatus('collect')] };
      const batches: Batch[] = [];
      const errors: Status[] = [];
      const wanted = new Set<string>();
      for (const table of tables) {
        if (KNOWN.has(table)) wanted.add(table);
        else errors.push(fail(StatusCode.INVALID_ARGUMENT, `perf has no table '${table}'`, { op: 'collect' }));
      }
      let readings: CpuReading[] | undefined;
      const readCpus = (): CpuReading[] => (readings ??= cpus === undefined ? [] : cpus.read(errors));
      const push = (table: Table, rows: Row[]): void => {
        batches.push({ table, ts: clock.now(), rows, snapshot: true });
      };

      for (const table of [Table.PERF_CPU, Table.PERF_PROCESS, Table.PERF_NUMA]) {
        if (!wanted.has(table)) continue;
        if (signal.aborted) {
          errors.push(fail(StatusCode.TIMEOUT, `collection aborted before ${table}`, { op: 'collect', retryable: true }));
          break;
        }
        if (table === Table.PERF_CPU && cpus !== undefined) {
          cpus.refresh(errors);
          if (cpus.counting()) push(table, cpus.rows(readCpus()));
        } else if (table === Table.PERF_PROCESS && processes !== undefined) {
          push(table, processes.collect(errors));
        } else if (table === Table.PERF_NUMA) {
          push(table, numaRows(files, readCpus(), errors, once));
        }
      }
      const unsupported = unsupportedSummaries(unsupportedSince.splice(0), events.length, events.length - countUnsupported());
      return { batches, errors: [...pending.splice(0), ...unsupported, ...errors] };
    },
    close() {
      closed = true;
      cpus?.close();
      processes?.close();
      cpus = undefined;
      processes = undefined;
      return OK;
    },
  };
}

/**
 * The events found unsupported as one status per reason: `10 of 14 events are not supported here
 * (ENOENT: …): cycles, instructions, …; the other 4 keep counting`, where each event's own status
 * says `<event>: not supported here (…); the other events keep counting` (classify.ts).
 */
function unsupportedSummaries(found: readonly { event: EventDef; status: Status }[], total: number, counting: number): Status[] {
  const byReason = new Map<string, { names: string[]; status: Status }>();
  for (const { event, status } of found) {
    const reason = status.message.startsWith(`${event.name}: `) ? status.message.slice(event.name.length + 2) : status.message;
    const entry = byReason.get(reason) ?? { names: [], status };
    entry.names.push(event.name);
    byReason.set(reason, entry);
  }
  return [...byReason].map(([reason, { names, status }]) => {
    const why = /^not supported here (\(.*\)); the other events keep counting$/.exec(reason)?.[1];
    const message =
      why === undefined
        ? `${names.join(', ')}: ${reason}`
        : `${names.length === 1 ? `1 of ${total} events is` : `${names.length} of ${total} events are`} not supported here ${why}: ${names.join(', ')}; ${
            counting === 0 ? 'none of the others is counting' : counting === 1 ? 'the other one keeps counting' : `the other ${counting} keep counting`
          }`;
    return { ...status, message, op: 'perf_event_open' };
  });
}

function trimSlash(root: string): string {
  return root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
}
