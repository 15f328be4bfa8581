// The `<table>_rates` views on real store files written through the sink: per-second rates of
// counter columns at an instant (idle 0, busy exact, NULL for a new process, a reset and the
// first sample after a restart, never across a stop) and over a range (one row per stored row,
// each equal to the instant rate at its time), the same from a change-only store and from one
// that stores every row; which names exist, and the refusals.
import { describe, expect, it } from 'vitest';
import { column, validateSchema, type Cell } from '@virtualeyes/core';
import { compareRows, CPU, expectedRatesAt, expectedRatesEverySample, PROCESS_STATS, rounded, useRecordedWorkload } from './counters.js';
import { iso, rowsOf, SECOND, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-rates-');
const at = (seconds: number): number => T0 + seconds * SECOND;

const recorded = useRecordedWorkload(newPath);

/** `SELECT *` of a rates view, ordered by key. */
async function ratesOf(store: Started, view: string, window: { at?: number; from?: number; to?: number }, order = 'pid'): Promise<Record<string, Cell>[]> {
  return rowsOf(store.reader, { sql: `SELECT * FROM ${view} ORDER BY host, ${order}, ts`, ...window });
}

describe('rates at an instant', () => {
  it('gives an idle process 0, a busy one its exact rate, a new one and a reset NULL', async () => {
    const rows = await ratesOf(recorded.changeOnly, 'process_rates', { at: at(8.5) });
    expect(rows.map((row) => [row['pid'], row['utime'], row['read_bytes']])).toEqual([
      [1, 0, 0],
      [2, 50, 4096],
      [3, 10, null],
      // 500 + 20·7 = 640 at 7 s, 5 at 8 s: the counter was reset.
      [4, null, 0],
      // 100·8 = 800 now, unreadable (NULL) at 7 s.
      [5, 0, null],
    ]);
    expect(rows[0]).toEqual({ host: 'host-a', ts: iso(at(8)), interval_s: 1, pid: 1, utime: 0, read_bytes: 0, rss: 1000, share: 0, state: 'S' });
    const fresh = await ratesOf(recorded.changeOnly, 'process_rates', { at: at(5) });
    expect(fresh.find((row) => row['pid'] === 3)).toMatchObject({ utime: null, rss: 3000, interval_s: 1 });
  });

  it('spans a missing sample with the interval between the two that were taken', async () => {
    const rows = await ratesOf(recorded.changeOnly, 'process_rates', { at: at(16) });
    expect(rows.map((row) => [row['pid'], row['interval_s'], row['utime']])).toEqual([
      [1, 2, 0],
      [2, 2, 50],
      [3, 2, 10],
      [4, 2, 20],
    ]);
  });

  it('never pairs samples across a stop: nothing while stopped, NULL at the first sample after it', async () => {
    expect(await ratesOf(recorded.changeOnly, 'process_rates', { at: at(25) })).toEqual([]);
    const restarted = await ratesOf(recorded.changeOnly, 'process_rates', { at: at(30) });
    expect(restarted.map((row) => [row['pid'], row['interval_s'], row['utime'], row['rss']])).toEqual([
      [1, null, null, 1000],
      [2, null, null, 2000],
      [3, null, null, 3000],
      [4, null, null, 4001],
    ]);
    expect((await ratesOf(recorded.changeOnly, 'process_rates', { at: at(31) })).map((row) => row['utime'])).toEqual([0, 50, 10, 20]);
  });

  it('answers every instant as computed from the batches, from a change-only and an every-row store alike', async () => {
    const instants = [0, 0.5, 1, 4, 5, 7.9, 8, 10, 11, 12, 12.5, 14, 15, 16, 19, 20, 20.4, 20.5, 21, 29, 30, 31, 33, 34, 40, 45.5, 50, 55];
    for (const seconds of instants) {
      for (const [view, table, order] of [['process_rates', 'process_stats', 'pid'], ['process_stats_rates', 'process_stats', 'pid'], ['cpu_rates', 'cpu', 'cpu']] as const) {
        const expected = rounded(expectedRatesAt(table, at(seconds)).sort(compareRows(table === 'cpu' ? CPU : PROCESS_STATS)));
        for (const store of [recorded.changeOnly, recorded.everyRow]) {
          expect(rounded(await ratesOf(store, view, { at: at(seconds) }, order)), `${view} at ${seconds} s`).toEqual(expected);
        }
      }
    }
  });
});

describe('rates over a range', () => {
  it('holds one row per stored row of values, each with the rate of its last interval', async () => {
    const rows = await ratesOf(recorded.changeOnly, 'process_rates', { from: at(0), to: at(60) });
    const idle = rows.filter((row) => row['pid'] === 1);
    // Its first row, then a keyframe every 10 s (the first after a start has no rate), each with rate 0.
    expect(idle.map((row) => [row['ts'], row['utime'], row['interval_s']])).toEqual([
      [iso(at(0)), null, null],
      [iso(at(10)), 0, 1],
      [iso(at(20)), 0, 1],
      [iso(at(30)), null, null],
      [iso(at(40)), 0, 1],
      [iso(at(50)), 0, 1],
    ]);
    const busy = rows.filter((row) => row['pid'] === 2);
    expect(busy).toHaveLength(20 + 21);
    expect(busy.filter((row) => row['utime'] !== 50).map((row) => row['ts'])).toEqual([iso(at(0)), iso(at(30))]);
    // Every row equals the instant rate at its time, and an every-row store holds every sample's.
    const everySample = rounded(expectedRatesEverySample('process_stats', at(0), at(60)));
    const key = (row: Record<string, Cell>): string => `${String(row['ts'])}/${String(row['pid'])}`;
    const byKey = new Map(everySample.map((row) => [key(row), row]));
    for (const row of rounded(rows)) expect(row, key(row)).toEqual(byKey.get(key(row)));
    expect(rounded(await ratesOf(recorded.everyRow, 'process_rates', { from: at(0), to: at(60) }))).toEqual(everySample.sort(compareRows(PROCESS_STATS)));
  });

  it('cuts the range at its bounds and reads the whole history without a time', async () => {
    const inRange = await ratesOf(recorded.everyRow, 'cpu_rates', { from: at(9), to: at(11) }, 'cpu');
    expect(inRange.map((row) => [row['cpu'], row['ts'], row['user'], row['idle']])).toEqual([
      ['0', iso(at(9)), 10, 90],
      ['0', iso(at(10)), 10, 90],
      ['0', iso(at(11)), 10, 90],
      ['all', iso(at(9)), 20, 180],
      ['all', iso(at(10)), 20, 180],
      ['all', iso(at(11)), 20, 180],
    ]);
    const all = await ratesOf(recorded.everyRow, 'cpu_rates', {}, 'cpu');
    expect(all).toHaveLength(2 * (20 + 21));
    expect(rounded(all)).toEqual(rounded(expectedRatesEverySample('cpu', at(0), at(60)).sort(compareRows(CPU))));
  });
});

describe('which rates views exist', () => {
  it('has <table>_rates for every metric table with counters, and process_rates', async () => {
    for (const sql of ['SELECT count(*) AS n FROM cpu_rates', 'SELECT count(*) AS n FROM process_stats_rates', 'SELECT count(*) AS n FROM process_rates']) {
      expect((await rowsOf(recorded.changeOnly.reader, { sql, at: at(40) }))[0]?.['n'], sql).toBeGreaterThan(0);
    }
    // Joined with the table itself, in one query.
    const joined = await rowsOf(recorded.changeOnly.reader, { sql: 'SELECT s.pid, s.utime AS total, r.utime AS rate FROM process_stats s JOIN process_rates r USING (host, pid) ORDER BY pid', at: at(40) });
    expect(joined.map((row) => [row['pid'], row['total'], row['rate']])).toEqual([
      [1, 100, 0],
      [2, 3000, 50],
      [3, 360, 10],
      [4, 645, 20],
      [6, 21, 3],
    ]);
  });

  it.each([
    ['SELECT * FROM memory_rates', 'table memory_rates is not a recorded table: memory has no counter columns, so it has no rates'],
    ['SELECT * FROM processes_rates', 'table processes_rates is not a recorded table: processes is a state table; only metric tables with counter columns have rates'],
    ['SELECT * FROM nothing_rates', expect.stringMatching(/^table nothing_rates is not a recorded table: the recorded tables are [a-z_, ]*\bcpu\b/)],
  ])('refuses %s', async (sql, message) => {
    for (const window of [{}, { at: at(40) }, { from: at(0), to: at(60) }]) {
      const result = await recorded.changeOnly.reader.query({ sql, ...window });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', message });
    }
  });

  it.each([
    ['history.cpu_rates', 'table history.cpu_rates is not a recorded table'],
    ['vw_tiers.cpu_rates_60s', 'table vw_tiers.cpu_rates_60s is not a recorded table'],
  ])('refuses %s at the gate: a rates view is named bare only', async (name, message) => {
    const result = await recorded.changeOnly.reader.query({ sql: `SELECT * FROM ${name}`, at: at(40) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', message });
  });
});

describe('counter columns', () => {
  it('must be numeric and not a key', () => {
    const bad = (columns: typeof CPU.columns) => validateSchema({ ...CPU, columns }).message;
    expect(bad([CPU.columns[0]!, { name: 'user', type: 'text', description: 'x', counter: true }])).toContain("counter column 'user' must be int32, int64 or float64");
    expect(bad([{ name: 'cpu', type: 'int32', description: 'x', counter: true }, CPU.columns[1]!])).toContain("key column 'cpu' cannot be a counter");
    expect(validateSchema(CPU).code).toBe('OK');
    // The builders say so only when asked, as with unit and nullable.
    expect(column.int64('n', 'N.', { counter: true })).toEqual({ name: 'n', type: 'int64', description: 'N.', counter: true });
    expect(Object.keys(column.int64('n', 'N.', { counter: false }))).toEqual(['name', 'type', 'description']);
  });

  it('reach the reader through vw_meta.tables', async () => {
    const [row] = await rowsOf(recorded.changeOnly.reader, { sql: "SELECT columns FROM vw_meta.tables WHERE name = 'cpu'" });
    expect(JSON.parse(String(row?.['columns']))).toEqual(CPU.columns);
  });
});
