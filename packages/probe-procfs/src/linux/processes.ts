/**
 * One scan of /proc serving both process tables: per pid it reads stat and status, then
 * cmdline and exe (processes; kernel threads and zombies have neither) and io (process_stats),
 * yielding to the event loop every `scanChunk` pids and stopping when the signal aborts.
 * Vanished pids and refused reads are tallied into one Status each per scan, never per pid.
 */
import { fail, isStatus, StatusCode, type FileReader, type Row, type Status } from '@virtualeyes/core';
import { parsePidStat, processStartTime, readUint, ticksToMs } from '@virtualeyes/linux';
import { classifyHostRead, classifyPidRead, ReadOutcome, type PidFile } from '../classify.js';
import { parseCmdline } from '../parse/cmdline.js';
import { parsePidIo, type PidIo } from '../parse/pid-io.js';
import { parsePidStatus } from '../parse/pid-status.js';
import type { ProcessInfo } from '../group.js';
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
  /** CPU ms of each process at the scan before, by `pid:start_time`; the scan replaces its contents. */
  readonly previousCpu: Map<string, number>;
}

/** Which tables the scan fills. */
export interface ScanWants {
  readonly processes: boolean;
  readonly stats: boolean;
}

/** The rows of one scan and what went wrong. */
export interface ScanResult {
  readonly processes: Row[];
  readonly stats: Row[];
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

/** Scans every pid under the procfs root. */
export async function scanProcesses(ctx: ScanContext, wants: ScanWants, signal: AbortSignal): Promise<ScanResult> {
  const processes: Row[] = [];
  const stats: Row[] = [];
  const seen: ProcessInfo[] = [];
  const errors: Status[] = [];
  const listed = ctx.files.readDir(ctx.proc);
  if (!listed.ok) return { processes, stats, seen, complete: false, errors: [classifyHostRead(listed.status, ctx.files.resolve(ctx.proc))] };
  const cpu = new Map<string, number>();

  const tally: Tally = { exited: 0, hidden: 0, deniedIo: 0, deniedExe: 0, failures: new Map() };
  const names = listed.value;
  let done = 0;
  let total = 0;
  for (const name of names) if (isPidName(name)) total += 1;
  let complete = true;
  for (const name of names) {
    if (!isPidName(name)) continue;
    if (done > 0 && done % ctx.scanChunk === 0) await yieldToLoop();
    if (signal.aborted) {
      complete = false;
      errors.push(abortStatus(signal, done, total));
      break;
    }
    done += 1;
    readPid(ctx, wants, name, tally, { processes, stats, seen, cpu });
  }
  errors.push(...summarize(tally));
  // An aborted scan keeps the older figures of the processes it did not reach.
  if (!complete) for (const [key, ms] of ctx.previousCpu) if (!cpu.has(key)) cpu.set(key, ms);
  ctx.previousCpu.clear();
  for (const [key, ms] of cpu) ctx.previousCpu.set(key, ms);
  return { processes, stats, seen, complete, errors };
}

/** Where readPid puts what it read. */
interface ScanOut {
  readonly processes: Row[];
  readonly stats: Row[];
  readonly seen: ProcessInfo[];
  readonly cpu: Map<string, number>;
}

function readPid(ctx: ScanContext, wants: ScanWants, name: string, tally: Tally, out: ScanOut): void {
  const { processes, stats } = out;
  const { files } = ctx;
  const dir = `${ctx.proc}/${name}/`;

  const statText = files.readText(`${dir}stat`);
  if (!statText.ok) return missed(tally, statText.status, 'stat');
  const stat = parsePidStat(statText.value);
  if (!stat.ok) return failed(tally, stat.status);
  const statusText = files.readText(`${dir}status`);
  if (!statusText.ok) return missed(tally, statusText.status, 'status');
  const status = parsePidStatus(statusText.value);
  if (!status.ok) return failed(tally, status.status);
  const s = stat.value;
  const st = status.value;
  const startTime = processStartTime(ctx.bootMs, s.starttime, ctx.userHz);
  const utime = ticksToMs(s.utime, ctx.userHz);
  const stime = ticksToMs(s.stime, ctx.userHz);
  const kernelThread = (s.flags & PF_KTHREAD) !== 0;
  const cpuMs = utime + stime;
  const cpuKey = `${s.pid}:${startTime}`;
  const before = ctx.previousCpu.get(cpuKey);
  out.cpu.set(cpuKey, cpuMs);
  out.seen.push({
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
  });

  if (wants.processes) {
    // Kernel threads and zombies have no memory map: an empty cmdline and no exe, always.
    // Not asking saves two system calls and a thrown ENOENT per kernel thread.
    const noMm = kernelThread || s.state === 'Z';
    let cmdline = '';
    let exe: string | null = null;
    if (!noMm) {
      const cmdlineText = files.readText(`${dir}cmdline`);
      if (!cmdlineText.ok) return missed(tally, cmdlineText.status, 'cmdline');
      const parsed = parseCmdline(cmdlineText.value, ctx.maxCmdlineChars);
      if (parsed.ok) cmdline = parsed.value;
      const link = files.readLink(`${dir}exe`);
      if (link.ok) exe = link.value;
      else if (optional(tally, link.status, 'exe')) tally.deniedExe += 1;
    }
    processes.push({
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
  }

  if (wants.stats) {
    let io: PidIo | null = null;
    if (ctx.readIo) {
      const ioText = files.readText(`${dir}io`);
      if (ioText.ok) {
        const parsed = parsePidIo(ioText.value);
        if (parsed.ok) io = parsed.value;
        else failed(tally, parsed.status);
      } else if (optional(tally, ioText.status, 'io')) {
        tally.deniedIo += 1;
      }
    }
    stats.push({
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
  }
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
