/**
 * Scaling of a raw count by time_enabled / time_running, the way perf stat does it: when the
 * PMU was shared (multiplexed) the count is extrapolated and the factor kept; when the counter
 * never ran, the value is unknown (null), not zero. Exact bigint arithmetic, rounded to nearest.
 */
import { toCount, type Count } from '@virtualeyes/linux';

/** A count ready for a row: the scaled value and the factor applied. */
export interface Scaled {
  /** raw × enabled / running, rounded; null when the counter never ran (or the result passes int64). */
  readonly value: Count | null;
  /** enabled / running: 1 when never multiplexed; null when the counter never ran. */
  readonly scale: number | null;
}

/** Scales `raw` by `enabled / running`. */
export function scaleCount(raw: bigint, enabled: bigint, running: bigint): Scaled {
  if (running <= 0n) return { value: null, scale: null };
  if (running === enabled) return { value: toCount(raw) ?? null, scale: 1 };
  const value = (raw * enabled + running / 2n) / running;
  return { value: toCount(value) ?? null, scale: Number(enabled) / Number(running) };
}
