/**
 * A fake Clock for tests: time moves only when the test advances it, and timers fire in
 * time order, with pending promise callbacks settled between them.
 */
import type { Clock, Timer } from '../clock.js';

/** A Clock driven by the test. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order and settling promises between them. */
  advance(ms: number): Promise<void>;
  /** Lets pending promise callbacks run without moving time. */
  settle(): Promise<void>;
  /** Number of timers not yet fired or cancelled. */
  pending(): number;
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Creates a fake clock starting at `start` (epoch milliseconds). */
export function createFakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  let seq = 0;
  const timers: Scheduled[] = [];

  const settle = async (): Promise<void> => {
    // Several macrotask turns let chains of awaits (and fs callbacks) complete.
    for (let i = 0; i < 10; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  };

  const next = (limit: number): Scheduled | undefined => {
    let best: Scheduled | undefined;
    for (const timer of timers) {
      if (timer.cancelled || timer.at > limit) continue;
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  };

  return {
    now: () => now,
    monotonic: () => now - start,
    setTimer(fn, ms): Timer {
      const timer: Scheduled = { at: now + Math.max(0, ms), seq: (seq += 1), fn, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        const timer = next(target);
        if (timer === undefined) break;
        timer.cancelled = true;
        timers.splice(timers.indexOf(timer), 1);
        now = Math.max(now, timer.at);
        timer.fn();
        await settle();
      }
      now = target;
      for (let i = timers.length - 1; i >= 0; i -= 1) if (timers[i]!.cancelled) timers.splice(i, 1);
    },
    settle,
    pending: () => timers.filter((timer) => !timer.cancelled).length,
  };
}
