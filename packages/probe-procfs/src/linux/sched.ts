/**
 * process_sched: how the scheduler treated each process. Run time, wait time and timeslices are
 * summed over the process's threads (/proc/PID/task/TID/schedstat: nanoseconds on the CPU,
 * nanoseconds runnable but waiting, times scheduled in); the policy, priorities and last CPU
 * come from /proc/PID/stat, and the context switches of the main thread from /proc/PID/status
 * (as `pidstat -w` reports them). Processes come from the collector's latest scan; a pid whose
 * start time no longer matches was reused and is left for the next scan.
 */
import { fail, StatusCode, type FileReader, type Row, type Status } from '@virtualeyes/core';
import { parsePidStat, processStartTime, readInt, readUint } from '@virtualeyes/linux';
import { classifyPidRead, ReadOutcome } from '../classify.js';
import type { Budget, ProcessInfo } from '../group.js';
import { parsePidStatus } from '../parse/pid-status.js';

/** Scheduling policies by number (sched(7)). */
const POLICIES: readonly string[] = ['other', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline', 'ext'];
const TABLE = 'process_sched';

/** What the collection needs. */
export interface SchedContext {
  readonly files: FileReader;
  readonly proc: string;
  readonly bootMs: number;
  readonly userHz: number;
  readonly scanChunk: number;
}

/** One process_sched row per process of `processes`; exits and refusals are tallied into one Status each. */
export async function collectSched(ctx: SchedContext, processes: readonly ProcessInfo[], budget: Budget): Promise<{ rows: Row[]; errors: Status[] }> {
  const rows: Row[] = [];
  const errors: Status[] = [];
  let exited = 0;
  let refused = 0;
  let done = 0;
  if (budget.expired()) return { rows, errors: [budget.cutShort(TABLE, 0, processes.length)] };
  for (const process of processes) {
    if (done > 0 && done % ctx.scanChunk === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (budget.expired()) {
        errors.push(budget.cutShort(TABLE, done, processes.length));
        break;
      }
    }
    done += 1;
    const row = schedRow(ctx, process);
    if (row === ReadOutcome.EXITED) exited += 1;
    else if (row === ReadOutcome.DENIED) refused += 1;
    else if ('code' in row) errors.push(row as Status);
    else rows.push(row);
  }
  if (exited > 0) errors.push(fail(StatusCode.NOT_FOUND, `${TABLE}: ${exited} ${exited === 1 ? 'process' : 'processes'} exited while being read`, { op: `collect ${TABLE}`, retryable: false }));
  if (refused > 0) {
    errors.push(fail(StatusCode.PERMISSION_DENIED, `${TABLE}: could not read ${refused} ${refused === 1 ? 'process' : 'processes'} (left out); needs root or CAP_SYS_PTRACE`, { op: `collect ${TABLE}`, retryable: false }));
  }
  return { rows, errors };
}

function schedRow(ctx: SchedContext, process: ProcessInfo): Row | Status | typeof ReadOutcome.EXITED | typeof ReadOutcome.DENIED {
  const dir = `${ctx.proc}/${process.pid}`;
  const statText = ctx.files.readText(`${dir}/stat`);
  if (!statText.ok) return outcome(statText.status);
  const stat = parsePidStat(statText.value);
  if (!stat.ok) return stat.status;
  // The pid now belongs to another process: the next scan will know it.
  if (processStartTime(ctx.bootMs, stat.value.starttime, ctx.userHz) !== process.startTime) return ReadOutcome.EXITED;
  const extra = statTail(statText.value);
  const statusText = ctx.files.readText(`${dir}/status`);
  if (!statusText.ok) return outcome(statusText.status);
  const status = parsePidStatus(statusText.value);
  if (!status.ok) return status.status;
  const tasks = ctx.files.readDir(`${dir}/task`);
  if (!tasks.ok) return outcome(tasks.status);
  let run = 0;
  let wait = 0;
  let slices = 0;
  let threads = 0;
  for (const tid of tasks.value) {
    const text = ctx.files.readText(`${dir}/task/${tid}/schedstat`);
    // A thread that ended meanwhile takes its times with it, as the kernel's own sums do.
    if (!text.ok) continue;
    const fields = schedstatFields(text.value);
    if (fields === undefined) continue;
    run += fields[0];
    wait += fields[1];
    slices += fields[2];
    threads += 1;
  }
  return {
    pid: process.pid,
    start_time: process.startTime,
    run_time: threads === 0 ? null : Math.round(run / 1e6),
    wait_time: threads === 0 ? null : Math.round(wait / 1e6),
    timeslices: threads === 0 ? null : slices,
    voluntary_ctxt_switches: status.value.voluntaryCtxtSwitches,
    nonvoluntary_ctxt_switches: status.value.nonvoluntaryCtxtSwitches,
    processor: extra?.processor ?? null,
    priority: extra?.priority ?? null,
    nice: stat.value.nice,
    rt_priority: extra?.rtPriority ?? null,
    policy: extra === undefined ? null : (POLICIES[extra.policy] ?? String(extra.policy)),
  };
}

function outcome(status: Status): Status | typeof ReadOutcome.EXITED | typeof ReadOutcome.DENIED {
  const kind = classifyPidRead(status, 'stat');
  if (kind === ReadOutcome.EXITED || kind === ReadOutcome.DENIED) return kind;
  return status;
}

/** Fields 18 (priority), 39 (processor), 40 (rt_priority) and 41 (policy) of a stat line, counted from after the comm; undefined on an older kernel without them. */
export function statTail(text: string): { priority: number; processor: number; rtPriority: number; policy: number } | undefined {
  let at = text.lastIndexOf(')') + 2;
  const values = new Map<number, number>();
  for (let field = 3; field <= 41 && at > 1 && at < text.length; field += 1) {
    let end = text.indexOf(' ', at);
    if (end < 0) end = text.length;
    if (field === 18 || field >= 39) values.set(field, readInt(text, at, end));
    at = end + 1;
  }
  const priority = values.get(18);
  const processor = values.get(39);
  const rtPriority = values.get(40);
  const policy = values.get(41);
  if (priority === undefined || processor === undefined || rtPriority === undefined || policy === undefined) return undefined;
  if ([priority, processor, rtPriority, policy].some((value) => Number.isNaN(value))) return undefined;
  return { priority, processor, rtPriority, policy };
}

/** The three numbers of a schedstat line (ns on CPU, ns waiting, timeslices), or undefined when malformed. */
export function schedstatFields(text: string): [number, number, number] | undefined {
  const first = text.indexOf(' ');
  const second = text.indexOf(' ', first + 1);
  if (first <= 0 || second <= first) return undefined;
  let end = text.length;
  while (end > second + 1 && (text.charCodeAt(end - 1) === 10 || text.charCodeAt(end - 1) === 32)) end -= 1;
  const run = readUint(text, 0, first);
  const wait = readUint(text, first + 1, second);
  const slices = readUint(text, second + 1, end);
  if (!(run >= 0) || !(wait >= 0) || !(slices >= 0)) return undefined;
  return [run, wait, slices];
}
