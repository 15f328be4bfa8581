import { describe, expect, it } from 'vitest';
import { createScheduler, type RunCollection, type SchedulerConfig } from '../src/index.js';
import { createFakeClock } from '@virtualeyes/core/testing';

const config: SchedulerConfig = { jitterMs: 0, timeoutMs: 5_000, maxBackoffMs: 60_000 };
const START = Date.UTC(2026, 0, 1); // a multiple of every interval used below

interface Call {
  probe: string;
  tables: readonly string[];
  at: number;
}

function recorder(clock: { now(): number }, outcome: (call: Call) => Promise<{ ok: boolean }> = async () => ({ ok: true })) {
  const calls: Call[] = [];
  const run: RunCollection = async (probe, tables) => {
    const call = { probe, tables, at: clock.now() };
    calls.push(call);
    return outcome(call);
  };
  return { calls, run };
}

describe('scheduler', () => {
  it('collects at once on start, then on aligned interval slots per table', async () => {
    const clock = createFakeClock(START);
    const { calls, run } = recorder(clock);
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([
      { probe: 'p', table: 'fast', intervalMs: 1000 },
      { probe: 'p', table: 'slow', intervalMs: 5000 },
    ]);
    scheduler.start();
    await clock.advance(10_000);
    const at = (table: string) => calls.filter((c) => c.tables.includes(table)).map((c) => c.at - START);
    expect(at('fast')).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(at('slow')).toEqual([0, 5000, 10_000]);
    await scheduler.stop();
  });

  it('collects tables of one probe that fall due together in one call', async () => {
    const clock = createFakeClock(START);
    const { calls, run } = recorder(clock);
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([
      { probe: 'p', table: 'a', intervalMs: 2000 },
      { probe: 'p', table: 'b', intervalMs: 2000 },
      { probe: 'q', table: 'c', intervalMs: 2000 },
    ]);
    scheduler.start();
    await clock.advance(2000);
    expect(calls.map((c) => `${c.probe}:${c.tables.join('+')}@${c.at - START}`)).toEqual(['p:a+b@0', 'q:c@0', 'p:a+b@2000', 'q:c@2000']);
    await scheduler.stop();
  });

  it('ignores tables with interval 0', async () => {
    const clock = createFakeClock(START);
    const { calls, run } = recorder(clock);
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([{ probe: 'p', table: 'off', intervalMs: 0 }]);
    scheduler.start();
    await clock.advance(5000);
    expect(calls).toEqual([]);
    expect(scheduler.stats()).toEqual([]);
  });

  it('never runs two collections of one table at once: skips and counts', async () => {
    const clock = createFakeClock(START);
    const { calls, run } = recorder(clock, (call) =>
      new Promise((resolve) => clock.setTimer(() => resolve({ ok: true }), call.at === START ? 3500 : 10)),
    );
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([{ probe: 'p', table: 't', intervalMs: 1000 }]);
    scheduler.start();
    await clock.advance(5000);
    // Started at 0 (runs 3.5 s): 1000, 2000 and 3000 are skipped; 4000 and 5000 run.
    expect(calls.map((c) => c.at - START)).toEqual([0, 4000, 5000]);
    expect(scheduler.stats()[0]).toMatchObject({ runs: 3, skipped: 3 });
    await clock.advance(100);
    await scheduler.stop();
  });

  it('abandons a collection at the timeout, aborts its signal, and keeps the table busy until it settles', async () => {
    const clock = createFakeClock(START);
    let aborted = false;
    let release: (() => void) | undefined;
    let runs = 0;
    const run: RunCollection = (_probe, _tables, _ts, signal) => {
      runs += 1;
      if (runs > 1) return Promise.resolve({ ok: true });
      // The first run ignores its signal, like a stuck probe, and settles only when released.
      signal.addEventListener('abort', () => {
        aborted = true;
      });
      return new Promise((resolve) => {
        release = () => resolve({ ok: true });
      });
    };
    const scheduler = createScheduler({ clock, config: { ...config, timeoutMs: 2500 }, run });
    scheduler.add([{ probe: 'p', table: 't', intervalMs: 1000 }]);
    scheduler.start();
    await clock.advance(3000);
    expect(aborted).toBe(true);
    // Slots 1000 and 2000 fall inside the run, 3000 after the timeout but before it settles.
    expect(scheduler.stats()[0]).toMatchObject({ runs: 1, timeouts: 1, failures: 1, skipped: 3 });
    release?.();
    await clock.advance(2000);
    expect(scheduler.stats()[0]!.runs).toBe(3);
    await scheduler.stop();
  });

  it('backs off exponentially after repeated failures, capped, and recovers on success', async () => {
    const clock = createFakeClock(START);
    let failing = true;
    const { calls, run } = recorder(clock, async () => ({ ok: !failing }));
    const scheduler = createScheduler({ clock, config: { ...config, maxBackoffMs: 8000 }, run });
    scheduler.add([{ probe: 'p', table: 't', intervalMs: 1000 }]);
    scheduler.start();
    await clock.advance(30_000);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    // Delays grow 1 s, 2 s, 4 s, then stay at the 8 s cap.
    expect(gaps.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 8000]);
    failing = false;
    const before = calls.length;
    await clock.advance(20_000);
    const after = calls.slice(before - 1);
    const recovered = after.slice(1).map((c, i) => c.at - after[i]!.at);
    expect(recovered.slice(-3)).toEqual([1000, 1000, 1000]);
    expect(scheduler.stats()[0]!.consecutiveFailures).toBe(0);
    await scheduler.stop();
  });

  it('offsets each probe by a fixed jitter below jitterMs', async () => {
    const clock = createFakeClock(START);
    const { calls, run } = recorder(clock);
    const randoms = [0.5, 0.25];
    const scheduler = createScheduler({ clock, config: { ...config, jitterMs: 400 }, run, random: () => randoms.shift() ?? 0 });
    scheduler.add([
      { probe: 'a', table: 'x', intervalMs: 1000 },
      { probe: 'b', table: 'y', intervalMs: 1000 },
    ]);
    scheduler.start();
    await clock.advance(2500);
    const at = (probe: string) => calls.filter((c) => c.probe === probe).map((c) => c.at - START);
    expect(at('a')).toEqual([0, 200, 1200, 2200]);
    expect(at('b')).toEqual([0, 100, 1100, 2100]);
    await scheduler.stop();
  });

  it('stops planning on stop(), aborts running collections and waits for them', async () => {
    const clock = createFakeClock(START);
    let settled = false;
    const run: RunCollection = (_p, _t, _ts, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          settled = true;
          resolve({ ok: true });
        });
      });
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([{ probe: 'p', table: 't', intervalMs: 1000 }]);
    scheduler.start();
    await clock.advance(0);
    await scheduler.stop();
    expect(settled).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('counts rows and durations per table', async () => {
    const clock = createFakeClock(START);
    const run: RunCollection = async () => ({ ok: true, rows: { t: 7 } });
    const scheduler = createScheduler({ clock, config, run });
    scheduler.add([{ probe: 'p', table: 't', intervalMs: 1000 }]);
    scheduler.start();
    await clock.advance(2000);
    expect(scheduler.stats()[0]).toMatchObject({ runs: 3, rows: 21, lastDurationMs: 0, lastRunAt: START + 2000 });
    await scheduler.stop();
  });
});
