/**
 * Kernel event time to wall time. Each event carries CLOCK_MONOTONIC nanoseconds (the clock of
 * Node's process.hrtime.bigint() on Linux); the wall clock's offset from it is measured with
 * clock_gettime (microsecond-exact, where Date.now() would round to a millisecond), kept for a
 * second, and measured again, so NTP slewing or a stepped clock is followed within a second.
 */
import type { ClockReading } from './native.js';

/** How long one measured offset is used. */
export const OFFSET_REFRESH_MS = 1000;
/** Readings taken per measurement; the tightest pair (least preempted) wins. */
const TRIES = 3;
const NS_PER_US = 1000n;
const NS_PER_MS = 1_000_000;

/** Maps CLOCK_MONOTONIC nanoseconds to epoch milliseconds and to boot-relative clock ticks. */
export interface EventClock {
  /** Epoch milliseconds, microsecond precision, of a CLOCK_MONOTONIC time. */
  epochMs(ns: bigint): number;
  /**
   * The /proc/PID/stat starttime (clock ticks since boot, CLOCK_BOOTTIME) a process started at
   * `ns` would show: for a process gone before its stat could be read.
   */
  startTicks(ns: bigint, userHz: number): number;
}

/** Creates a clock over `read` (the three clocks back to back) and `monotonicMs`, which says when to refresh. */
export function createEventClock(read: () => ClockReading, monotonicMs: () => number): EventClock {
  let offset = 0n;
  let bootOffset = 0n;
  let measuredAt = Number.NEGATIVE_INFINITY;

  const refresh = (): void => {
    const now = monotonicMs();
    if (now - measuredAt < OFFSET_REFRESH_MS) return;
    let best: ClockReading | undefined;
    for (let i = 0; i < TRIES; i += 1) {
      const reading = read();
      if (best === undefined || reading.after - reading.before < best.after - best.before) best = reading;
    }
    const reading = best!;
    const middle = (reading.before + reading.after) / 2n;
    offset = reading.realtime - middle;
    bootOffset = reading.boottime - reading.after;
    measuredAt = now;
  };

  return {
    epochMs(ns) {
      refresh();
      return Number((ns + offset) / NS_PER_US) / 1000;
    },
    startTicks(ns, userHz) {
      refresh();
      const tick = BigInt(Math.round(1e9 / userHz));
      return Number((ns + bootOffset) / tick);
    },
  };
}

/** Milliseconds between two CLOCK_MONOTONIC times, microsecond precision. */
export function elapsedMs(from: bigint, to: bigint): number {
  return Number((to - from) / NS_PER_US) / (NS_PER_MS / 1000);
}
