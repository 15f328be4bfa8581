/**
 * Conversion of kernel clock ticks (USER_HZ) to the milliseconds every table stores. With
 * the usual USER_HZ of 100 the result is exact; other values round to the nearest ms.
 */

/** Milliseconds in `ticks` clock ticks at `userHz` ticks per second. */
export function ticksToMs(ticks: number, userHz: number): number {
  return 1000 % userHz === 0 ? ticks * (1000 / userHz) : Math.round((ticks * 1000) / userHz);
}
