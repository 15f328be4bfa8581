/**
 * How every plugin identifies a process: by (pid, start_time), never by pid alone, since pids
 * are reused. start_time is computed here and only here, so rows of different probes (procfs'
 * processes, perf's perf_process) join on it.
 */
import { ticksToMs } from './ticks.js';

/**
 * A process's `start_time` in epoch milliseconds: the boot time (btime × 1000, read once per
 * probe) plus the starttime field of /proc/PID/stat (clock ticks since boot) in milliseconds.
 */
export function processStartTime(bootMs: number, startTicks: number, userHz: number): number {
  return bootMs + ticksToMs(startTicks, userHz);
}

/** The `pid/start_time` string that keys a process in maps and sets. */
export function processKey(pid: number, startTime: number): string {
  return `${pid}/${startTime}`;
}
