import { describe, expect, it } from 'vitest';
import { processStartTime, ticksToMs } from '../src/index.js';

describe('process identity', () => {
  it('converts clock ticks to milliseconds, exactly at the usual USER_HZ and rounded otherwise', () => {
    expect(ticksToMs(12345, 100)).toBe(123_450);
    expect(ticksToMs(3, 250)).toBe(12);
    expect(ticksToMs(1, 300)).toBe(3);
  });

  it('computes start_time from boot time and the starttime ticks', () => {
    expect(processStartTime(1_763_787_600_000, 50_000, 100)).toBe(1_763_787_600_000 + 500_000);
  });
});
