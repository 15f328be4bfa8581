// The pure steps: which versions a state batch opens and closes (uncommitted changes never
// reach the remembered versions), and which tables a query mentions.
import { describe, expect, it } from 'vitest';
import type { Batch } from '@virtualeyes/core';
import { createOverlay, diffStateBatch, entityKey, type OpenVersion } from '../src/versions.js';
import { mentions } from '../src/query.js';
import { OS, PROCESSES, T0 } from './helpers.js';

const batch = (ts: number, rows: Batch['rows'], snapshot = true): Batch => ({ table: 'processes', ts, rows, snapshot });
const a = { pid: 1, start_time: 5, comm: 'a', args: ['x'] };
const b = { pid: 2, start_time: 6, comm: 'b', args: null };

describe('diffStateBatch', () => {
  it('opens, keeps, changes and closes', () => {
    const base = new Map<string, OpenVersion>();
    const first = createOverlay(base);
    expect(diffStateBatch(PROCESSES, first, batch(T0, [a, b]))).toEqual({ closes: [], inserts: [a, b] });
    first.commit();
    expect(base.size).toBe(2);

    const second = createOverlay(base);
    const changed = { ...a, args: ['y'] };
    const diff = diffStateBatch(PROCESSES, second, batch(T0 + 1, [changed]));
    expect(diff.inserts).toEqual([changed]);
    expect(diff.closes.map((version) => [version.row, version.validFrom])).toEqual([
      [a, T0],
      [b, T0],
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
