/**
 * The Linux implementation, the kit's `linux` factory: reads each file at most once per
 * collection (/proc/stat serves cpu, load and system_info; one process scan serves processes
 * and process_stats), stamps each batch with the clock at read time, and keeps partial
 * results beside per-table statuses.
 */
import {
  err,
  fail,
  formatStatus,
  ok,
  OK,
  StatusCode,
  type Batch,
  type CollectResult,
  type FileReader,
  type PlatformFactory,
  type PluginDeps,
  type ProbeImpl,
  type Result,
  type Status,
} from '@virtualeyes/core';
import type { Count } from '@virtualeyes/linux';
import { classifyHostRead } from '../classify.js';
import type { ProcfsConfig } from '../config.js';
import { DETAIL_GROUP } from '../detail/index.js';
import { EVENTS_GROUP, type EventCursor, type EventsCollector } from '../events/index.js';
import { createBudget, type Budget, type GroupContext, type ProcessInfo, type TableGroup } from '../group.js';
import { PATHS, type Paths } from '../linux/paths.js';
import { scanProcesses, type ScanWants } from '../linux/processes.js';
import { createLifetimes, type Lifetimes } from '../linux/lifetimes.js';
import { DRAIN_EVERY_MS, openRunWatch, type RunWatch } from '../linux/runs.js';
import { createTracker } from '../linux/tracker.js';
import { countNodes, cpuRows, loadRow, memoryRow, systemInfoRow } from '../linux/system.js';
import { createUserNames } from '../linux/users.js';
import { parseCpuinfo, type CpuInfo } from '../parse/cpuinfo.js';
import { parseLoadavg } from '../parse/loadavg.js';
import { parseMeminfo } from '../parse/meminfo.js';
import { parseOsRelease } from '../parse/os-release.js';
import { parseProcStat, type ProcStat } from '../parse/proc-stat.js';
import { parseValue } from '../parse/value.js';
import { SYSTEM_GROUP } from '../system/index.js';
import { CORE_TABLES, Table, TABLES } from '../tables.js';

const KNOWN: ReadonlySet<string> = new Set(TABLES.map((table) => table.name));
const CORE: ReadonlySet<string> = new Set(CORE_TABLES.map((table) => table.name));
/** The table groups beside the core tables, in the order their batches come. */
const GROUPS: readonly TableGroup[] = [SYSTEM_GROUP, DETAIL_GROUP, EVENTS_GROUP];
/** A table's budget when neither its group nor the `budgets` option gives one. */
const DEFAULT_BUDGET_MS = 5000;
/** How old the last scan's process list may be for a group to use it instead of scanning again. */
const FRESH_SCAN_MS = 1000;

/** The Linux factory: every instance gets its own collector over procfs and sysfs. */
export const linux: PlatformFactory<ProcfsConfig, ProbeImpl> = (config, deps) => ok(createLinuxCollector(config, deps));

/** A value read and parsed at one instant. */
interface Sample<T> {
  readonly value: T;
  readonly ts: number;
}

/** Creates a collector owning its caches (boot time, CPU model, user names); instances share nothing. */
function createLinuxCollector(config: ProcfsConfig, deps: PluginDeps): ProbeImpl {
  const { files, clock } = deps;
  const paths = PATHS;
  // Messages about a missing host file name the folder actually read, which is what to check.
  const procRoot = files.resolve(paths.proc);
  const users = createUserNames(() => files.readText(paths.passwd));
  // btime moves when the wall clock is stepped; reading it once keeps start_time and
  // boot_time stable for the probe's lifetime (a reboot restarts the probe anyway).
  let bootMs: number | undefined;
  let cpuinfoCache: { readonly cpus: number; readonly info: CpuInfo } | undefined;
  // Refused io/exe reads are normal for an unprivileged vwatchd (and for pid 1 in some
  // containers, even as root): they are reported once, then logged at debug only.
  let deniedReported = false;
  const tracker = createTracker(files, config.maxHeldFiles);
  // Which processes ran since the last scan (runs.ts), drained between scans so a ring cannot overflow while the scan waits.
  let runs: { readonly watch: RunWatch; readonly timer: NodeJS.Timeout } | undefined;
  let lastScan: { readonly at: number; readonly seen: readonly ProcessInfo[] } | undefined;
  // What the groups' start() refused is reported with the first collection, once.
  const startErrors: Status[] = [];

  const readBoot = (): number | undefined => {
    if (bootMs === undefined) {
      const read = sample(paths.stat, parseProcStat);
      if (read.ok) bootMs ??= read.value.value.btime * 1000;
    }
    return bootMs;
  };

  /**
   * The run watch, when the records can be read and mean this /proc: its pids are those of the
   * daemon's own pid namespace, so a /proc of another namespace (a container's view of the host)
   * is read whole every scan. Without privilege this is said at debug level only: the scan works
   * as before, reading every process.
   */
  const openSwitchRecords = async (): Promise<RunWatch | undefined> => {
    const self = files.readLink(`${paths.proc}/self`);
    if (!self.ok || self.value !== String(process.pid)) {
      deps.logger.debug('procfs: context-switch records are not used: the /proc read is not of this pid namespace', { proc: procRoot });
      return undefined;
    }
    const opened = await openRunWatch(files);
    if (!opened.ok) {
      deps.logger.debug(`procfs: context-switch records are not used (every process is read each scan): ${formatStatus(opened.status)}`);
      return undefined;
    }
    return opened.value;
  };

  /** One process scan; records the process list for the groups. */
  const scan = async (wants: ScanWants, signal: AbortSignal, boot: number): Promise<Awaited<ReturnType<typeof scanProcesses>>> => {
    users.begin();
    const result = await scanProcesses(
      {
        files,
        proc: paths.proc,
        userHz: config.userHz,
        readIo: config.readIo,
        maxCmdlineChars: config.maxCmdlineChars,
        scanChunk: config.scanChunk,
        bootMs: boot,
        users,
        tracker,
        runs: runs?.watch,
      },
      wants,
      signal,
    );
    if (result.complete) lastScan = { at: clock.monotonic(), seen: result.seen };
    return result;
  };

  const context: GroupContext = {
    config,
    deps,
    files,
    bootMs: readBoot,
    async processes(signal) {
      if (lastScan !== undefined && clock.monotonic() - lastScan.at <= FRESH_SCAN_MS) return lastScan.seen;
      const boot = readBoot();
      if (boot === undefined) return lastScan?.seen ?? [];
      const result = await scan({ processes: false, stats: false, sched: false }, signal, boot);
      return result.complete ? result.seen : (lastScan?.seen ?? result.seen);
    },
  };
  const groups = GROUPS.map((group) => ({ names: new Set(group.tables.map((table) => table.name)), group, collector: group.create(context) }));
  // With process events on, the processes table takes its lifetimes from them (see lifetimes.ts).
  let births: { readonly cursor: EventCursor; readonly lifetimes: Lifetimes } | undefined;

  const sample = <T>(path: string, parse: (text: string) => Result<T>): Result<Sample<T>> => {
    const ts = clock.now();
    const text = files.readText(path);
    if (!text.ok) return err(classifyHostRead(text.status, procRoot));
    const parsed = parse(text.value);
    return parsed.ok ? { ok: true, value: { value: parsed.value, ts } } : parsed;
  };

  /** Runs each group over its due tables, each table within its budget. */
  const collectGroups = async (wanted: ReadonlySet<string>, signal: AbortSignal, batches: Batch[], errors: Status[]): Promise<void> => {
    for (const { names, group, collector } of groups) {
      const due = new Set([...wanted].filter((table) => names.has(table)));
      if (due.size === 0) continue;
      const budgets = new Map<string, Budget>();
      for (const table of due) budgets.set(table, createBudget(config.budgets[table] ?? group.budgetMs[table] ?? DEFAULT_BUDGET_MS, signal, clock.monotonic));
      const output = await collector.collect(due, budgets, signal);
      batches.push(...output.batches);
      errors.push(...output.errors);
    }
  };

  return {
    async start({ tables }) {
      const on = new Set(tables ?? KNOWN);
      if (config.switchRecords && (on.has(Table.PROCESSES) || on.has(Table.PROCESS_STATS) || on.has(Table.PROCESS_SCHED))) {
        const opened = await openSwitchRecords();
        if (opened !== undefined) runs = { watch: opened, timer: setInterval(() => opened.drain(), DRAIN_EVERY_MS).unref() };
      }
      if (config.processEvents && on.has(Table.PROCESSES)) {
        const events = groups.find(({ group }) => group === EVENTS_GROUP)!.collector as EventsCollector;
        births = { cursor: events.subscribe(), lifetimes: createLifetimes((uid) => users.name(uid)) };
      }
      for (const { names, group, collector } of groups) {
        const mine = new Set([...names].filter((table) => on.has(table)));
        // The events also serve the processes table's lifetimes, with process_events turned off or not.
        const serves = group === EVENTS_GROUP && births !== undefined;
        if (collector.start === undefined || (mine.size === 0 && !serves)) continue;
        const status = await collector.start(mine);
        if (status.code !== StatusCode.OK) startErrors.push(status);
      }
      return OK;
    },
    async close() {
      if (runs !== undefined) {
        clearInterval(runs.timer);
        runs.watch.close();
        runs = undefined;
      }
      tracker.close();
      births?.cursor.close();
      let first: Status = OK;
      for (const { collector } of groups) {
        if (collector.close === undefined) continue;
        const status = await collector.close();
        if (status.code !== StatusCode.OK && first.code === StatusCode.OK) first = status;
      }
      return first;
    },
    async collect({ tables, signal }): Promise<CollectResult> {
      const batches: Batch[] = [];
      const errors: Status[] = startErrors.splice(0);
      const wanted = new Set<string>();
      for (const table of tables) {
        if (KNOWN.has(table)) wanted.add(table);
        else errors.push(fail(StatusCode.INVALID_ARGUMENT, `procfs has no table '${table}'`, { op: 'collect' }));
      }

      let stat: Result<Sample<ProcStat>> | undefined;
      const procStat = (): Result<Sample<ProcStat>> => {
        if (stat === undefined) {
          stat = sample(paths.stat, parseProcStat);
          if (stat.ok) bootMs ??= stat.value.value.btime * 1000;
        }
        return stat;
      };
      let meminfo: Result<Sample<ReadonlyMap<string, Count>>> | undefined;
      const memInfo = (): Result<Sample<ReadonlyMap<string, Count>>> => (meminfo ??= sample(paths.meminfo, parseMeminfo));
      const reported = new Set<Result<unknown>>();
      const usable = <T>(result: Result<Sample<T>>): Sample<T> | undefined => {
        if (result.ok) return result.value;
        if (!reported.has(result)) errors.push(result.status);
        reported.add(result);
        return undefined;
      };

      if (wanted.has(Table.SYSTEM_INFO)) {
        const info = systemInfo(files, paths, usable(procStat()), usable(memInfo()), errors);
        if (info !== undefined) batches.push({ table: Table.SYSTEM_INFO, ts: info.ts, rows: [info.value], snapshot: true });
      }
      if (wanted.has(Table.CPU)) {
        const s = usable(procStat());
        if (s !== undefined) batches.push({ table: Table.CPU, ts: s.ts, rows: cpuRows(s.value, config.userHz), snapshot: true });
      }
      if (wanted.has(Table.MEMORY)) {
        const m = usable(memInfo());
        if (m !== undefined) batches.push({ table: Table.MEMORY, ts: m.ts, rows: [memoryRow(m.value)], snapshot: true });
      }
      if (wanted.has(Table.LOAD)) {
        const s = usable(procStat());
        const l = usable(sample(paths.loadavg, parseLoadavg));
        if (s !== undefined && l !== undefined) batches.push({ table: Table.LOAD, ts: l.ts, rows: [loadRow(l.value, s.value)], snapshot: true });
      }

      const wantsProcesses = wanted.has(Table.PROCESSES);
      const wantsStats = wanted.has(Table.PROCESS_STATS);
      const wantsSched = wanted.has(Table.PROCESS_SCHED);
      if (wantsProcesses || wantsStats || wantsSched) {
        if (bootMs === undefined) usable(procStat());
        if (bootMs !== undefined) {
          const ts = clock.now();
          const result = await scan({ processes: wantsProcesses, stats: wantsStats, sched: wantsSched }, signal, bootMs);
          // Drained after the scan, so the fork of every process it listed is there (a fork reports
          // before the child runs); the processes batches are stamped after them.
          const events = wantsProcesses && births !== undefined ? births.cursor.drain() : [];
          const drainedAt = clock.now();
          const passwd = users.failure();
          if (passwd !== undefined) errors.push(passwd);
          for (const status of result.errors) {
            if (status.code === StatusCode.PERMISSION_DENIED) {
              if (deniedReported) {
                deps.logger.debug(formatStatus(status));
                continue;
              }
              deniedReported = true;
            }
            errors.push(status);
          }
          const listed = result.complete || result.seen.length > 0;
          if (wantsProcesses && births !== undefined) {
            // Applied even when the scan listed nothing: the drained births and exits are not lost.
            const timed = births.lifetimes.apply(events, drainedAt, result.processes, result.complete);
            if (timed.ended !== undefined) batches.push(timed.ended);
            if (listed) batches.push({ table: Table.PROCESSES, ts: drainedAt, rows: timed.rows, times: timed.times, snapshot: result.complete });
          }
          if (listed) {
            if (wantsProcesses && births === undefined) {
              batches.push({ table: Table.PROCESSES, ts, rows: result.processes, snapshot: result.complete });
            }
            if (wantsStats) batches.push({ table: Table.PROCESS_STATS, ts, rows: result.stats, snapshot: result.complete });
            if (wantsSched) batches.push({ table: Table.PROCESS_SCHED, ts, rows: result.sched, snapshot: result.complete });
          }
        }
      }
      if ([...wanted].some((table) => !CORE.has(table))) await collectGroups(wanted, signal, batches, errors);
      return { batches, errors };
    },
  };

  function systemInfo(
    reader: FileReader,
    p: Paths,
    stat: Sample<ProcStat> | undefined,
    mem: Sample<ReadonlyMap<string, Count>> | undefined,
    errors: Status[],
  ): Sample<ReturnType<typeof systemInfoRow>> | undefined {
    const required = (path: string): string | undefined => {
      const text = reader.readText(path);
      const value = text.ok ? parseValue(text.value, path) : err<string>(classifyHostRead(text.status, procRoot));
      if (value.ok) return value.value;
      errors.push(value.status);
      return undefined;
    };
    const optional = <T>(read: Result<string>, parse: (text: string) => Result<T>): T | null => {
      const value = read.ok ? parse(read.value) : read;
      if (value.ok) return value.value;
      if (value.status.code !== StatusCode.NOT_FOUND) errors.push(value.status);
      return null;
    };
    const ts = clock.now();
    const hostname = required(p.hostname);
    const kernel = required(p.osrelease);
    const kernelVersion = required(p.version);
    if (stat === undefined || mem === undefined || bootMs === undefined || hostname === undefined || kernel === undefined || kernelVersion === undefined) {
      return undefined;
    }
    const cpus = stat.value.cpus.length - 1;
    if (cpuinfoCache?.cpus !== cpus) {
      const info = optional(reader.readText(p.cpuinfo), parseCpuinfo);
      cpuinfoCache = info === null ? undefined : { cpus, info };
    }
    const row = systemInfoRow({
      hostname,
      kernel,
      kernelVersion,
      arch: optional(reader.readText(p.arch), (text) => parseValue(text, p.arch)),
      osRelease: optional(reader.readText(p.osRelease), parseOsRelease),
      machineId: optional(reader.readText(p.machineId), (text) => parseValue(text, p.machineId)),
      bootId: optional(reader.readText(p.bootId), (text) => parseValue(text, p.bootId)),
      stat: stat.value,
      bootMs,
      meminfo: mem.value,
      cpuinfo: cpuinfoCache?.info ?? null,
      numaNodes: numaNodes(reader, p, errors),
    });
    return { value: row, ts };
  }
}

/** NUMA nodes from sysfs: 1 when the kernel has no NUMA support, null when sysfs is not there. */
function numaNodes(reader: FileReader, paths: Paths, errors: Status[]): number | null {
  const nodes = reader.readDir(paths.nodes);
  if (nodes.ok) return countNodes(nodes.value);
  if (nodes.status.code !== StatusCode.NOT_FOUND) {
    errors.push(nodes.status);
    return null;
  }
  // No node folder: a kernel built without NUMA (one node) if sysfs itself is there.
  return reader.readDir(paths.system).ok ? 1 : null;
}
