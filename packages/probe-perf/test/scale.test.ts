/**
 * Scaling by time_enabled / time_running: exact when never multiplexed, extrapolated and
 * rounded when it was, null (never 0) when the counter never ran, and exact beyond 2^53.
 */
import { describe, expect, it } from 'vitest';
import { scaleCount } from '../src/scale.js';

describe('scaleCount', () => {
  it.each([
    [100n, 10n, 10n, 100, 1],
    [100n, 30n, 10n, 300, 3],
    [1n, 3n, 2n, 2, 1.5],
    [10n, 4n, 3n, 13, 4 / 3],
    [0n, 5n, 5n, 0, 1],
    [2n ** 60n, 1n, 1n, 2n ** 60n, 1],
  ])('scales raw %s by %s/%s to %s (factor %s)', (raw, enabled, running, value, scale) => {
    expect(scaleCount(raw, enabled, running)).toEqual({ value, scale });
  });

  it('gives null, not 0, when the counter never ran', () => {
    expect(scaleCount(0n, 5n, 0n)).toEqual({ value: null, scale: null });
    expect(scaleCount(0n, 0n, 0n)).toEqual({ value: null, scale: null });
  });

  it('gives a null value when scaling passes int64', () => {
    expect(scaleCount(2n ** 62n, 4n, 1n).value).toBeNull();
  });
});
