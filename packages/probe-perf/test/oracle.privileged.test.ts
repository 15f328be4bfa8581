/**
 * Per-process counts against independent oracles, on workloads with a known effect: context
 * switches of a pipe ping-pong against `perf stat -p` and the kernel's own counters in
 * /proc/PID/status; page faults of touching fresh pages against `perf stat -p`, also for a
 * thread created after the counters attached (counted once, through inherit); and a child
 * process forked later, which perf stat -p folds into its parent and this probe does not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Probe, Row } from '@virtualeyes/core';
import {
  batchOf,
  collect,
  IN_CI,
  IS_ROOT,
  kernelContextSwitches,
  num,
  onPath,
  probeOver,
  requires,
  rowOf,
  startPerfStat,
  startWorkload,
  within,
  type Workload,
} from './helpers.js';

const TOLERANCE = 0.05;
const tools = requires('perf and python3', process.platform === 'linux' && onPath('perf') && onPath('python3'));

if (IN_CI) {
  it('runs as root in CI (per-process kernel events and perf stat -p of any process need it)', () => {
    expect(IS_ROOT).toBe(true);
  });
}

describe.skipIf(!tools || !IS_ROOT)('per-process counts agree with perf stat and the kernel (skipped unless root with perf and python3)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const start = async (script: string, args: string[]): Promise<Workload> => {
    const workload = await startWorkload(script, args);
    cleanups.push(() => workload.stop());
    return workload;
  };
  const probeFor = (pid: number, events: string[]): Probe => {
    const probe = probeOver({ events, processes: { pids: [pid] } });
    cleanups.push(() => probe.close());
    return probe;
  };
  const processRows = async (probe: Probe): Promise<readonly Row[]> => {
    const result = await collect(probe, ['perf_process']);
    expect(result.errors).toEqual([]);
    return batchOf(result.batches, 'perf_process').rows;
  };
  // A counter whose task has not run since it opened has time_running 0 and a null value: it counted nothing yet.
  const value = (rows: readonly Row[], event: string, pid: number): number => {
    const row = rowOf(rows, event, { pid });
    expect(row, `${event} of pid ${pid}`).toBeDefined();
    if (row!.value === null) {
      expect([row!.time_running, row!.raw, row!.scale]).toEqual([0, 0, null]);
      return 0;
    }
    return num(row!.value);
  };

  /** Runs a workload from 'go' to 'done' between two collections, with `perf stat -p` attached over the same interval. */
  const measure = async (script: string, args: string[], events: string[], perfEvents: string[] = events) => {
    const workload = await start(script, args);
    const probe = probeFor(workload.pid, events);
    const before = await processRows(probe);
    const perf = await startPerfStat(perfEvents, ['-p', String(workload.pid)]);
    const kernelBefore = kernelContextSwitches(workload.pid);
    workload.send('go');
    await workload.waitFor('done');
    const after = await processRows(probe);
    const kernel = kernelContextSwitches(workload.pid) - kernelBefore;
    const counts = await perf.stop();
    return {
      delta: (event: string): number => value(after, event, workload.pid) - value(before, event, workload.pid),
      oracle: (event: string): number | undefined => counts.get(event),
      kernelContextSwitches: kernel,
    };
  };

  it('counts the context switches of a pipe ping-pong like perf stat -p and /proc/PID/status', async () => {
    const rounds = 4000;
    const run = await measure('pingpong.py', [String(rounds)], ['context-switches']);
    const delta = run.delta('context-switches');
    const oracle = run.oracle('context-switches');

    // Each round blocks the parent in read() unless the child already answered.
    expect(delta).toBeGreaterThan(rounds / 2);
    expect(oracle, 'perf stat counted').toBeTypeOf('number');
    expect(within(delta, oracle!, TOLERANCE), `probe ${delta}, perf stat ${oracle}`).toBe(true);
    expect(within(delta, run.kernelContextSwitches, TOLERANCE), `probe ${delta}, /proc/PID/status ${run.kernelContextSwitches}`).toBe(true);
  });

  it('counts the page faults of touching fresh pages like perf stat -p', async () => {
    const pages = 6000;
    const run = await measure('faults.py', [String(pages)], ['page-faults', 'minor-faults', 'major-faults'], ['page-faults']);
    const delta = run.delta('page-faults');
    const oracle = run.oracle('page-faults');

    expect(delta).toBeGreaterThanOrEqual(pages);
    expect(oracle, 'perf stat counted').toBeTypeOf('number');
    expect(within(delta, oracle!, TOLERANCE), `probe ${delta}, perf stat ${oracle}`).toBe(true);
    expect(run.delta('minor-faults') + run.delta('major-faults')).toBe(delta);
  });

  it('counts a thread that existed at attach and one created later, each once', async () => {
    const pages = 4000;
    const run = await measure('threads.py', [String(pages)], ['page-faults']);
    const delta = run.delta('page-faults');
    const oracle = run.oracle('page-faults');

    expect(delta).toBeGreaterThanOrEqual(2 * pages);
    // Counted twice, the later thread would push the total to about 3×pages.
    expect(delta).toBeLessThan(2.5 * pages);
    expect(within(delta, oracle!, TOLERANCE), `probe ${delta}, perf stat ${oracle}`).toBe(true);
  });

  it('counts the process itself, not the child processes it forks later (perf stat -p follows those)', async () => {
    const pages = 4000;
    const run = await measure('forks.py', [String(pages)], ['page-faults']);

    expect(run.oracle('page-faults')).toBeGreaterThanOrEqual(pages);
    expect(run.delta('page-faults')).toBeLessThan(pages / 4);
  });
});
