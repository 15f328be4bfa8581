/**
 * Time as plugins and the scheduler see it. Everything that waits or stamps goes through a
 * Clock, so tests drive time with the fake clock from `@virtualeyes/core/testing`. The system
 * clock's timers never keep the process alive; work that must finish (a shutdown) holds the
 * process with {@link holdProcess} instead.
 */

/** A pending timer; cancel it to stop the callback from running. */
export interface Timer {
  /** Stops the callback if it has not run yet. */
  cancel(): void;
}

/** Wall time, monotonic time and timers. */
export interface Clock {
  /** Wall-clock time, milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic time in milliseconds (fractional), for measuring durations. */
  monotonic(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): Timer;
}

/** The real clock: Date.now, performance.now and Node timers (which never keep the process alive). */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    setTimer(fn, ms) {
      const handle = setTimeout(fn, Math.max(0, ms));
      handle.unref();
      return { cancel: () => clearTimeout(handle) };
    },
  };
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Longest delay Node accepts for a timer; the hold's interval never needs to fire. */
const HOLD_INTERVAL_MS = 2 ** 31 - 1;

/**
 * Keeps the process alive until the returned release is called (idempotent). Clock timers are
 * unref'd so that a recording never delays an exit; a shutdown waiting on one of them (a write
 * retry, a deadline) holds the process with this, so Node cannot exit mid-shutdown.
 */
export function holdProcess(): () => void {
  const handle = setInterval(() => undefined, HOLD_INTERVAL_MS);
  return () => clearInterval(handle);
}
