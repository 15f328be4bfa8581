/**
 * Clock ticks (USER_HZ): the unit of every time in /proc/PID/stat and /proc/stat. The kernel
 * exports it to user space as sysconf(_SC_CLK_TCK); Node cannot call sysconf, so probes take
 * it from their `userHz` option, whose default is the value every mainstream Linux uses.
 */

/** USER_HZ on every mainstream Linux (`getconf CLK_TCK`): the default of each probe's `userHz` option. */
export const DEFAULT_USER_HZ = 100;

/** Largest tick count whose value in milliseconds stays an exact number at any USER_HZ ≥ 1. */
export const MAX_TICKS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

/** Milliseconds in `ticks` clock ticks at `userHz` ticks per second (exact when USER_HZ divides 1000, as 100 does; rounded otherwise). */
export function ticksToMs(ticks: number, userHz: number): number {
  return 1000 % userHz === 0 ? ticks * (1000 / userHz) : Math.round((ticks * 1000) / userHz);
}
