/**
 * One scan of /proc serving both process tables: per pid it reads stat, schedstat and io (held
 * open between scans by the tracker, see tracker.ts) and, only when one of them changed since
 * the last scan, status, then cmdline and exe (processes; kernel threads and zombies have
 * neither); an unchanged process keeps its last rows. It yields to the event loop every
 * `scanChunk` pids and stops when the signal aborts. Vanished pids and refused reads are
 * tallied into one Status each per scan, never per pid.
 */
import { fail, isStatus, StatusCode, type FileReader, type Row, type Status } from '@virtualeyes/core';
import { parsePidStat, processStartTime, readUint, ticksToMs } from '@virtualeyes/linux';
import { classifyHostRead, classifyPidRead, ReadOutcome, type PidFile } from '../classify.js';
import { parseCmdline } from '../parse/cmdline.js';
import { parsePidIo, type PidIo } from '../parse/pid-io.js';
import { parsePidStatus } from '../parse/pid-status.js';
import type { ProcessInfo } from '../group.js';
import { schedRow, schedstatFields, threadTimes } from './sched.js';
import { isOptionalAbsence, newTracked, REFRESH_SCANS, type ProcessTracker, type Tracked } from './tracker.js';
import type { RunWatch } from './runs.js';
import type { UserNames } from './users.js';

/** PF_KTHREAD in the flags field of /proc/PID/stat. */
const PF_KTHREAD = 0x00200000;
const SCAN_OP = 'scan /proc';
const DENIED_OP = 'read /proc/[pid]';

/** What a scan needs from the collector. */
export interface ScanContext {
  readonly files: FileReader;
  /** `/proc`, as the FileReader (which maps it to the host's root) reads it. */
  readonly proc: string;
  readonly userHz: number;
  readonly readIo: boolean;
  readonly maxCmdlineChars: number;
  readonly scanChunk: number;
  /** Boot time, epoch milliseconds (start times are relative to it). */
  readonly bootMs: number;
  readonly users: UserNames;
  /** What the scan keeps of each process between scans. */
  readonly tracker: ProcessTracker;
  /** Which processes ran since they were last read (runs.ts); without it every process is read. */
  readonly runs?: RunWatch | undefined;
}

/** Which tables the scan fills. */
export interface ScanWants {
  readonly processes: boolean;
  readonly stats: boolean;
  readonly sched: boolean;
}

/** The rows of one scan and what went wrong. */
export interface ScanResult {
  readonly processes: Row[];
  readonly stats: Row[];
  readonly sched: Row[];
  /** Every process read, whichever tables were wanted: what table groups pick processes by. */
  readonly seen: ProcessInfo[];
  /** False when the scan stopped early (aborted): the rows are not every process. */
  readonly complete: boolean;
  readonly errors: Status[];
}

/** Counts of what went wrong during a scan, turned into at most one Status per kind. */
interface Tally {
  exited: number;
  hidden: number;
  deniedIo: number;
  deniedExe: number;
  failures: Map<string, { first: Status; count: number }>;
}

/**
 * Every this many complete scans the pids come from listing /proc even when the run watch could
 * give them, bounding what a birth the watch somehow missed could cost.
 */
export const LISTING_SCANS = 10;

/**
 * Scans every process. Which ones: the processes the last complete scan read plus every pid the
 * run watch saw forked or switched since then (the kernel records every fork, before the child
 * first runs), so a busy host's /proc is not listed each second; an exit shows as the failed
 * read of a process's held stat. Without the
 * watch, when it lost records, after an incomplete scan and every LISTING_SCANS scans, /proc is
 * listed. Processes that may have run are read first, so that a parent found gone by now
 * counts as gone for its children (its exit reparented them without their running).
 */
export async function scanProcesses(ctx: ScanContext, wants: ScanWants, signal: AbortSignal): Promise<ScanResult> {
  const processes: Row[] = [];
  const stats: Row[] = [];
  const sched: Row[] = [];
  const seen: ProcessInfo[] = [];
  const errors: Status[] = [];
  const { tracker, runs } = ctx;
  // First: a process that runs after this drain shows in a later one, whatever this scan lists.
  runs?.drain(true);
  const drained = runs?.seq ?? -1;
  const born = runs !== undefined && tracker.knownThrough !== undefined && tracker.scansSinceListing < LISTING_SCANS - 1 ? runs.ranAfter(tracker.knownThrough) : undefined;
  // The pids of this scan; a pid found gone leaves it (a parent not among them has exited, whatever the tracker still holds).
  const pids = new Set<number>();
  if (born === undefined) {
    const listed = ctx.files.readDir(ctx.proc);
    if (!listed.ok) {
      tracker.knownThrough = undefined;
      return { processes, stats, sched, seen, complete: false, errors: [classifyHostRead(listed.status, ctx.files.resolve(ctx.proc))] };
    }
    for (const name of listed.value) if (isPidName(name)) pids.add(Number(name));
  } else {
    for (const pid of tracker.entries.keys()) pids.add(pid);
    for (const pid of born) if (pid > 0) pids.add(pid);
  }

  const tally: Tally = { exited: 0, hidden: 0, deniedIo: 0, deniedExe: 0, failures: new Map() };
  tracker.generation += 1;
  const first: number[] = [];
  const later: number[] = [];
  for (const pid of pids) {
    const entry = tracker.entries.get(pid);
    if (runs === undefined || entry === undefined || entry.info === undefined || entry.info.state === 'Z' || runs.ranSince(pid, entry.checkedSeq)) first.push(pid);
    else later.push(pid);
  }
  const total = pids.size;
  let done = 0;
  let complete = true;
  for (const pid of first.concat(later)) {
    if (done > 0 && done % ctx.scanChunk === 0) await yieldToLoop();
    if (signal.aborted) {
      complete = false;
      errors.push(abortStatus(signal, done, total));
      break;
    }
    done += 1;
    const readAt = tracker.entries.get(pid)?.checkedSeq;
    let gone = readPid(ctx, wants, pid, tally, { processes, stats, sched, seen }, pids);
    // A held file fails once its process is gone, and the pid may already be another's: read afresh when a fork may have reused it.
    if (gone !== undefined && readAt !== undefined && (born === undefined || runs === undefined || runs.forkedAfter(pid, readAt))) {
      gone = readPid(ctx, wants, pid, tally, { processes, stats, sched, seen }, pids);
    }
    if (gone === undefined) continue;
    pids.delete(pid);
    // A pid that was listed ended while being read; one the watch gave ended as processes do, and is no news.
    if (born === undefined) missed(tally, gone, 'stat');
  }
  errors.push(...summarize(tally));
  // A process a complete scan did not see is gone; an aborted scan leaves the rest as they were, and the next one lists /proc.
  if (complete) {
    tracker.sweep();
    runs?.retain(pids, drained);
    tracker.knownThrough = runs === undefined ? undefined : drained;
    tracker.scansSinceListing = born === undefined ? 0 : tracker.scansSinceListing + 1;
  } else {
    tracker.knownThrough = undefined;
  }
  return { processes, stats, sched, seen, complete, errors };
}

/** Where readPid puts what it read. */
interface ScanOut {
  readonly processes: Row[];
  readonly stats: Row[];
  readonly sched: Row[];
  readonly seen: ProcessInfo[];
}

/** Reads one process into `out`; the failed read's Status when its stat could not be read (the process is gone, or hidden), else undefined. */
function readPid(ctx: ScanContext, wants: ScanWants, pid: number, tally: Tally, out: ScanOut, pids: ReadonlySet<number>): Status | undefined {
  const { processes, stats } = out;
  const { files, tracker } = ctx;
  const dir = `${ctx.proc}/${pid}/`;
  const known = tracker.entries.get(pid);
  const entry = known ?? newTracked(tracker.generation);
  entry.seenIn = tracker.generation;
  if (known === undefined) tracker.entries.set(pid, entry);
  if (known !== undefined && ctx.runs !== undefined && notRun(ctx.runs, entry, pid, tracker, pids) && hasRows(entry, wants)) {
    // Not switched in or out since it was last read, and still its parent's: nothing it shows changed.
    reuse(entry, wants, out);
    return undefined;
  }
  const seq = ctx.runs?.seq ?? -1;

  const statText = tracker.read(entry, 'stat', `${dir}stat`, false);
  if (!statText.ok) {
    tracker.drop(pid);
    if (classifyPidRead(statText.status, 'stat') === ReadOutcome.EXITED) return statText.status;
    missed(tally, statText.status, 'stat');
    return undefined;
  }
  let changed = entry.last.get('stat') !== statText.value;
  entry.last.set('stat', statText.value);
  // schedstat changes whenever the main thread ran, even too briefly for stat's clock ticks.
  if (entry.last.get('schedstat') !== null) {
    const sched = tracker.read(entry, 'schedstat', `${dir}schedstat`, true);
    const text = sched.ok ? sched.value : null;
    // Without schedstat (a kernel without schedstats) nothing proves a process idle: read it whole.
    if (text === null || entry.last.get('schedstat') !== text) changed = true;
    if (sched.ok || isOptionalAbsence(sched.status.code)) entry.last.set('schedstat', text);
  } else {
    changed = true;
  }
  let ioText: string | null | undefined;
  // A single-threaded process that did not run did no I/O: its io is read only when something changed.
  const ioNeeded = wants.stats && ctx.readIo && (changed || entry.threads !== 1 || entry.statsRow === undefined || refreshDue(tracker, pid));
  if (wants.stats && ctx.readIo && !ioNeeded) {
    ioText = entry.last.get('io');
    if (entry.ioRefused) tally.deniedIo += 1;
  } else if (wants.stats && ctx.readIo) {
    if (entry.last.get('io') === null && known !== undefined && !refreshDue(tracker, pid)) {
      // Refused or absent before: not asked again until the next refresh, a refusal still counted.
      ioText = null;
      if (entry.ioRefused) tally.deniedIo += 1;
    } else {
      const io = tracker.read(entry, 'io', `${dir}io`, true);
      if (io.ok) {
        ioText = io.value;
      } else {
        ioText = null;
        closeHeld(tracker, entry, 'io');
        entry.ioRefused = optional(tally, io.status, 'io');
        if (entry.ioRefused) tally.deniedIo += 1;
      }
      if (entry.last.get('io') !== ioText) changed = true;
      entry.last.set('io', ioText);
    }
  }
  if (!changed && known !== undefined && !refreshDue(tracker, pid) && hasRows(entry, wants)) {
    entry.checkedSeq = seq;
    reuse(entry, wants, out);
    return undefined;
  }
  // Until rows are built from these texts, the next scan must not take them as already seen.
  const texts = new Map(entry.last);
  entry.last.clear();

  const stat = parsePidStat(statText.value);
  if (!stat.ok) {
    failed(tally, stat.status);
    return undefined;
  }
  const statusText = files.readText(`${dir}status`);
  if (!statusText.ok) {
    missed(tally, statusText.status, 'status');
    return undefined;
  }
  const status = parsePidStatus(statusText.value);
  if (!status.ok) {
    failed(tally, status.status);
    return undefined;
  }
  const s = stat.value;
  const st = status.value;
  const startTime = processStartTime(ctx.bootMs, s.starttime, ctx.userHz);
  entry.threads = s.threads;
  entry.ppid = s.ppid;
  entry.checkedSeq = seq;
  const utime = ticksToMs(s.utime, ctx.userHz);
  const stime = ticksToMs(s.stime, ctx.userHz);
  const kernelThread = (s.flags & PF_KTHREAD) !== 0;
  const cpuMs = utime + stime;
  const before = entry.info?.startTime === startTime ? entry.info.cpuMs : undefined;
  entry.info = {
    pid: s.pid,
    startTime,
    comm: s.comm,
    uid: st.uid,
    user: ctx.users.name(st.uid),
    kernelThread,
    state: s.state,
    cpuMs,
    cpuRecentMs: before === undefined ? 0 : Math.max(0, cpuMs - before),
    rss: Number(st.rss ?? 0),
  };
  entry.idleInfo = undefined;
  entry.processRow = undefined;
  entry.statsRow = undefined;
  entry.schedRow = undefined;
  out.seen.push(entry.info);

  if (wants.processes) {
    // Kernel threads and zombies have no memory map: an empty cmdline and no exe, always.
    // Not asking saves two system calls and a thrown ENOENT per kernel thread.
    const noMm = kernelThread || s.state === 'Z';
    let cmdline = '';
    let exe: string | null = null;
    if (!noMm) {
      const cmdlineText = files.readText(`${dir}cmdline`);
      if (!cmdlineText.ok) {
        missed(tally, cmdlineText.status, 'cmdline');
        return undefined;
      }
      const parsed = parseCmdline(cmdlineText.value, ctx.maxCmdlineChars);
      if (parsed.ok) cmdline = parsed.value;
      const link = files.readLink(`${dir}exe`);
      if (link.ok) exe = link.value;
      else if (optional(tally, link.status, 'exe')) tally.deniedExe += 1;
    }
    // Frozen: an unchanged process re-emits this very object, which the pipeline and the sink recognise as unchanged.
    entry.processRow = Object.freeze({
      pid: s.pid,
      start_time: startTime,
      ppid: s.ppid,
      pgid: s.pgid,
      sid: s.sid,
      uid: st.uid,
      gid: st.gid,
      user: ctx.users.name(st.uid),
      comm: s.comm,
      cmdline,
      exe,
      tty_nr: s.ttyNr,
      kernel_thread: kernelThread,
    });
    processes.push(entry.processRow);
  }

  if (wants.stats) {
    let io: PidIo | null = null;
    if (typeof ioText === 'string') {
      const parsed = parsePidIo(ioText);
      if (parsed.ok) io = parsed.value;
      else failed(tally, parsed.status);
    }
    entry.statsRow = Object.freeze({
      pid: s.pid,
      start_time: startTime,
      utime,
      stime,
      rss: st.rss ?? 0,
      vsize: s.vsize,
      threads: s.threads,
      state: s.state,
      nice: s.nice,
      minflt: s.minflt,
      majflt: s.majflt,
      read_bytes: io === null ? null : io.readBytes,
      write_bytes: io === null ? null : io.writeBytes,
      read_chars: io === null ? null : io.rchar,
      write_chars: io === null ? null : io.wchar,
      voluntary_ctxt_switches: st.voluntaryCtxtSwitches,
      nonvoluntary_ctxt_switches: st.nonvoluntaryCtxtSwitches,
    });
    stats.push(entry.statsRow);
  }
  if (wants.sched) {
    // A single thread's schedstat is the process's; more threads are summed from task/.
    const own = texts.get('schedstat');
    const times = s.threads === 1 && typeof own === 'string' ? schedstatFields(own) : threadTimes(files, dir);
    entry.schedRow = Object.freeze(schedRow(s.pid, startTime, statText.value, s.nice, st, times));
    out.sched.push(entry.schedRow);
  }
  for (const [file, text] of texts) entry.last.set(file, text);
  return undefined;
}

/**
 * Whether the run watch shows `entry` untouched since its last read: it was not switched in or
 * out, it is no zombie (its pid may be reaped and reused by a child that has not run yet), its
 * parent is still a live process this scan listed (a parent's exit reparents its children
 * without them running), and no refresh is due (what others change without it running, such as
 * a renice or reclaimed resident pages, shows within REFRESH_SCANS scans).
 */
function notRun(runs: RunWatch, entry: Tracked, pid: number, tracker: ProcessTracker, pids: ReadonlySet<number>): boolean {
  const since = entry.checkedSeq;
  if (since < 0 || entry.info === undefined || entry.info.state === 'Z' || refreshDue(tracker, pid) || runs.ranSince(pid, since)) return false;
  if (entry.ppid === 0) return true;
  if (!pids.has(entry.ppid)) return false;
  const parent = tracker.entries.get(entry.ppid);
  return parent !== undefined && parent.info !== undefined && parent.info.state !== 'Z';
}

/** Whether `entry` has the last rows of every table the scan fills. */
function hasRows(entry: Tracked, wants: ScanWants): boolean {
  return entry.info !== undefined && (!wants.processes || entry.processRow !== undefined) && (!wants.stats || entry.statsRow !== undefined) && (!wants.sched || entry.schedRow !== undefined);
}

/** Emits an unchanged process's last rows (the very frozen objects, which the pipeline and the sink recognise as unchanged). */
function reuse(entry: Tracked, wants: ScanWants, out: ScanOut): void {
  entry.idleInfo ??= { ...entry.info!, cpuRecentMs: 0 };
  out.seen.push(entry.idleInfo);
  if (wants.processes && entry.processRow !== undefined) out.processes.push(entry.processRow);
  if (wants.stats && entry.statsRow !== undefined) out.stats.push(entry.statsRow);
  if (wants.sched && entry.schedRow !== undefined) out.sched.push(entry.schedRow);
}

/** Whether this scan reads the process whole even if nothing changed (once every REFRESH_SCANS scans, staggered by pid). */
function refreshDue(tracker: ProcessTracker, pid: number): boolean {
  return (tracker.generation + pid) % REFRESH_SCANS === 0;
}

/** Stops holding one file of a process (a refused io is not asked again until the next refresh). */
function closeHeld(tracker: ProcessTracker, entry: Tracked, name: 'io'): void {
  const file = entry.held.get(name);
  if (file === undefined) return;
  file.close();
  entry.held.delete(name);
  tracker.heldCount -= 1;
}

/** A read every live process allows failed: the pid is skipped. */
function missed(tally: Tally, status: Status, file: PidFile): void {
  const outcome = classifyPidRead(status, file);
  if (outcome === ReadOutcome.EXITED) tally.exited += 1;
  else if (outcome === ReadOutcome.DENIED) tally.hidden += 1;
  else failed(tally, status);
}

/** A read whose value may be null failed; true when it was refused (counted by the caller). */
function optional(tally: Tally, status: Status, file: PidFile): boolean {
  const outcome = classifyPidRead(status, file);
  if (outcome === ReadOutcome.DENIED) return true;
  if (outcome === ReadOutcome.FAILED) failed(tally, status);
  return false;
}

function failed(tally: Tally, status: Status): void {
  const seen = tally.failures.get(status.code);
  if (seen === undefined) tally.failures.set(status.code, { first: status, count: 1 });
  else seen.count += 1;
}

function summarize(tally: Tally): Status[] {
  const statuses: Status[] = [];
  if (tally.exited > 0) {
    statuses.push(
      fail(StatusCode.NOT_FOUND, `${plural(tally.exited, 'process', 'processes')} exited while being read`, {
        op: SCAN_OP,
        retryable: false,
      }),
    );
  }
  if (tally.hidden + tally.deniedIo + tally.deniedExe > 0) {
    const parts: string[] = [];
    if (tally.deniedIo > 0) parts.push(`io of ${plural(tally.deniedIo, 'process', 'processes')}`);
    if (tally.deniedExe > 0) parts.push(`exe of ${plural(tally.deniedExe, 'process', 'processes')}`);
    const nulls = parts.length > 0 ? `could not read ${parts.join(' and ')} (values are null)` : '';
    const hidden = tally.hidden > 0 ? `${plural(tally.hidden, 'process', 'processes')} hidden (hidepid)` : '';
    statuses.push(
      fail(StatusCode.PERMISSION_DENIED, `${[nulls, hidden].filter((part) => part !== '').join('; ')}; needs root or CAP_SYS_PTRACE (a sandbox's pid 1 may refuse even root)`, {
        op: DENIED_OP,
        retryable: false,
      }),
    );
  }
  for (const { first, count } of tally.failures.values()) {
    statuses.push(count === 1 ? first : fail(first.code, `${first.message} (and ${count - 1} more like it)`, { ...first, op: first.op ?? SCAN_OP }));
  }
  return statuses;
}

function abortStatus(signal: AbortSignal, seen: number, total: number): Status {
  const reason: unknown = signal.reason;
  const code = isStatus(reason) ? reason.code : StatusCode.TIMEOUT;
  return fail(code === StatusCode.OK ? StatusCode.TIMEOUT : code, `process scan stopped after ${seen} of ${total} processes; rows are partial`, {
    op: SCAN_OP,
  });
}

function isPidName(name: string): boolean {
  const c = name.charCodeAt(0);
  return c >= 49 && c <= 57 && readUint(name, 0, name.length) > 0;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function yieldToLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
