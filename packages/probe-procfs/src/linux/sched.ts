/**
 * process_sched rows, built by the process scan from what it read: run time, wait time and
 * timeslices from schedstat (nanoseconds on a CPU, nanoseconds runnable but waiting, times
 * scheduled in), a single-threaded process's own, else summed over task/TID/schedstat of its
 * threads; the policy, priorities and last CPU from /proc/PID/stat, and the context switches
 * of the main thread from /proc/PID/status (as `pidstat -w` reports them). Like the other
 * process rows, a process whose stat, schedstat and io did not change keeps its last row.
 */
import type { FileReader, Row } from '@virtualeyes/core';
import { readInt, readUint } from '@virtualeyes/linux';
import type { PidStatus } from '../parse/pid-status.js';

/** Scheduling policies by number (sched(7)). */
const POLICIES: readonly string[] = ['other', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline', 'ext'];

/** Run time, wait time (ns) and timeslices summed over the threads in `dir`/task, or undefined when none could be read. */
export function threadTimes(files: FileReader, dir: string): [number, number, number] | undefined {
  const tasks = files.readDir(`${dir}task`);
  if (!tasks.ok) return undefined;
  let run = 0;
  let wait = 0;
  let slices = 0;
  let threads = 0;
  for (const tid of tasks.value) {
    const text = files.readText(`${dir}task/${tid}/schedstat`);
    // A thread that ended meanwhile takes its times with it, as the kernel's own sums do.
    if (!text.ok) continue;
    const fields = schedstatFields(text.value);
    if (fields === undefined) continue;
    run += fields[0];
    wait += fields[1];
    slices += fields[2];
    threads += 1;
  }
  return threads === 0 ? undefined : [run, wait, slices];
}

/** The process_sched row of one process from its stat line, status and thread times. */
export function schedRow(pid: number, startTime: number, statText: string, nice: number, status: PidStatus, times: readonly [number, number, number] | undefined): Row {
  const extra = statTail(statText);
  return {
    pid,
    start_time: startTime,
    run_time: times === undefined ? null : Math.round(times[0] / 1e6),
    wait_time: times === undefined ? null : Math.round(times[1] / 1e6),
    timeslices: times === undefined ? null : times[2],
    voluntary_ctxt_switches: status.voluntaryCtxtSwitches,
    nonvoluntary_ctxt_switches: status.nonvoluntaryCtxtSwitches,
    processor: extra?.processor ?? null,
    priority: extra?.priority ?? null,
    nice,
    rt_priority: extra?.rtPriority ?? null,
    policy: extra === undefined ? null : (POLICIES[extra.policy] ?? String(extra.policy)),
  };
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
