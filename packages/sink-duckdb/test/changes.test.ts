// diffMetricBatch, the pure decision of what a metric batch stores: which rows (new, changed,
// keyframe due, out of order), which tombstones, and what the writer forgets, batch by batch.
import { describe, expect, it } from 'vitest';
import type { Batch, Row } from '@virtualeyes/core';
import { diffMetricBatch, type StoredSample } from '../src/changes.js';
import { createOverlay } from '../src/versions.js';
import { PROCESS_STATS, T0 } from './helpers.js';

const KEYFRAME_MS = 10_000;

function batch(ts: number, rows: readonly Row[], snapshot = true): Batch {
  return { table: 'process_stats', ts, snapshot, rows };
}

/** Runs batches through one committed memory; returns, per batch, the pids stored and the pids tombstoned. */
function run(batches: readonly Batch[], keyframeMs = KEYFRAME_MS): [number[], number[]][] {
  const base = new Map<string, StoredSample>();
  return batches.map((next) => {
    const overlay = createOverlay(base);
    const changes = diffMetricBatch(PROCESS_STATS, overlay, next, keyframeMs);
    overlay.commit();
    return [changes.rows.map((row) => Number(row['pid'])), changes.gone.map((row) => Number(row['pid']))];
  });
}

const a = { pid: 1, rss: 100, cpu: 0 };
const b = { pid: 2, rss: 200, cpu: 0 };

describe('diffMetricBatch', () => {
  it.each<[string, Batch[], [number[], number[]][]]>([
    ['stores new entities, then nothing while they idle', [batch(T0, [a, b]), batch(T0 + 1000, [a, b])], [[[1, 2], []], [[], []]]],
    ['stores a changed value once', [batch(T0, [a]), batch(T0 + 1000, [{ ...a, rss: 101 }]), batch(T0 + 2000, [{ ...a, rss: 101 }])], [[[1], []], [[1], []], [[], []]]],
    ['treats 5 and 5n, and a missing value and null, as equal', [batch(T0, [{ pid: 1, rss: 5, cpu: null }]), batch(T0 + 1000, [{ pid: 1, rss: 5n }])], [[[1], []], [[], []]]],
    ['stores a keyframe once the last row is keyframeMs old, not before', [batch(T0, [a]), batch(T0 + 9999, [a]), batch(T0 + 10_000, [a]), batch(T0 + 11_000, [a])], [[[1], []], [[], []], [[1], []], [[], []]]],
    ['stores a batch older than the last stored row', [batch(T0 + 5000, [a]), batch(T0, [a])], [[[1], []], [[1], []]]],
    ['tombstones an entity a snapshot lacks, once', [batch(T0, [a, b]), batch(T0 + 1000, [a]), batch(T0 + 2000, [a])], [[[1, 2], []], [[], [2]], [[], []]]],
    ['stores an entity that comes back after its tombstone', [batch(T0, [a, b]), batch(T0 + 1000, [a]), batch(T0 + 2000, [a, b])], [[[1, 2], []], [[], [2]], [[2], []]]],
    ['writes no tombstone for a partial batch', [batch(T0, [a, b], false), batch(T0 + 1000, [a], false)], [[[1, 2], []], [[], []]]],
    ['keeps the last row of a repeated key', [batch(T0, [a, { ...a, rss: 7 }]), batch(T0 + 1000, [{ ...a, rss: 7 }])], [[[1], []], [[], []]]],
  ])('%s', (_name, batches, expected) => {
    expect(run(batches)).toEqual(expected);
  });

  it('takes a frozen row re-emitted as the same object as unchanged, and still sees a change in a mutable row changed in place', () => {
    const frozen = Object.freeze({ pid: 1, rss: 100, cpu: 0 });
    const mutable: Record<string, number> = { pid: 2, rss: 200, cpu: 0 };
    const base = new Map<string, StoredSample>();
    const step = (next: Batch) => {
      const overlay = createOverlay(base);
      const changes = diffMetricBatch(PROCESS_STATS, overlay, next, KEYFRAME_MS);
      overlay.commit();
      return changes.rows.map((row) => Number(row['pid']));
    };
    expect(step(batch(T0, [frozen, mutable]))).toEqual([1, 2]);
    expect(step(batch(T0 + 1000, [frozen, mutable]))).toEqual([]);
    mutable['rss'] = 201;
    expect(step(batch(T0 + 2000, [frozen, mutable]))).toEqual([2]);
    // The keyframe still comes for the frozen row.
    expect(step(batch(T0 + 10_000, [frozen, mutable]))).toEqual([1]);
  });

  it('forgets an entity missing from partial batches once its last row is keyframeMs old, so it is stored in full when it returns', () => {
    const base = new Map<string, StoredSample>();
    const step = (next: Batch) => {
      const overlay = createOverlay(base);
      const changes = diffMetricBatch(PROCESS_STATS, overlay, next, KEYFRAME_MS);
      overlay.commit();
      return changes;
    };
    step(batch(T0, [a, b], false));
    step(batch(T0 + 9000, [a], false));
    expect(base.size).toBe(2);
    step(batch(T0 + 10_000, [a], false));
    expect([...base.values()].map((sample) => sample.row['pid'])).toEqual([1]);
    expect(step(batch(T0 + 11_000, [b], false)).rows).toEqual([b]);
  });

  it('stores every row with a keyframe of 0, as layout 1 did', () => {
    expect(run([batch(T0, [a, b]), batch(T0 + 1000, [a, b])], 0)).toEqual([
      [[1, 2], []],
      [[1, 2], []],
    ]);
  });

  it('leaves the committed memory untouched until commit', () => {
    const base = new Map<string, StoredSample>();
    const overlay = createOverlay(base);
    diffMetricBatch(PROCESS_STATS, overlay, batch(T0, [a]), KEYFRAME_MS);
    expect(base.size).toBe(0);
    overlay.commit();
    expect(base.size).toBe(1);
  });
});
