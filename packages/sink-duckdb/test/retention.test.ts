// Retention on real store files written through the sink on a clock the test moves: by age it
// deletes exactly the rows older than each table's boundary (less the margin an as-of read needs)
// and every read at a retained instant answers what it answered before; by size it brings a
// table under its budget; and its options are refused with messages naming what to write.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Cell, Row, StoreReader } from '@virtualeyes/core';
import { createTestDeps } from '@virtualeyes/core/testing';
import { DEFAULT_CONFIG, parseConfig, parseDuration, parseSize } from '../src/config.js';
import { createSink } from '../src/index.js';
import { physicalBytes } from '../src/retention.js';
import { count, EXITS, iso, PROCESS_STATS, PROCESSES, rowsOf, SECOND, startSink, T0, useTempDir, manualClock, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-retention-');

/** A deterministic PRNG, so the workload is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** One second of the workload: the processes (state), their samples (metric) and the exits (event). */
type Second = readonly Batch[];

/**
 * Ten minutes (and the sample at 600 s) at 1 Hz of 40 processes, most idle, a few busy, one exit and one fork every 7 s:
 * per second a snapshot of `processes`, one of `process_stats`, and the exits of that second.
 */
function workload(): Second[] {
  const next = random(11);
  let nextPid = 100;
  const live = new Map<number, { rss: number; busy: boolean; comm: string }>();
  const spawn = (): void => {
    live.set(nextPid, { rss: 1000 + Math.floor(next() * 1000), busy: next() < 0.15, comm: `cmd-${nextPid % 7}` });
    nextPid += 1;
  };
  for (let index = 0; index < 40; index += 1) spawn();
  const seconds: Second[] = [];
  for (let step = 0; step <= 600; step += 1) {
    const ts = T0 + step * SECOND;
    const exits: Row[] = [];
    if (step % 7 === 3) {
      const pids = [...live.keys()];
      const pid = pids[Math.floor(next() * pids.length)]!;
      live.delete(pid);
      exits.push({ pid, code: 0 });
      spawn();
    }
    const stats: Row[] = [];
    const identities: Row[] = [];
    for (const [pid, process] of live) {
      if (process.busy || next() < 0.002) process.rss += Math.floor(next() * 10) - 4;
      stats.push({ pid, rss: process.rss, cpu: process.busy ? 1 : 0 });
      identities.push({ pid, start_time: pid * 10, comm: process.comm, args: [process.comm] });
    }
    seconds.push([
      { table: PROCESSES.name, ts, snapshot: true, rows: identities },
      { table: PROCESS_STATS.name, ts, snapshot: true, rows: stats },
      { table: EXITS.name, ts, snapshot: false, rows: exits },
    ]);
  }
  return seconds;
}

describe('retention by age', () => {
  const seconds = workload();
  // Staleness 20 s and keyframes every 30 s: a metric boundary B keeps rows from B − 70 s and samples from B − 40 s.
  const base = { keyframeMs: 30 * SECOND, stalenessMs: 20 * SECOND, sortRows: 0, tiers: [], maintenanceIntervalMs: 10 * SECOND };
  let trimmed: Started;
  let kept: Started;

  async function record(retention: Record<string, unknown>): Promise<Started> {
    const time = manualClock(T0);
    const store = await startSink(newPath(), { clock: time.clock, config: { ...base, retention } });
    for (const second of seconds) {
      time.set(second[0]!.ts);
      expect((await store.sink.write(second)).status.code).toBe('OK');
    }
    // The last write, at 600 s, ran the maintenance: every table's newest data is at 600 s.
    return store;
  }

  beforeAll(async () => {
    // Five minutes for every table: the boundary ends at 600 s − 5 min = 300 s.
    trimmed = await record({ maxAge: '5m' });
    kept = await record({ maxAge: 'forever' });
  });
  afterAll(async () => {
    await trimmed.sink.close();
    await kept.sink.close();
  });

  /** The rows of `sql` in both stores. */
  const both = async (sql: string, window: { at?: number } = {}): Promise<[Record<string, Cell>[], Record<string, Cell>[]]> => [
    await rowsOf(trimmed.reader, { sql, ...window }),
    await rowsOf(kept.reader, { sql, ...window }),
  ];
  const at = (seconds: number): string => `make_timestamptz(${(T0 + seconds * SECOND) * 1000}::BIGINT)`;

  it('records each table’s boundary and deletes exactly the rows older than it by the margin reads need', async () => {
    expect(await rowsOf(trimmed.reader, { sql: 'SELECT table_name, raw_from FROM vw_meta.retention ORDER BY table_name' })).toEqual(
      ['exits', 'process_stats', 'processes'].map((name) => ({ table_name: name, raw_from: iso(T0 + 300 * SECOND) })),
    );
    // Metric rows from B − 2·staleness − keyframe = 230 s, samples from B − 2·staleness = 260 s.
    const [metric, allMetric] = await both('SELECT ts, pid, rss, _gone FROM history.process_stats ORDER BY ts, pid');
    expect(metric).toEqual(allMetric.filter((row) => String(row['ts']) >= iso(T0 + 230 * SECOND)));
    expect(allMetric.some((row) => String(row['ts']) < iso(T0 + 230 * SECOND))).toBe(true);
    const [log, allLog] = await both("SELECT ts FROM vw_meta.samples WHERE table_name = 'process_stats' ORDER BY ts");
    expect(log).toEqual(allLog.filter((row) => String(row['ts']) >= iso(T0 + 260 * SECOND)));
    // Events from B − staleness = 280 s.
    const [events, allEvents] = await both('SELECT ts, pid FROM history.exits ORDER BY ts');
    expect(events).toEqual(allEvents.filter((row) => String(row['ts']) >= iso(T0 + 280 * SECOND)));
    // State versions that ended before B; the others, however old, stay.
    const [versions, allVersions] = await both('SELECT pid, valid_from, valid_to FROM history.processes ORDER BY pid, valid_from');
    expect(versions).toEqual(allVersions.filter((row) => row['valid_to'] === null || String(row['valid_to']) >= iso(T0 + 300 * SECOND)));
    expect(versions.some((row) => String(row['valid_from']) < iso(T0 + 60 * SECOND))).toBe(true);
    expect(versions.length).toBeLessThan(allVersions.length);
    expect(await count(trimmed.reader, `SELECT count(*) FROM history.process_stats WHERE ts < ${at(230)}`)).toBe(0);
  });

  it('answers every read at an instant at or after the boundary as the untrimmed store does', async () => {
    for (const instant of [300, 300.5, 301, 333.3, 450, 599, 600].map((s) => T0 + s * SECOND)) {
      for (const sql of [
        'SELECT ts, pid, rss, cpu, _changed_at FROM process_stats ORDER BY pid',
        'SELECT pid, comm, valid_from FROM processes ORDER BY pid',
        'SELECT ts, pid FROM exits ORDER BY ts, pid',
        'SELECT p.pid, p.comm, s.rss FROM processes AS p JOIN process_stats AS s USING (host, pid) ORDER BY p.pid',
      ]) {
        const [answer, expected] = await both(sql, { at: instant });
        expect(answer, `${sql} at ${iso(instant)}`).toEqual(expected);
        if (sql.includes('process_stats')) expect(answer.length).toBeGreaterThan(30);
      }
      const samples = async (reader: StoreReader) => {
        const result = await reader.samples({ table: 'process_stats', at: instant });
        return result.ok ? [result.value.current.rows, result.value.previous.rows] : result.status;
      };
      expect(await samples(trimmed.reader), `samples at ${iso(instant)}`).toEqual(await samples(kept.reader));
    }
    // Well before the boundary the raw rows are gone (with no tiers, nothing answers there).
    expect(await rowsOf(trimmed.reader, { sql: 'SELECT pid FROM process_stats', at: T0 + 200 * SECOND })).toEqual([]);
    expect((await rowsOf(kept.reader, { sql: 'SELECT pid FROM process_stats', at: T0 + 200 * SECOND })).length).toBe(40);
  });

  it('keeps a table’s own limit over the default', async () => {
    const time = manualClock(T0);
    const store = await startSink(newPath(), { clock: time.clock, config: { ...base, retention: { maxAge: 'forever', tables: { exits: { maxAge: '1m' } } } } });
    for (const second of seconds.slice(0, 200)) {
      time.set(second[0]!.ts);
      await store.sink.write(second);
    }
    expect(await rowsOf(store.reader, { sql: 'SELECT table_name FROM vw_meta.retention' })).toEqual([{ table_name: 'exits' }]);
    await store.sink.close();
  });
});

describe('retention by size', () => {
  it('brings a table under its byte budget by deleting its oldest rows, and the newest still answer', async () => {
    const path = newPath();
    const time = manualClock(T0);
    const budget = 512 * 1024;
    const store = await startSink(path, {
      clock: time.clock,
      // Staleness and keyframes of 10 s: the newest 30 s of rows always stay, whatever the budget.
      config: { sortRows: 0, stalenessMs: 10 * SECOND, keyframeMs: 10 * SECOND, tiers: [], maintenanceIntervalMs: 30 * SECOND, retention: { maxAge: 'forever', maxBytes: 'unlimited', tables: { process_stats: { maxBytes: '512KiB' } } } },
    });
    const next = random(5);
    // 300 processes whose values all change every second: 300 rows a second, far more than 512 KiB in ten minutes.
    let last: Batch | undefined;
    for (let step = 0; step < 600; step += 1) {
      const rows = Array.from({ length: 300 }, (_, pid) => ({ pid, rss: Math.floor(next() * 2 ** 40), cpu: next() }));
      last = { table: PROCESS_STATS.name, ts: T0 + step * SECOND, snapshot: true, rows };
      time.set(last.ts);
      expect((await store.sink.write([last])).status.code).toBe('OK');
    }
    // The budget holds after each run (every 30 s; the rows written since add to it until the next): run it once more.
    time.set(T0 + 600 * SECOND);
    expect((await store.sink.write([{ table: EXITS.name, ts: T0 + 600 * SECOND, snapshot: false, rows: [] }])).status.code).toBe('OK');
    expect(await count(store.reader, `SELECT count(*) FROM history.process_stats WHERE ts < make_timestamptz(${T0 * 1000 + 100_000_000}::BIGINT)`)).toBe(0);
    const answer = await rowsOf(store.reader, { sql: 'SELECT pid, rss, cpu FROM process_stats ORDER BY pid', at: T0 + 599 * SECOND });
    expect(answer).toEqual(last?.rows);
    const [retained] = await rowsOf(store.reader, { sql: "SELECT raw_from FROM vw_meta.retention WHERE table_name = 'process_stats'" });
    expect(Date.parse(String(retained?.['raw_from']))).toBeGreaterThan(T0 + 300 * SECOND);
    await store.sink.close();

    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    // Its raw table (the stage is empty after the close's move).
    const measured = await physicalBytes(connection, ['vw_raw.process_stats', 'vw_stage.process_stats']);
    connection.disconnectSync();
    instance.closeSync();
    // The live rows fit the budget (trimmed to 90 % of it, not far below); the blocks of deleted
    // rows are reclaimed when a checkpoint rewrites their row group, at most a row group late.
    expect(measured.bytes).toBeLessThanOrEqual(budget);
    expect(measured.bytes).toBeGreaterThan(budget * 0.6);
    expect(measured.storedBytes).toBeLessThanOrEqual(budget + 122_880 * 16);
  });
});

describe('retention and tier options', () => {
  it('fills defaults: raw rows for 7 days, tiers of 1 min for 30 days and 1 h for a year, maintenance every minute', () => {
    expect(parseConfig({})).toMatchObject({
      ok: true,
      value: { retention: { maxAge: '7d', maxBytes: 'unlimited', tables: {} }, tiers: [{ step: '1m', keep: '30d' }, { step: '1h', keep: '1y' }], maintenanceIntervalMs: 60_000 },
    });
    const one = parseConfig({ retention: { tables: { process_stats: { maxAge: '1d' } } } });
    expect(one.ok && one.value.retention).toEqual({ maxAge: '7d', maxBytes: 'unlimited', tables: { process_stats: { maxAge: '1d' } } });
    expect(DEFAULT_CONFIG.tiers).toHaveLength(2);
  });

  it.each([
    ['90s', 90_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1y', 31_536_000_000],
    [' 30 m ', 1_800_000],
    ['forever', Number.POSITIVE_INFINITY],
    ['2 days', undefined],
    ['1.5h', undefined],
    ['-1d', undefined],
    ['101y', undefined],
  ])('reads the duration %j as %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['2GB', 2e9],
    ['512MiB', 536_870_912],
    ['1.5 KiB', 1536],
    ['unlimited', Number.POSITIVE_INFINITY],
    ['lots', undefined],
  ])('reads the size %j as %s bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    [{ retention: { maxAge: '2 days' } }, '$.retention.maxAge: "2 days" is not a duration: write a whole number and a unit (ms, s, m, h, d, w, y; a year is 365 days), e.g. 90s, 12h, 7d, 1y, or "forever"'],
    [{ retention: { maxAge: '0d' } }, '$.retention.maxAge: must be longer than 0; "forever" keeps everything'],
    [{ retention: { maxBytes: 'lots' } }, '$.retention.maxBytes: "lots" is not a size: write a number and a unit'],
    [{ retention: { maxBytes: '1KB' } }, '$.retention.maxBytes: must be at least 64KiB'],
    [{ retention: { maxAge: 7 } }, '$.retention.maxAge: must be string'],
    [{ retention: { tables: { process_stats: { maxAge: '1x' } } } }, '$.retention.tables.process_stats.maxAge: "1x" is not a duration'],
    [{ retention: { tables: { process_stats: { keep: '1d' } } } }, '$.retention.tables.process_stats.keep: is not a known option'],
    [{ retention: { tables: { 'Process-Stats': { maxAge: '1d' } } } }, '$.retention.tables["Process-Stats"]: is not a table name (lower case letters, digits and _, starting with a letter)'],
    [{ retention: { colour: 'red' } }, '$.retention.colour: is not a known option'],
    [{ tiers: [{ step: '1m' }] }, '$.tiers[0].keep: is required'],
    [{ tiers: [{ step: '1500ms', keep: '1d' }] }, '$.tiers[0].step: "1500ms" is not a whole number of seconds (at least 1s)'],
    [{ tiers: [{ step: 'forever', keep: '1d' }] }, '$.tiers[0].step: must be a finite duration'],
    [{ tiers: [{ step: '1m', keep: '1d' }, { step: '90s', keep: '7d' }] }, `$.tiers[1].step: "90s" must be longer than and a multiple of the previous tier's step "1m"`],
    [{ tiers: [{ step: '1m', keep: '1d' }, { step: '1m', keep: '7d' }] }, `$.tiers[1].step: "1m" must be longer than and a multiple of the previous tier's step "1m"`],
    [{ tiers: [{ step: '1m', keep: '1 day' }] }, '$.tiers[0].keep: "1 day" is not a duration'],
    [{ maintenanceIntervalMs: -1 }, '$.maintenanceIntervalMs: must be >= 0'],
  ])('refuses %j', (options, message) => {
    const parsed = parseConfig(options);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.status.code).toBe('INVALID_CONFIG');
      expect(parsed.status.message.startsWith(message), parsed.status.message).toBe(true);
    }
  });

  it('refuses them in the factory too, which the loader calls with options only the schema checked', () => {
    const created = createSink({ ...DEFAULT_CONFIG, tiers: [{ step: '1h', keep: '1d' }, { step: '1m', keep: '1d' }] }, createTestDeps());
    expect(created.ok).toBe(false);
    expect(!created.ok && created.status).toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('$.tiers[1].step') });
  });
});
