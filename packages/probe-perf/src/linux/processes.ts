/**
 * Per-process counters. Every collection re-selects processes (by pid, comm pattern, cgroup),
 * releases the fds of those that exited or left the selection, and attaches new ones: one set
 * of groups per thread listed in /proc/PID/task, opened with inherit (threads only, where the
 * kernel has inherit_thread), so threads created afterwards count through the thread that
 * created them and are never opened twice. Counts are summed over threads, then scaled, as
 * `perf stat -p` does.
 */
import { fail, formatStatus, StatusCode, type Row, type Status } from '@virtualeyes/core';
import { classifyPidStatus, parsePidStat, PidErrno, processKey, processStartTime, readBootMs, readUint, type PidStat } from '@virtualeyes/linux';
import type { EventDef } from '../events.js';
import { parsePidList } from '../parse/values.js';
import type { ProcessSelection } from '../config.js';
import { closeGroups, fdCount, openGroups, readGroup, type CounterTarget, type OpenGroup } from './counters.js';
import { addCounts, counterColumns, hostFileStatus, type EventTotal, type Session } from './session.js';

/** What per-process counting needs from the config. */
export interface ProcessOptions {
  /** What to select. */
  readonly selection: ProcessSelection;
  /** Compiled `selection.comm` patterns. */
  readonly patterns: readonly RegExp[];
  /** Most processes counted at once. */
  readonly maxProcesses: number;
  /** Most fds the per-process counters may hold. */
  readonly maxFds: number;
  /** Clock ticks per second of start times. */
  readonly userHz: number;
  /** cgroup mount, without a trailing slash. */
  readonly cgroupRoot: string;
}

/** The per-process counters of one probe instance. */
export interface ProcessCounters {
  /** Re-selects, attaches and releases, then reads: the rows of perf_process. */
  collect(errors: Status[]): Row[];
  /** Processes counted now. */
  attached(): number;
  /** File descriptors held. */
  fds(): number;
  /** Closes every fd. */
  close(): void;
}

/** A selected process. */
interface Candidate {
  readonly pid: number;
  readonly comm: string;
  /** Epoch milliseconds, as probe-procfs computes it. */
  readonly startTime: number;
}

/** A process being counted. */
interface Attached extends Candidate {
  readonly openedAt: number;
  readonly threads: readonly { readonly target: CounterTarget; readonly groups: OpenGroup[] }[];
  readonly fds: number;
}

const PROC = '/proc';
const ZOMBIE_STATES: ReadonlySet<string> = new Set(['Z', 'X', 'x']);

/** Creates the per-process counters; nothing opens until the first collection. */
export function createProcessCounters(session: Session, options: ProcessOptions): ProcessCounters {
  const { files, logger } = session;
  const attached = new Map<string, Attached>();
  const denied = new Set<string>();
  let fdsInUse = 0;
  let bootMs: number | undefined;
  let leftOutReported = '';

  const keyOf = (candidate: Candidate): string => processKey(candidate.pid, candidate.startTime);
  const release = (entry: Attached): void => {
    for (const thread of entry.threads) closeGroups(session.io.sys, thread.groups);
    fdsInUse -= entry.fds;
    attached.delete(keyOf(entry));
  };

  /** Boot time from btime in /proc/stat, read once: start times stay stable if the wall clock is stepped. */
  const boot = (): number | undefined => {
    if (bootMs !== undefined) return bootMs;
    const boot = readBootMs(files);
    if (!boot.ok) {
      session.once('process:btime', hostFileStatus(boot.status, files.resolve(PROC)));
      return undefined;
    }
    bootMs = boot.value;
    return bootMs;
  };

  const select = (bootTime: number, errors: Status[]): Map<string, Candidate> => {
    const stats = new Map<number, PidStat | null>();
    const failures = new Set<string>();
    const readStat = (pid: number): PidStat | null => {
      const cached = stats.get(pid);
      if (cached !== undefined) return cached;
      const text = files.readText(`${PROC}/${pid}/stat`);
      const parsed = text.ok ? parsePidStat(text.value) : text;
      let stat: PidStat | null = null;
      if (parsed.ok) stat = parsed.value;
      else if (classifyPidStatus(parsed.status) !== PidErrno.GONE && !failures.has(parsed.status.code)) {
        failures.add(parsed.status.code);
        errors.push(parsed.status);
      }
      stats.set(pid, stat);
      return stat;
    };
    const selected = new Map<number, Candidate>();
    const add = (pid: number): void => {
      if (selected.has(pid)) return;
      const stat = readStat(pid);
      if (stat === null || ZOMBIE_STATES.has(stat.state)) return;
      selected.set(pid, { pid, comm: stat.comm, startTime: processStartTime(bootTime, stat.starttime, options.userHz) });
    };

    for (const pid of options.selection.pids) add(pid);
    for (const path of options.selection.cgroups) {
      const relative = path.startsWith('/') ? path : `/${path}`;
      const file = `${options.cgroupRoot}${relative.endsWith('/') ? relative.slice(0, -1) : relative}/cgroup.procs`;
      const text = files.readText(file);
      const pids = text.ok ? parsePidList(text.value, file) : text;
      if (!pids.ok) {
        const status =
          pids.status.code === StatusCode.NOT_FOUND
            ? fail(StatusCode.NOT_FOUND, `cgroup ${path} does not exist under ${options.cgroupRoot} (yet)`, { op: `read ${file}` })
            : pids.status;
        session.once(`process:cgroup:${path}:${status.code}`, status);
        continue;
      }
      for (const pid of pids.value) add(pid);
    }
    if (options.patterns.length > 0) {
      const names = files.readDir(PROC);
      if (!names.ok) session.once('process:list', hostFileStatus(names.status, files.resolve(PROC)));
      else {
        for (const name of names.value) {
          const pid = readUint(name, 0, name.length);
          if (pid <= 0) continue;
          const stat = readStat(pid);
          if (stat !== null && options.patterns.some((pattern) => pattern.test(stat.comm))) add(pid);
        }
      }
    }
    const byKey = new Map<string, Candidate>();
    for (const candidate of [...selected.values()].sort((a, b) => a.pid - b.pid)) byKey.set(keyOf(candidate), candidate);
    return byKey;
  };

  /** Opens counters on every thread of `candidate`; what kept it out goes to `deniedNow`, `leftOut` or `errors`. */
  const attach = (candidate: Candidate, errors: Status[], deniedNow: Status[], leftOut: string[], failures: Set<string>): void => {
    const label = `pid ${candidate.pid} (${candidate.comm})`;
    const listed = files.readDir(`${PROC}/${candidate.pid}/task`);
    if (!listed.ok) {
      if (classifyPidStatus(listed.status) !== PidErrno.GONE) errors.push(listed.status);
      return;
    }
    const tids = listed.value.map((name) => readUint(name, 0, name.length)).filter((tid) => tid > 0).sort((a, b) => a - b);
    const active = session.events.filter((event) => !session.unsupported.has(event)).length;
    if (tids.length === 0 || active === 0) return;
    if (attached.size >= options.maxProcesses) {
      leftOut.push(`${label}: maxProcesses ${options.maxProcesses} reached`);
      return;
    }
    const needed = tids.length * active;
    if (fdsInUse + needed > options.maxFds) {
      leftOut.push(`${label}: ${tids.length} threads × ${active} events would pass maxFds ${options.maxFds}`);
      return;
    }
    const threads: { target: CounterTarget; groups: OpenGroup[] }[] = [];
    const abandon = (): void => {
      for (const thread of threads) closeGroups(session.io.sys, thread.groups);
    };
    for (const tid of tids) {
      const target: CounterTarget = { pid: tid, cpu: -1, scope: 'process', label, inherit: true, excludeKernel: session.excludeKernel };
      const outcome = openGroups(session.io, session.groups, target, (event) => session.unsupported.has(event));
      for (const { event, status } of outcome.unsupported) session.markUnsupported(event, status);
      const failure = outcome.failure;
      if (failure === undefined) {
        threads.push({ target, groups: outcome.groups });
        continue;
      }
      // A thread that exited since the listing needs no counter; anything else leaves the process out.
      if (failure.code === StatusCode.NOT_FOUND) continue;
      abandon();
      if (failure.code === StatusCode.PERMISSION_DENIED) {
        denied.add(keyOf(candidate));
        deniedNow.push(failure);
      } else if (!failures.has(failure.code)) {
        failures.add(failure.code);
        errors.push(failure);
      } else {
        logger.debug(formatStatus(failure));
      }
      return;
    }
    let fds = 0;
    for (const thread of threads) fds += fdCount(thread.groups);
    if (fds === 0) return;
    fdsInUse += fds;
    attached.set(keyOf(candidate), { ...candidate, openedAt: session.clock.now(), threads, fds });
  };

  const { pids, comm, cgroups } = options.selection;
  const selecting = pids.length + comm.length + cgroups.length > 0;

  return {
    collect(errors) {
      if (!selecting) return [];
      const bootTime = boot();
      if (bootTime === undefined) return [];
      const candidates = select(bootTime, errors);
      for (const entry of [...attached.values()]) {
        if (candidates.has(keyOf(entry))) continue;
        release(entry);
        logger.debug(`pid ${entry.pid} (${entry.comm}) exited or left the selection; its counters are closed`);
      }
      for (const key of [...denied]) if (!candidates.has(key)) denied.delete(key);

      const deniedNow: Status[] = [];
      const leftOut: string[] = [];
      const failures = new Set<string>();
      for (const [key, candidate] of candidates) {
        if (attached.has(key) || denied.has(key)) continue;
        attach(candidate, errors, deniedNow, leftOut, failures);
      }
      const firstDenied = deniedNow[0];
      if (firstDenied !== undefined) {
        const more = deniedNow.length - 1;
        errors.push(more === 0 ? firstDenied : fail(firstDenied.code, `${firstDenied.message} (and ${more} more processes)`, { op: firstDenied.op ?? 'open' }));
      }
      const leftOutNow = leftOut.join('; ');
      if (leftOutNow !== leftOutReported && leftOut.length > 0) {
        errors.push(
          fail(StatusCode.UNAVAILABLE, `${leftOut.length} selected ${leftOut.length === 1 ? 'process is' : 'processes are'} not counted: ${clipList(leftOut)}; raise maxProcesses or maxFds to count them`, {
            op: 'select processes',
            retryable: false,
          }),
        );
      }
      leftOutReported = leftOut.length > 0 ? leftOutNow : '';

      const rows: Row[] = [];
      const readFailures = new Set<string>();
      for (const entry of [...attached.values()].sort((a, b) => a.pid - b.pid)) {
        const totals = new Map<EventDef, EventTotal>();
        for (const thread of entry.threads) {
          for (const group of thread.groups) {
            const counts = readGroup(session.io, group, thread.target);
            if (counts.ok) addCounts(totals, counts.value, group.leader);
            else if (!readFailures.has(counts.status.code)) {
              readFailures.add(counts.status.code);
              errors.push(counts.status);
            }
          }
        }
        for (const event of session.events) {
          const total = totals.get(event);
          if (total === undefined) continue;
          const columns = counterColumns(event, total);
          if (columns === undefined) {
            session.once(`process:overflow:${event.name}`, fail(StatusCode.PARSE_ERROR, `${event.name} of pid ${entry.pid} passed int64`, { op: 'read counters' }));
            continue;
          }
          rows.push({ pid: entry.pid, start_time: entry.startTime, ...columns, user_only: session.excludeKernel, opened_at: entry.openedAt });
        }
      }
      return rows;
    },
    attached: () => attached.size,
    fds: () => fdsInUse,
    close() {
      for (const entry of [...attached.values()]) release(entry);
      denied.clear();
    },
  };
}


function clipList(items: readonly string[]): string {
  const shown = items.slice(0, 5).join('; ');
  return items.length > 5 ? `${shown}; and ${items.length - 5} more` : shown;
}
