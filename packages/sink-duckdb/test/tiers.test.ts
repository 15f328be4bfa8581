// Downsampled tiers on real store files written through the sink on a clock the test moves: the
// rows of each tier equal a computation from the batches written (samples, min/avg/max/last and
// counter rates, with a stop of the recorder, an entity appearing mid-bucket, a counter reset and
// a batch arriving late), a coarser tier rolls up the finer one, a query over a range or instant
// whose raw rows retention deleted answers from the tier, and a rollup that fails keeps every raw row.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Cell, Row, TableSchema } from '@virtualeyes/core';
import type { MemoryLogger } from '@virtualeyes/core/testing';
import { count, iso, rowsOf, SECOND, startSink, T0, useTempDir, manualClock, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-tiers-');

/** A metric table with a gauge (nullable), a counter and a text column. */
const STATS: TableSchema = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process samples.',
  key: ['pid'],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'rss', type: 'int64', unit: 'bytes', description: 'Resident memory.', nullable: true },
    { name: 'utime', type: 'int64', unit: 'ms', description: 'CPU time.', counter: true },
    { name: 'state', type: 'text', description: 'Run state.' },
  ],
};

/** An event table, written empty to make the sink run its maintenance at a later instant. */
const TICKS: TableSchema = { name: 'ticks', kind: 'event', description: 'Nothing.', key: [], columns: [{ name: 'n', type: 'int32', description: 'Nothing.' }] };

/** The test's tiers: 10 s and 1 min, so that minutes of data exercise both. */
const TIERS = [
  { step: '10s', keep: 'forever' },
  { step: '1m', keep: 'forever' },
];

/** The recorder's stop: the last batch of the first session, its close, the first batch of the second. */
const LAST_BEFORE_STOP = 94;
const CLOSED_AT = T0 + 94_500;
const RESTART = 112;
const END = 179;
/** A batch written after everything else, at an instant between the stop and the restart. */
const LATE_AT = T0 + 95_500;

/** The row of each process at second `step` (none when it does not run then). */
function rowsAt(step: number): Row[] {
  const rows: Row[] = [
    // Idle: one stored row per keyframe, present at every sample.
    { pid: 1, rss: 1000, utime: 50, state: 'S' },
    // Busy: every value changes every second.
    { pid: 2, rss: 2000 + ((step * 37) % 101), utime: 7 * step, state: step % 3 === 0 ? 'R' : 'S' },
    // Its counter is reset at 64 s (a decrease).
    { pid: 4, rss: 4000, utime: step < 64 ? 100 + step : step - 60, state: 'S' },
    // Its gauge is unknown now and then.
    { pid: 5, rss: step % 4 === 1 ? null : 5000 + step, utime: 2 * step, state: 'D' },
  ];
  // Appears mid-bucket and exits mid-bucket.
  if (step >= 23 && step < 147) rows.push({ pid: 3, rss: 3000 + (step % 5), utime: 3 * step, state: 'R' });
  return rows;
}

/** Every batch the test writes, in write order: the first session, the second, then the late one. */
function workload(): { readonly first: Batch[]; readonly second: Batch[]; readonly late: Batch } {
  const batch = (ts: number, step: number): Batch => ({ table: STATS.name, ts, snapshot: true, rows: rowsAt(step) });
  const first = Array.from({ length: LAST_BEFORE_STOP + 1 }, (_, step) => batch(T0 + step * SECOND, step));
  const second = Array.from({ length: END - RESTART + 1 }, (_, index) => batch(T0 + (RESTART + index) * SECOND, RESTART + index));
  // The late batch carries the processes of its neighbours.
  return { first, second, late: batch(LATE_AT, LAST_BEFORE_STOP) };
}

/** A sample as the reference sees it: its instant, its run (how many stops precede it) and its rows by pid. */
interface Sample {
  readonly ts: number;
  readonly run: number;
  readonly rows: ReadonlyMap<number, Row>;
}

function samplesOf(batches: readonly Batch[]): Sample[] {
  return [...batches]
    .sort((a, b) => a.ts - b.ts)
    .map((batch) => ({ ts: batch.ts, run: batch.ts > CLOSED_AT ? 1 : 0, rows: new Map(batch.rows.map((row) => [Number(row['pid']), row])) }));
}

/**
 * The bucket rows of the first tier, computed from the samples as steps.ts defines them: per
 * bucket and process present at one of its samples, `samples`, min/avg/max (NULL ignored) and
 * last of the gauge, last of the text, last of the counter and its rate from the process's first
 * sample of the run holding its last one, starting at the sample just before the bucket when that
 * one is within the staleness, of the same run and has the process.
 */
function reference(samples: readonly Sample[], stepMs: number, stalenessMs: number): Record<string, Cell>[] {
  const out: Record<string, Cell>[] = [];
  const buckets = new Map<number, Sample[]>();
  for (const sample of samples) {
    const start = Math.floor(sample.ts / stepMs) * stepMs;
    buckets.set(start, [...(buckets.get(start) ?? []), sample]);
  }
  for (const [start, inBucket] of [...buckets].sort(([a], [b]) => a - b)) {
    const firstIndex = samples.indexOf(inBucket[0]!);
    const before = samples[firstIndex - 1];
    const windowStart = before !== undefined && before.run === inBucket[0]!.run && inBucket[0]!.ts - before.ts < stalenessMs ? before : undefined;
    const pids = [...new Set(inBucket.flatMap((sample) => [...sample.rows.keys()]))].sort((a, b) => a - b);
    for (const pid of pids) {
      const held = inBucket.filter((sample) => sample.rows.has(pid));
      const last = held.at(-1)!;
      const lastRow = last.rows.get(pid)!;
      const rss = held.map((sample) => sample.rows.get(pid)!['rss']).filter((value): value is number => typeof value === 'number');
      const window = [...(windowStart === undefined ? [] : [windowStart]), ...inBucket].filter((sample) => sample.run === last.run && sample.rows.has(pid));
      const base = window[0]!;
      const baseValue = Number(base.rows.get(pid)!['utime']);
      const lastValue = Number(lastRow['utime']);
      const rate = base.ts < last.ts && baseValue <= lastValue ? (lastValue - baseValue) / ((last.ts - base.ts) / 1000) : null;
      out.push({
        host: 'host-a',
        ts: iso(start),
        pid,
        samples: held.length,
        rss_min: rss.length === 0 ? null : Math.min(...rss),
        rss_avg: rss.length === 0 ? null : rss.reduce((sum, value) => sum + value, 0) / rss.length,
        rss_max: rss.length === 0 ? null : Math.max(...rss),
        rss: lastRow['rss'] as Cell,
        utime: lastValue,
        utime_rate: rate,
        state: lastRow['state'] as Cell,
      });
    }
  }
  return out;
}

/** A coarser tier's rows from the finer tier's, as the rollup defines them: averages and rates weighted by samples. */
function rollUp(fine: readonly Record<string, Cell>[], stepMs: number): Record<string, Cell>[] {
  const groups = new Map<string, Record<string, Cell>[]>();
  for (const row of fine) {
    const key = `${Math.floor(Date.parse(String(row['ts'])) / stepMs) * stepMs} ${String(row['pid'])}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const weighted = (rows: readonly Record<string, Cell>[], column: string): number | null => {
    const known = rows.filter((row) => row[column] !== null);
    const samples = known.reduce((sum, row) => sum + Number(row['samples']), 0);
    return known.length === 0 ? null : known.reduce((sum, row) => sum + Number(row[column]) * Number(row['samples']), 0) / samples;
  };
  return [...groups].map(([key, rows]) => {
    const last = rows.at(-1)!;
    const mins = rows.map((row) => row['rss_min']).filter((value): value is number => value !== null);
    const maxes = rows.map((row) => row['rss_max']).filter((value): value is number => value !== null);
    return {
      host: 'host-a',
      ts: iso(Number(key.split(' ')[0])),
      pid: last['pid'] as Cell,
      samples: rows.reduce((sum, row) => sum + Number(row['samples']), 0),
      rss_min: mins.length === 0 ? null : Math.min(...mins),
      rss_avg: weighted(rows, 'rss_avg'),
      rss_max: maxes.length === 0 ? null : Math.max(...maxes),
      rss: last['rss'] as Cell,
      utime: last['utime'] as Cell,
      utime_rate: weighted(rows, 'utime_rate'),
      state: last['state'] as Cell,
    };
  });
}

/** Compares rows column by column: floats to 9 digits, everything else exactly. */
function expectRows(actual: readonly Record<string, Cell>[], expected: readonly Record<string, Cell>[], what: string): void {
  expect(actual.map((row) => `${String(row['ts'])} ${String(row['pid'])}`), what).toEqual(expected.map((row) => `${String(row['ts'])} ${String(row['pid'])}`));
  for (const [index, row] of expected.entries()) {
    for (const [column, value] of Object.entries(row)) {
      const got = actual[index]?.[column];
      const where = `${what}: ${String(row['ts'])} pid ${String(row['pid'])} ${column}`;
      if (typeof value === 'number' && !Number.isInteger(value)) expect(got, where).toBeCloseTo(value, 9);
      else expect(got, where).toEqual(value);
    }
  }
}

/** The columns the reference computes, in a query's order. */
const COLUMNS = 'host, ts, pid, samples, rss_min, rss_avg, rss_max, rss, utime, utime_rate, state';

describe('tiers of a metric table', () => {
  const batches = workload();
  // Rolled as soon as complete: with raw rows kept forever, the default would never roll.
  const config = { keyframeMs: 20 * SECOND, stalenessMs: 5 * SECOND, tiers: TIERS, retention: { maxAge: 'forever' }, rollup: 'immediate', maintenanceIntervalMs: 10 * SECOND };
  let store: Started;
  const time = manualClock(T0);

  beforeAll(async () => {
    const path = newPath();
    const first = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config });
    for (const batch of batches.first) {
      time.set(batch.ts);
      expect((await first.sink.write([batch])).status.code).toBe('OK');
    }
    time.set(CLOSED_AT);
    await first.sink.close();
    time.set(T0 + RESTART * SECOND);
    store = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config });
    for (const batch of batches.second) {
      time.set(batch.ts);
      expect((await store.sink.write([batch])).status.code).toBe('OK');
    }
    // By now the buckets of the late batch were rolled up: it marks them for another rollup.
    expect(await count(store.reader, 'SELECT count(*) FROM vw_meta.tiers WHERE step_ms = 10000 AND rolled_to > make_timestamptz(95500000::BIGINT + 1767225600000000)')).toBe(1);
    expect((await store.sink.write([batches.late])).status.code).toBe('OK');
    expect(await count(store.reader, "SELECT count(*) FROM vw_meta.tiers WHERE step_ms = 10000 AND dirty_from IS NOT NULL")).toBe(1);
    time.set(T0 + 300 * SECOND);
    expect((await store.sink.write([{ table: TICKS.name, ts: time.clock.now(), snapshot: false, rows: [] }])).status.code).toBe('OK');
  });
  afterAll(async () => {
    await store.sink.close();
  });

  it('holds per bucket and process what the samples held: samples, min/avg/max/last, counter rates', async () => {
    const samples = samplesOf([...batches.first, ...batches.second, batches.late]);
    const expected = reference(samples, 10 * SECOND, 5 * SECOND);
    const actual = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM vw_tiers.process_stats_10s ORDER BY ts, pid` });
    expectRows(actual, expected, '10 s tier');
    // The cases the workload was built for, spelled out.
    const row = (ts: number, pid: number) => actual.find((candidate) => candidate['ts'] === iso(T0 + ts * SECOND) && candidate['pid'] === pid);
    // An idle process: one stored row, 10 samples, its value as min, avg, max and last, a rate of 0.
    expect(row(40, 1)).toMatchObject({ samples: 10, rss_min: 1000, rss_avg: 1000, rss_max: 1000, rss: 1000, utime_rate: 0 });
    // pid 3 appears at 23 s: 7 samples, its rate from its own first sample.
    expect(row(20, 3)).toMatchObject({ samples: 7, utime: 87, utime_rate: 3 });
    // The busy process's rate starts at the sample before the bucket.
    expect(row(50, 2)).toMatchObject({ samples: 10, utime: 413, utime_rate: 7 });
    // A reset: no rate.
    expect(row(60, 4)).toMatchObject({ utime_rate: null });
    // The stop: 90-94 before it, the late 95.5 after it; the rate is the later run's, of one sample: none.
    expect(row(90, 2)).toMatchObject({ samples: 6, utime_rate: null });
    // After the restart the rate starts again at the first sample after the stop (112 s), not across it.
    expect(row(110, 2)).toMatchObject({ samples: 8, utime_rate: 7 });
    expect(row(100, 2)).toBeUndefined();
  });

  it('rolls the coarser tier up from the finer one: sums, min of mins, max of maxes, last of lasts, averages and rates by samples', async () => {
    const fine = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM vw_tiers.process_stats_10s ORDER BY ts, pid` });
    const coarse = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM vw_tiers.process_stats_60s ORDER BY ts, pid` });
    const expected = rollUp(fine, 60 * SECOND).sort((a, b) => String(a['ts']).localeCompare(String(b['ts'])) || Number(a['pid']) - Number(b['pid']));
    expectRows(coarse, expected, '1 min tier');
    // Straight from the batches, what does not depend on weighting: samples, min, max, last, and the average of a gauge never NULL.
    const direct = reference(samplesOf([...batches.first, ...batches.second, batches.late]), 60 * SECOND, 5 * SECOND);
    expect(coarse.map((row) => [row['ts'], row['pid'], row['samples'], row['rss_min'], row['rss_max'], row['rss'], row['utime'], row['state']])).toEqual(
      direct.map((row) => [row['ts'], row['pid'], row['samples'], row['rss_min'], row['rss_max'], row['rss'], row['utime'], row['state']]),
    );
    for (const [index, row] of direct.entries()) if (row['pid'] !== 5) expect(coarse[index]?.['rss_avg'], `${String(row['ts'])} ${String(row['pid'])}`).toBeCloseTo(Number(row['rss_avg']), 9);
    // A busy process sampled at a steady interval: the weighted rate is the minute's own.
    expect(coarse.find((row) => row['ts'] === iso(T0) && row['pid'] === 2)?.['utime_rate']).toBeCloseTo(7, 9);
  });

  it('stores each rollup in entity order, so an idle process\'s buckets lie together', async () => {
    const stored = await rowsOf(store.reader, { sql: 'SELECT pid, ts FROM vw_tiers.process_stats_10s ORDER BY rowid' });
    const buckets = new Set(stored.map((row) => row['ts'])).size;
    // Where (pid, ts) goes back in file order, a new rollup began: one per ten buckets (and the late re-rollup), not one per bucket.
    let runs = 1;
    for (let index = 1; index < stored.length; index += 1) {
      const [before, after] = [stored[index - 1]!, stored[index]!];
      if (Number(after['pid']) < Number(before['pid']) || (after['pid'] === before['pid'] && String(after['ts']) <= String(before['ts']))) runs += 1;
    }
    expect(buckets).toBeGreaterThanOrEqual(15);
    expect(runs).toBeLessThanOrEqual(Math.ceil(buckets / 10) + 2);
  });

  it('records in vw_meta.tiers how far each tier is rolled up and what it keeps', async () => {
    expect(await rowsOf(store.reader, { sql: 'SELECT table_name, step_ms, keep_ms, rolled_to, dirty_from, kept_from FROM vw_meta.tiers ORDER BY step_ms' })).toEqual([
      { table_name: 'process_stats', step_ms: 10_000, keep_ms: null, rolled_to: iso(T0 + 290 * SECOND), dirty_from: null, kept_from: iso(T0) },
      { table_name: 'process_stats', step_ms: 60_000, keep_ms: null, rolled_to: iso(T0 + 240 * SECOND), dirty_from: null, kept_from: iso(T0) },
    ]);
  });
});

describe('reading old data from the tiers', () => {
  const config = { keyframeMs: 20 * SECOND, stalenessMs: 5 * SECOND, tiers: TIERS, retention: { maxAge: '2m' }, maintenanceIntervalMs: 10 * SECOND };
  const batches = Array.from({ length: 360 }, (_, step): Batch => ({ table: STATS.name, ts: T0 + step * SECOND, snapshot: true, rows: rowsAt(step) }));
  const time = manualClock(T0);
  let store: Started;

  beforeAll(async () => {
    store = await startSink(newPath(), { tables: [STATS, TICKS], clock: time.clock, config });
    for (const batch of batches) {
      time.set(batch.ts);
      expect((await store.sink.write([batch])).status.code).toBe('OK');
    }
    time.set(T0 + 365 * SECOND);
    expect((await store.sink.write([{ table: TICKS.name, ts: time.clock.now(), snapshot: false, rows: [] }])).status.code).toBe('OK');
  });
  afterAll(async () => {
    await store.sink.close();
  });

  it('deletes the raw rows past retention once the first tier holds them', async () => {
    // The boundary is 2 min before the newest sample (359 s): 239 s; rows older than it by 2·staleness + keyframe (30 s) are gone.
    const [retained] = await rowsOf(store.reader, { sql: 'SELECT raw_from FROM vw_meta.retention' });
    expect(retained).toEqual({ raw_from: iso(T0 + 239 * SECOND) });
    expect(await count(store.reader, 'SELECT count(*) FROM history.process_stats WHERE ts < make_timestamptz(1767225809000000::BIGINT)')).toBe(0);
    expect(await count(store.reader, 'SELECT count(*) FROM history.process_stats WHERE ts >= make_timestamptz(1767225809000000::BIGINT)')).toBeGreaterThan(0);
  });

  it('answers a range before the raw rows with the bucket rows of the finest tier, and the rows it has not rolled up from the raw ones', async () => {
    const tier = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM vw_tiers.process_stats_10s WHERE ts >= make_timestamptz(1767225630000000::BIGINT) AND ts < make_timestamptz(1767225690000000::BIGINT) ORDER BY ts, pid` });
    expect(tier.length).toBeGreaterThan(20);
    // [30 s, 89.5 s]: the buckets overlapping it.
    const old = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM process_stats ORDER BY ts, pid`, from: T0 + 30 * SECOND, to: T0 + 89_500 });
    expect(old).toEqual(tier);
    // A range from before the boundary to now: the tier's buckets, then the buckets since its last rollup, computed from the raw rows.
    const samples = samplesOf(batches);
    const expected = reference(samples, 10 * SECOND, 5 * SECOND).filter((row) => Date.parse(String(row['ts'])) >= T0 + 200 * SECOND);
    const across = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM process_stats ORDER BY ts, pid`, from: T0 + 200 * SECOND, to: T0 + 365 * SECOND });
    expectRows(across, expected, 'range across the boundary');
    // A range after the boundary still reads the raw rows.
    expect(await rowsOf(store.reader, { sql: 'SELECT ts, pid, rss FROM process_stats WHERE pid = 1', from: T0 + 300 * SECOND, to: T0 + 359 * SECOND })).toEqual([
      { ts: iso(T0 + 300 * SECOND), pid: 1, rss: 1000 },
      { ts: iso(T0 + 320 * SECOND), pid: 1, rss: 1000 },
      { ts: iso(T0 + 340 * SECOND), pid: 1, rss: 1000 },
    ]);
  });

  it('answers a stepped range before the raw rows by rolling a tier up to the step', async () => {
    // Both tiers divide a minute; the 10 s one reaches as far back and is the finer: rolled up, it is the 1 min tier.
    const minutes = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM process_stats ORDER BY ts, pid`, from: T0, to: T0 + 179_999, stepMs: 60 * SECOND });
    const tier = await rowsOf(store.reader, { sql: `SELECT ${COLUMNS} FROM vw_tiers.process_stats_60s WHERE ts < make_timestamptz(1767225780000000::BIGINT) ORDER BY ts, pid` });
    expect(tier.length).toBeGreaterThan(10);
    expectRows(minutes, tier, 'stepped range');
  });

  it('answers an instant before the raw rows from the bucket holding it, with the last values', async () => {
    const at = await rowsOf(store.reader, { sql: 'SELECT ts, pid, samples, rss, utime FROM process_stats ORDER BY pid', at: T0 + 45_300 });
    const bucket = reference(samplesOf(batches), 10 * SECOND, 5 * SECOND).filter((row) => row['ts'] === iso(T0 + 40 * SECOND));
    expect(at).toEqual(bucket.map((row) => ({ ts: row['ts'], pid: row['pid'], samples: row['samples'], rss: row['rss'], utime: row['utime'] })));
    // After the boundary the as-of read is the raw one, with `_changed_at`.
    const recent = await rowsOf(store.reader, { sql: 'SELECT ts, pid, _changed_at FROM process_stats WHERE pid = 1', at: T0 + 350 * SECOND });
    expect(recent).toEqual([{ ts: iso(T0 + 350 * SECOND), pid: 1, _changed_at: iso(T0 + 340 * SECOND) }]);
    // tables() and info() still answer, the span of the metric table now from its retained samples.
    const tables = await store.reader.tables();
    expect(tables.ok && tables.value.find((table) => table.name === 'process_stats')?.first).toBe(T0 + 229 * SECOND);
    const info = await store.reader.info();
    expect(info.ok).toBe(true);
  });
});

describe('rolling up before retention (the default)', () => {
  // A sample every 10 s for 45 minutes; staleness and keyframe to match.
  const config = { keyframeMs: 60 * SECOND, stalenessMs: 15 * SECOND, tiers: TIERS, maintenanceIntervalMs: 10 * SECOND };
  const batches = Array.from({ length: 270 }, (_, step): Batch => ({ table: STATS.name, ts: T0 + step * 10 * SECOND, snapshot: true, rows: rowsAt(step) }));
  const write = async (retention: { maxAge: string }): Promise<Started & { path: string }> => {
    const time = manualClock(T0);
    const path = newPath();
    const store = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config: { ...config, retention } });
    for (const batch of batches) {
      time.set(batch.ts);
      expect((await store.sink.write([batch])).status.code).toBe('OK');
    }
    return { ...store, path };
  };

  it('rolls nothing while retention keeps every raw row: no tier table, and the raw rows answer a stepped range', async () => {
    const store = await write({ maxAge: 'forever' });
    try {
      expect(await count(store.reader, 'SELECT count(*) FROM vw_meta.tiers')).toBe(0);
      const stepped = await rowsOf(store.reader, { sql: 'SELECT ts, samples FROM process_stats WHERE pid = 1 ORDER BY ts', from: T0, to: T0 + 10 * 60 * SECOND - 1, stepMs: 60 * SECOND });
      expect(stepped).toHaveLength(10);
      expect(stepped.every((row) => row['samples'] === 6)).toBe(true);
    } finally {
      await store.sink.close();
    }
    const raw = await DuckDBInstance.create(store.path, { access_mode: 'READ_ONLY' });
    const connection = await raw.connect();
    const tables = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'vw_tiers'");
    expect(Number(tables.getRowsJS()[0]?.[0])).toBe(0);
    connection.disconnectSync();
    raw.closeSync();
  });

  it('rolls the first tier to a lead of 20 minutes past the raw boundary, the coarser tiers after it, and retention follows', async () => {
    const store = await write({ maxAge: '30m' });
    try {
      // The newest sample is at 2690 s: the boundary is 30 min before it, 890 s.
      expect(await rowsOf(store.reader, { sql: 'SELECT raw_from FROM vw_meta.retention' })).toEqual([{ raw_from: iso(T0 + 890 * SECOND) }]);
      const tiers = await rowsOf(store.reader, { sql: 'SELECT step_ms, epoch_ms(rolled_to) AS rolled, epoch_ms(kept_from) AS kept FROM vw_meta.tiers ORDER BY step_ms' });
      expect(tiers.map((tier) => tier['step_ms'])).toEqual([10_000, 60_000]);
      const [fine, coarse] = tiers.map((tier) => ({ rolled: Number(tier['rolled']), kept: Number(tier['kept']) }));
      // Past the boundary, not past its lead (890 s + 20 min), and well short of the newest complete bucket.
      expect(fine!.rolled).toBeGreaterThanOrEqual(T0 + 890 * SECOND);
      expect(fine!.rolled).toBeLessThanOrEqual(T0 + (890 + 1200) * SECOND);
      expect(fine!.kept).toBe(T0);
      expect(coarse!.rolled).toBeLessThanOrEqual(fine!.rolled);
      // No bucket at or past what it rolled.
      expect(await count(store.reader, `SELECT count(*) FROM vw_tiers.process_stats_10s WHERE epoch_ms(ts) >= ${fine!.rolled}`)).toBe(0);
      // The rows before the boundary answer from the tier, as the raw rows did: pid 1's six samples a minute.
      const old = await rowsOf(store.reader, { sql: 'SELECT ts, samples FROM process_stats WHERE pid = 1 ORDER BY ts', from: T0, to: T0 + 10 * 60 * SECOND - 1, stepMs: 60 * SECOND });
      expect(old).toHaveLength(10);
      expect(old.every((row) => row['samples'] === 6)).toBe(true);
    } finally {
      await store.sink.close();
    }
  });
});

describe('a rollup that fails', () => {
  it('is logged and counted, and keeps every raw row past retention until it succeeds', async () => {
    const path = newPath();
    // The store is made a minute earlier: a batch at the instant of a stop would not count.
    const time = manualClock(T0 - 60 * SECOND);
    const config = { keyframeMs: 20 * SECOND, stalenessMs: 5 * SECOND, tiers: TIERS, retention: { maxAge: '1m' }, maintenanceIntervalMs: 10 * SECOND };
    const first = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config: { ...config, maintenanceIntervalMs: 0 } });
    await first.sink.close();
    // Something else holds the first tier's name: every rollup of it fails.
    const raw = await DuckDBInstance.create(path);
    const connection = await raw.connect();
    await connection.run('CREATE VIEW vw_tiers.process_stats_10s AS SELECT 1 AS x');
    connection.disconnectSync();
    raw.closeSync();

    time.set(T0);
    const store = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config });
    const batches = Array.from({ length: 200 }, (_, step): Batch => ({ table: STATS.name, ts: T0 + step * SECOND, snapshot: true, rows: rowsAt(step) }));
    for (const batch of batches) {
      time.set(batch.ts);
      expect((await store.sink.write([batch])).status.code).toBe('OK');
    }
    const stored = await count(store.reader, 'SELECT count(*) FROM history.process_stats');
    expect(await count(store.reader, 'SELECT count(*) FROM vw_meta.samples')).toBe(200);
    // Past its one minute of retention, but not rolled up: nothing is deleted, every instant still answers.
    expect(await count(store.reader, 'SELECT count(*) FROM vw_meta.retention')).toBe(0);
    expect(await count(store.reader, 'SELECT count(*) FROM process_stats', { at: T0 + 5 * SECOND })).toBe(4);
    // Warned once, then at debug with the count.
    const logged = (level: string) =>
      (store.deps.logger as MemoryLogger).records.filter((record) => record.level === level && record.message.startsWith('Rollup of process_stats into process_stats_10s failed'));
    // Runs at 20 s, 30 s, … 190 s (the one at 10 s has no complete bucket to roll, so it does not try).
    expect(logged('warn').length).toBe(1);
    expect(logged('debug').length).toBe(17);
    expect(logged('debug').at(-1)?.fields).toMatchObject({ failures: 18, times: 18 });
    // Once the name is free again the rollup catches up, and retention follows it.
    await store.sink.close();
    const fix = await DuckDBInstance.create(path);
    const fixing = await fix.connect();
    await fixing.run('DROP VIEW vw_tiers.process_stats_10s');
    fixing.disconnectSync();
    fix.closeSync();
    time.set(T0 + 210 * SECOND);
    const again = await startSink(path, { tables: [STATS, TICKS], clock: time.clock, config });
    expect(await count(again.reader, 'SELECT count(*) FROM history.process_stats')).toBe(stored);
    time.set(T0 + 220 * SECOND);
    expect((await again.sink.write([{ table: TICKS.name, ts: time.clock.now(), snapshot: false, rows: [] }])).status.code).toBe('OK');
    expect(await count(again.reader, 'SELECT count(*) FROM vw_tiers.process_stats_10s WHERE pid = 1')).toBe(20);
    expect(await count(again.reader, 'SELECT count(*) FROM history.process_stats')).toBeLessThan(stored);
    await again.sink.close();
  });
});
