// The pure steps: which versions a state batch opens and closes (uncommitted changes never
// reach the remembered versions), and which tables a query mentions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Batch } from '@virtualeyes/core';
import { createOverlay, diffStateBatch, entityKey, remembered, sameValues, serialize, type OpenVersion } from '../src/versions.js';
import { mentions } from '../src/query.js';
import { OS, PROCESSES, T0 } from './helpers.js';

const batch = (ts: number, rows: Batch['rows'], snapshot = true): Batch => ({ table: 'processes', ts, rows, snapshot });
const a = { pid: 1, start_time: 5, comm: 'a', args: ['x'] };
const b = { pid: 2, start_time: 6, comm: 'b', args: null };

describe('diffStateBatch', () => {
  it('opens, keeps, changes and closes', () => {
    const base = new Map<string, OpenVersion>();
    const first = createOverlay(base);
    expect(diffStateBatch(PROCESSES, first, batch(T0, [a, b]))).toEqual({ closes: [], inserts: [{ row: a, from: T0 }, { row: b, from: T0 }] });
    first.commit();
    expect(base.size).toBe(2);

    const second = createOverlay(base);
    const changed = { ...a, args: ['y'] };
    const diff = diffStateBatch(PROCESSES, second, batch(T0 + 1, [changed]));
    expect(diff.inserts).toEqual([{ row: changed, from: T0 + 1 }]);
    expect(diff.closes.map(({ version, at }) => [version.row, version.validFrom, at])).toEqual([
      [a, T0, T0 + 1],
      [b, T0, T0 + 1],
    ]);
    second.commit();
    expect([...base.values()].map((version) => version.row)).toEqual([changed]);
  });

  it('tells keys apart by every key column, and values by every other column', () => {
    expect(entityKey(PROCESSES.key, a)).not.toBe(entityKey(PROCESSES.key, { ...a, start_time: 7 }));
    expect(entityKey(PROCESSES.key, a)).toBe(entityKey(PROCESSES.key, { ...a, start_time: 5n, comm: 'other' }));
    expect(entityKey(OS.key, { kernel: 'x' })).toBe('');
    const base = new Map<string, OpenVersion>();
    const overlay = createOverlay(base);
    diffStateBatch(PROCESSES, overlay, batch(T0, [a]));
    expect(diffStateBatch(PROCESSES, overlay, batch(T0 + 1, [{ ...a, args: ['x', ''] }])).inserts).toHaveLength(1);
    expect(diffStateBatch(PROCESSES, overlay, batch(T0 + 2, [{ ...a, args: ['x', ''] }])).inserts).toHaveLength(0);
  });

  it('leaves the remembered versions alone until commit', () => {
    const base = new Map<string, OpenVersion>();
    const overlay = createOverlay(base);
    diffStateBatch(PROCESSES, overlay, batch(T0, [a]));
    diffStateBatch(PROCESSES, overlay, batch(T0 + 1, [b]));
    expect(base.size).toBe(0);
    expect([...overlay.keys()]).toEqual([entityKey(PROCESSES.key, b)]);
  });

  it("opens each row's version at its own time, never at or before the version it replaces", () => {
    const overlay = createOverlay(new Map<string, OpenVersion>());
    const timed = (ts: number, rows: Batch['rows'], times: number[], snapshot = true): Batch => ({ ...batch(ts, rows, snapshot), times });
    expect(diffStateBatch(PROCESSES, overlay, timed(T0 + 1000, [a, b], [T0 + 250.5, T0 + 1000])).inserts).toEqual([
      { row: a, from: T0 + 250.5 },
      { row: b, from: T0 + 1000 },
    ]);
    // A change said to begin before the version it replaces begins one microsecond after it.
    const changed = { ...a, comm: 'a2' };
    const diff = diffStateBatch(PROCESSES, overlay, timed(T0 + 2000, [changed, b], [T0 + 100, T0 + 1500]));
    expect(diff.inserts).toEqual([{ row: changed, from: T0 + 250.501 }]);
    expect(diff.closes.map(({ version, at }) => [version.row, at])).toEqual([[a, T0 + 250.501]]);
  });

  it('closes an ended entity at its end, and stores one that came and went as a version already over', () => {
    const overlay = createOverlay(new Map<string, OpenVersion>());
    diffStateBatch(PROCESSES, overlay, batch(T0, [a]));
    const brief = { pid: 3, start_time: 7, comm: 'brief', args: [] };
    const ended: Batch = { ...batch(T0 + 1000, [{ ...a, comm: 'ignored' }, brief], false), times: [T0 + 1000, T0 + 400], ends: [T0 + 700, T0 + 450] };
    const diff = diffStateBatch(PROCESSES, overlay, ended);
    expect(diff.closes.map(({ version, at }) => [version.row, at])).toEqual([[a, T0 + 700]]);
    expect(diff.inserts).toEqual([{ row: brief, from: T0 + 400, to: T0 + 450 }]);
    expect([...overlay.keys()]).toEqual([]);
    // Ended entities are forgotten: a later snapshot without them closes nothing more.
    expect(diffStateBatch(PROCESSES, overlay, batch(T0 + 2000, [b]))).toEqual({ closes: [], inserts: [{ row: b, from: T0 + 2000 }] });
  });

  it('does not close missing entities of a partial batch', () => {
    const base = new Map<string, OpenVersion>();
    const overlay = createOverlay(base);
    diffStateBatch(PROCESSES, overlay, batch(T0, [a, b]));
    expect(diffStateBatch(PROCESSES, overlay, batch(T0 + 1, [a], false))).toEqual({ closes: [], inserts: [] });
    expect([...overlay.keys()]).toHaveLength(2);
  });
});

describe('mentions', () => {
  it.each([
    ['SELECT * FROM processes', 'processes', true],
    ['SELECT * FROM PROCESSES', 'processes', true],
    ['SELECT * FROM "processes"', 'processes', true],
    ['SELECT * FROM history.processes', 'processes', true],
    ['SELECT * FROM process_stats', 'processes', false],
    ['SELECT * FROM processes_old', 'processes', false],
    ['SELECT * FROM my_processes', 'processes', false],
  ])('%s mentions %s: %s', (sql, name, expected) => {
    expect(mentions(sql, name)).toBe(expected);
  });
});

describe('sameValues', () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer({ min: -5, max: 5 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -5n, max: 5n }),
    fc.constantFrom(2n ** 60n, 2 ** 60),
    fc.string({ maxLength: 3 }),
    fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 }),
  );

  it('calls two rows equal exactly when their serializations are (5 and 5n, null and undefined alike)', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const [x, y] = [{ c: a }, { c: b }] as never[];
        expect(sameValues(['c'], x, y)).toBe(serialize(['c'], x) === serialize(['c'], y));
      }),
      { numRuns: 2000 },
    );
  });

  it('compares only the columns asked for, and a NaN equal to a NaN', () => {
    expect(sameValues(['a'], { a: 1, b: 2 }, { a: 1, b: 3 })).toBe(true);
    expect(sameValues(['a', 'b'], { a: 1, b: 2 }, { a: 1, b: 3 })).toBe(false);
    expect(sameValues(['a'], { a: Number.NaN }, { a: Number.NaN })).toBe(true);
    expect(sameValues(['a'], { a: Number.NaN }, { a: null })).toBe(false);
  });

  it('remembers a copy of a row that is not frozen, so a caller changing it later is still seen as a change', () => {
    const row: Record<string, number> = { pid: 1, start_time: T0, rss: 5 };
    const kept = remembered(row);
    row.rss = 6;
    expect(sameValues(['rss'], row, kept)).toBe(false);
    const frozen = Object.freeze({ pid: 1, rss: 5 });
    expect(remembered(frozen)).toBe(frozen);
  });
});
