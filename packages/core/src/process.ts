/**
 * How every plugin identifies a process: by pid and start_time, never by pid alone. The
 * start time is computed one way everywhere, so rows of different probes join on it.
 */

/** Milliseconds in `ticks` clock ticks at `userHz` ticks per second (exact for the usual 100). */
export function ticksToMs(ticks: number, userHz: number): number {
  return 1000 % userHz === 0 ? ticks * (1000 / userHz) : Math.round((ticks * 1000) / userHz);
}

/**
 * A process's `start_time` in epoch milliseconds: the boot time (btime in /proc/stat × 1000;
 * read once per probe so a stepped wall clock does not change it) plus the starttime field of
 * /proc/PID/stat (clock ticks since boot).
 */
export function processStartTime(bootMs: number, startTicks: number, userHz: number): number {
  return bootMs + ticksToMs(startTicks, userHz);
}
