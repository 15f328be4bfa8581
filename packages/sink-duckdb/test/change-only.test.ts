// Change-only storage of metric tables on real store files: idle entities write nothing between
// keyframes, changes and disappearances write one row each, and every as-of answer (`at` views,
// samples) equals what storing every row of every sample answered, including across restarts.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Cell, Row } from '@virtualeyes/core';
import { count, iso, rowsOf, SECOND, startSink, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-change-only-');

/** A process_stats batch at `ts`: one row per [pid, rss]. */
function stats(ts: number, rows: readonly (readonly [number, number])[], snapshot = true): Batch {
  return { table: 'process_stats', ts, snapshot, rows: rows.map(([pid, rss]) => ({ pid, rss, cpu: 0 })) };
}

/** Every stored row of process_stats, tombstones included, in storage order. */
async function stored(reader: Parameters<typeof rowsOf>[0]): Promise<Record<string, Cell>[]> {
  return rowsOf(reader, { sql: 'SELECT ts, pid, rss, _gone FROM history.process_stats ORDER BY ts, pid' });
}

describe('writing metric tables by change', () => {
  it('stores an idle entity once per keyframe, a change as one row, and a tombstone when a snapshot drops it', async () => {
    const { sink, reader, clock } = await startSink(newPath(), { config: { keyframeMs: 10 * SECOND } });
    // pid 1 idles, pid 2 changes at 3 s, pid 3 exits after 4 s.
    for (let step = 0; step <= 12; step += 1) {
      const rows: [number, number][] = [
        [1, 100],
        [2, step < 3 ? 200 : 201],
      ];
      if (step <= 4) rows.push([3, 300]);
      const written = await sink.write([stats(T0 + step * SECOND, rows)]);
      expect(written.status.code).toBe('OK');
    }
    expect(await stored(reader)).toEqual([
      { ts: iso(T0), pid: 1, rss: 100, _gone: null },
      { ts: iso(T0), pid: 2, rss: 200, _gone: null },
      { ts: iso(T0), pid: 3, rss: 300, _gone: null },
      { ts: iso(T0 + 3 * SECOND), pid: 2, rss: 201, _gone: null },
      { ts: iso(T0 + 5 * SECOND), pid: 3, rss: null, _gone: true },
      // The keyframe: pid 1's last row is 10 s old; pid 2's only 7 s, until 13 s.
      { ts: iso(T0 + 10 * SECOND), pid: 1, rss: 100, _gone: null },
    ]);
    // The sink still counts every row it was given, and every sample instant is logged.
    expect(sink.stats().rowsWritten).toBe(13 * 2 + 5);
    expect(await count(reader, "SELECT count(*) FROM vw_meta.samples WHERE table_name = 'process_stats'")).toBe(13);

    await clock.advance(20 * SECOND);
    // Between the stored rows, every sample still answers every live entity with its values then.
    const at = (ms: number) => rowsOf(reader, { sql: 'SELECT ts, pid, rss, _changed_at FROM process_stats ORDER BY pid', at: ms });
    expect(await at(T0 + 9 * SECOND + 500)).toEqual([
      { ts: iso(T0 + 9 * SECOND), pid: 1, rss: 100, _changed_at: iso(T0) },
      { ts: iso(T0 + 9 * SECOND), pid: 2, rss: 201, _changed_at: iso(T0 + 3 * SECOND) },
    ]);
    expect(await at(T0 + 4 * SECOND)).toEqual([
      { ts: iso(T0 + 4 * SECOND), pid: 1, rss: 100, _changed_at: iso(T0) },
      { ts: iso(T0 + 4 * SECOND), pid: 2, rss: 201, _changed_at: iso(T0 + 3 * SECOND) },
      { ts: iso(T0 + 4 * SECOND), pid: 3, rss: 300, _changed_at: iso(T0) },
    ]);
    // A range holds the stored rows of values, not the tombstones.
    expect((await rowsOf(reader, { sql: 'SELECT pid FROM process_stats ORDER BY ts, pid', from: T0 + SECOND, to: T0 + 12 * SECOND })).map((row) => row.pid)).toEqual([2, 1]);
    await sink.close();
  });

  it('stores the first batch after a restart in full, and shows nothing from before the stop', async () => {
    const path = newPath();
    const first = await startSink(path);
    await first.sink.write([stats(T0, [[1, 100], [2, 200]])]);
    await first.sink.write([stats(T0 + SECOND, [[1, 100], [2, 200]])]);
    await first.clock.advance(2 * SECOND);
    await first.sink.close();
    const second = await startSink(path, { now: T0 + 10 * SECOND });
    // pid 2 exited while vwatchd was stopped: no tombstone, and no row of it counts after the stop.
    await second.sink.write([stats(T0 + 10 * SECOND, [[1, 100]])]);
    await second.sink.write([stats(T0 + 11 * SECOND, [[1, 100]])]);
    expect(await stored(second.reader)).toEqual([
      { ts: iso(T0), pid: 1, rss: 100, _gone: null },
      { ts: iso(T0), pid: 2, rss: 200, _gone: null },
      { ts: iso(T0 + 10 * SECOND), pid: 1, rss: 100, _gone: null },
    ]);
    await second.clock.advance(10 * SECOND);
    const pids = async (at: number) => (await rowsOf(second.reader, { sql: 'SELECT pid FROM process_stats ORDER BY pid', at })).map((row) => row.pid);
    expect(await pids(T0 + 11 * SECOND)).toEqual([1]);
    expect(await pids(T0 + 1500)).toEqual([1, 2]);
    expect(await pids(T0 + 5 * SECOND)).toEqual([]);
    await second.sink.close();
  });

  it('writes no tombstone for a partial batch: an entity missing from it ages out after keyframeMs', async () => {
    const { sink, reader, clock } = await startSink(newPath(), { config: { keyframeMs: 10 * SECOND } });
    await sink.write([stats(T0, [[1, 100], [2, 200]], false)]);
    for (let step = 1; step <= 15; step += 1) await sink.write([stats(T0 + step * SECOND, [[1, 100 + step]], false)]);
    expect(await count(reader, 'SELECT count(*) FROM history.process_stats WHERE _gone')).toBe(0);
    await clock.advance(30 * SECOND);
    const pids = async (at: number) => (await rowsOf(reader, { sql: 'SELECT pid FROM process_stats ORDER BY pid', at })).map((row) => row.pid);
    expect(await pids(T0 + 9 * SECOND)).toEqual([1, 2]);
    expect(await pids(T0 + 10 * SECOND)).toEqual([1, 2]);
    expect(await pids(T0 + 11 * SECOND)).toEqual([1]);
    await sink.close();
  });

  it('leaves no trace of a write that failed, so the next one stores the change again', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.write([stats(T0, [[1, 100]])]);
    // A float in an int64 column fails the whole write, the change of pid 1 included.
    const failed = await sink.write([stats(T0 + SECOND, [[1, 101]]), { table: 'process_stats', ts: T0 + SECOND, snapshot: false, rows: [{ pid: 9, rss: 1.5, cpu: 0 }] }]);
    expect(failed.status.code).toBe('INVALID_ARGUMENT');
    await sink.write([stats(T0 + 2 * SECOND, [[1, 101]])]);
    expect((await stored(reader)).map((row) => [row.ts, row.rss])).toEqual([
      [iso(T0), 100],
      [iso(T0 + 2 * SECOND), 101],
    ]);
    expect(await count(reader, 'SELECT count(*) FROM vw_meta.samples')).toBe(2);
    await sink.close();
  });
});

/** A deterministic PRNG, so the workload is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * Ten minutes of 1 Hz snapshots of 40 processes: most idle, a few busy, one exit and one fork
 * every 7 s, and a stop of the recorder from 400 s to 420 s (the batches of that gap are not
 * written). Returns each session's batches.
 */
function workload(): { readonly before: Batch[]; readonly after: Batch[] } {
  const next = random(7);
  let nextPid = 100;
  const live = new Map<number, { rss: number; busy: boolean }>();
  const spawn = (): void => {
    live.set(nextPid, { rss: 1000 + Math.floor(next() * 1000), busy: next() < 0.15 });
    nextPid += 1;
  };
  for (let index = 0; index < 40; index += 1) spawn();
  const before: Batch[] = [];
  const after: Batch[] = [];
  for (let step = 0; step < 600; step += 1) {
    if (step % 7 === 3) {
      const pids = [...live.keys()];
      live.delete(pids[Math.floor(next() * pids.length)]!);
      spawn();
    }
    const rows: Row[] = [];
    for (const [pid, process] of live) {
      if (process.busy || next() < 0.002) process.rss += Math.floor(next() * 10) - 4;
      rows.push({ pid, rss: process.rss, cpu: process.busy ? 1 : 0 });
    }
    const batch: Batch = { table: 'process_stats', ts: T0 + step * SECOND, snapshot: true, rows };
    if (step < 400) before.push(batch);
    else if (step >= 420) after.push(batch);
  }
  return { before, after };
}

/** Layout 3's staged process_stats turned into one table, as layouts 1 and 2 stored a metric table. */
const SINGLE_TABLE = [
      'DROP VIEW history.process_stats',
      'CREATE TABLE history.process_stats AS SELECT * FROM vw_raw.process_stats UNION ALL BY NAME SELECT * FROM vw_stage.process_stats',
      'DROP TABLE vw_raw.process_stats',
      'DROP TABLE vw_stage.process_stats',
];

/** What storing every row answered at `at`: the rows of the host's last batch in the staleness window, none during the stop. */
function everyRowAnswer(batches: readonly Batch[], at: number, stalenessMs: number): Record<string, Cell>[] {
  const stopAt = T0 + 400 * SECOND;
  const last = batches.filter((batch) => batch.ts <= at && batch.ts > at - stalenessMs && !(batch.ts < stopAt && at >= stopAt)).at(-1);
  if (last === undefined) return [];
  return [...last.rows].sort((a, b) => Number(a['pid']) - Number(b['pid'])).map((row) => ({ ts: iso(last.ts), pid: row['pid'] as Cell, rss: row['rss'] as Cell }));
}

describe('as-of reads over change-only storage', () => {
  const batches = workload();
  const all = [...batches.before, ...batches.after];

  /** Records the workload into a fresh store, the recorder stopping at 400 s and starting again at 420 s. */
  async function record(config: Record<string, unknown>) {
    const path = newPath();
    const first = await startSink(path, { config });
    for (const batch of batches.before) expect((await first.sink.write([batch])).status.code).toBe('OK');
    await first.clock.advance(T0 + 400 * SECOND - first.clock.now());
    await first.sink.close();
    const second = await startSink(path, { config, now: T0 + 420 * SECOND });
    for (const batch of batches.after) expect((await second.sink.write([batch])).status.code).toBe('OK');
    await second.clock.advance(T0 + 700 * SECOND - second.clock.now());
    return { ...second, path };
  }

  // The same recording twice: by change (the default keyframe), and every row (keyframe 0), as layout 1 stored it.
  // And a third, sorted by entity every 500 rows, to prove the rewrite changes only where rows lie.
  let changeOnly: Started & { path: string };
  let everyRow: Started & { path: string };
  let sorted: Started & { path: string };
  beforeAll(async () => {
    changeOnly = await record({ sortRows: 0 });
    everyRow = await record({ keyframeMs: 0, sortRows: 0 });
    sorted = await record({ sortRows: 500 });
  });
  afterAll(async () => {
    await changeOnly.sink.close();
    await everyRow.sink.close();
    await sorted.sink.close();
  });

  it('answers every live entity at any instant exactly as storing every row did, from a fraction of the rows', async () => {
    const rows = await count(changeOnly.reader, 'SELECT count(*) FROM history.process_stats');
    const samples = all.reduce((sum, batch) => sum + batch.rows.length, 0);
    expect(await count(everyRow.reader, 'SELECT count(*) FROM history.process_stats WHERE _gone IS NOT TRUE')).toBe(samples);
    // 15 % of the processes are busy and change every second; the rest change now and then.
    expect(rows).toBeLessThan(samples / 4);

    const instants = [0, 0.5, 1, 7.2, 59, 61, 150, 240.5, 299, 299.9, 300, 300.5, 301, 333, 399.5, 400, 405, 419.99, 420, 420.5, 450, 599, 600, 650, 690].map((s) => T0 + s * 1000);
    for (const at of instants) {
      const expected = everyRowAnswer(all, at, 300 * SECOND);
      for (const store of [changeOnly, everyRow, sorted]) {
        const answer = await rowsOf(store.reader, { sql: 'SELECT ts, pid, rss FROM process_stats ORDER BY pid', at });
        expect(answer, `at ${iso(at)}`).toEqual(expected);
      }
    }
    // The sorted store holds the same rows, no longer in time order.
    const raw = 'SELECT ts, pid, rss, _gone FROM history.process_stats';
    expect(await rowsOf(sorted.reader, { sql: `${raw} ORDER BY ts, pid` })).toEqual(await rowsOf(changeOnly.reader, { sql: `${raw} ORDER BY ts, pid` }));
    // A short staleness window: an instant past the last sample by more than it sees nothing.
    expect(await rowsOf(changeOnly.reader, { sql: 'SELECT pid FROM process_stats', at: T0 + 601 * SECOND, stalenessMs: 2 * SECOND })).toEqual([]);
    expect(await count(changeOnly.reader, 'SELECT count(*) FROM process_stats', { at: T0 + 600 * SECOND + 500, stalenessMs: 2 * SECOND })).toBe(40);
    // Idle processes whose last stored row is minutes old still answer, with that row's time as _changed_at.
    const idle = await count(changeOnly.reader, "SELECT count(*) FROM process_stats WHERE _changed_at < ts - INTERVAL '2 minutes'", { at: T0 + 599 * SECOND });
    expect(idle).toBeGreaterThan(10);
  });

  it('gives samples() the values of both samples, so an idle process has a rate of 0, and nothing from before a stop', async () => {
    const store = changeOnly;
    const at = T0 + 550 * SECOND;
    const result = await store.reader.samples({ table: 'process_stats', at });
    if (!result.ok) expect.fail(result.status.message);
    const objects = (rows: readonly (readonly Cell[])[]) => rows.map(([host, ts, pid, rss]) => ({ host, ts, pid, rss }));
    const expected = (ms: number) => everyRowAnswer(all, ms, 300 * SECOND).map((row) => ({ host: 'host-a', ...row }));
    expect(objects(result.value.current.rows)).toEqual(expected(at));
    expect(objects(result.value.previous.rows)).toEqual(expected(at - SECOND));
    expect(result.value.current.columns.map((column) => column.name)).toEqual(['host', 'ts', 'pid', 'rss', 'cpu']);
    // Most processes did not change between the two samples: their values are equal, not missing.
    const previous = new Map(objects(result.value.previous.rows).map((row) => [row.pid, row.rss]));
    const unchanged = objects(result.value.current.rows).filter((row) => previous.get(row.pid) === row.rss);
    expect(unchanged.length).toBeGreaterThan(25);
    const restarted = await store.reader.samples({ table: 'process_stats', at: T0 + 420 * SECOND });
    expect(restarted.ok && [restarted.value.current.rows.length, restarted.value.previous.rows.length]).toEqual([40, 0]);
    // The every-row store answers the same.
    const same = await everyRow.reader.samples({ table: 'process_stats', at });
    expect(same.ok && [same.value.current.rows, same.value.previous.rows]).toEqual([result.value.current.rows, result.value.previous.rows]);
  });

  it('keeps the raw table in arrival order without sortRows and moves the stage in entity order with it, leaving the stage empty at close', async () => {
    // Physical order is not visible through the reader (history.process_stats is a view): the closed files are opened as they are.
    const order = async (store: Started & { path: string }): Promise<[number, number]> => {
      await store.sink.close();
      const raw = await DuckDBInstance.create(store.path, { access_mode: 'READ_ONLY' });
      const connection = await raw.connect();
      try {
        const back = await connection.runAndReadAll('SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY rowid) AS back FROM vw_raw.process_stats) WHERE back');
        const staged = await connection.runAndReadAll('SELECT count(*) FROM vw_stage.process_stats');
        return [Number(back.getRowsJS()[0]?.[0]), Number(staged.getRowsJS()[0]?.[0])];
      } finally {
        connection.disconnectSync();
        raw.closeSync();
      }
    };
    const [timeOrder, timeStaged] = await order(changeOnly);
    expect([timeOrder, timeStaged]).toEqual([0, 0]);
    const [entityOrder, entityStaged] = await order(sorted);
    expect(entityOrder).toBeGreaterThan(100);
    expect(entityStaged).toBe(0);
  });

  it('reads a layout-1 file (every row stored, no sample log) after one start upgrades it', async () => {
    const path = newPath();
    const first = await startSink(path, { config: { keyframeMs: 0 } });
    for (const batch of batches.before.slice(0, 30)) await first.sink.write([batch]);
    await first.clock.advance(30 * SECOND);
    await first.sink.close();
    // Turn it into layout 1: no tombstones, no tombstone column, no sample log, no keyframe column.
    const raw = await DuckDBInstance.create(path);
    const connection = await raw.connect();
    for (const statement of [
      ...SINGLE_TABLE,
      'DELETE FROM history.process_stats WHERE _gone',
      'ALTER TABLE history.process_stats DROP COLUMN _gone',
      'DROP TABLE vw_meta.samples',
      'ALTER TABLE vw_meta.sessions DROP COLUMN keyframe_ms',
      'UPDATE vw_meta.store SET format_version = 1',
    ]) {
      await connection.run(statement);
    }
    connection.disconnectSync();
    raw.closeSync();

    const upgraded = await startSink(path, { now: T0 + 40 * SECOND });
    await upgraded.clock.advance(SECOND);
    for (const at of [T0, T0 + 12_500, T0 + 29 * SECOND]) {
      const answer = await rowsOf(upgraded.reader, { sql: 'SELECT ts, pid, rss FROM process_stats ORDER BY pid', at });
      expect(answer).toEqual(everyRowAnswer(batches.before.slice(0, 30), at, 300 * SECOND));
    }
    const samples = await upgraded.reader.samples({ table: 'process_stats', at: T0 + 20 * SECOND });
    expect(samples.ok && [samples.value.current.rows.length, samples.value.previous.rows.length]).toEqual([40, 40]);
    await upgraded.sink.close();
    const reopened = await DuckDBInstance.create(path);
    const check = await reopened.connect();
    const version = await check.runAndReadAll('SELECT max(format_version) FROM vw_meta.store');
    expect(version.getRowsJS()).toEqual([[3]]);
    // Its metric table stays one table: only tables created by layout 3 are staged.
    const views = await check.runAndReadAll("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'history'");
    expect(views.getRowsJS()).toEqual([[0n]]);
    check.disconnectSync();
    reopened.closeSync();
  });

  it('keeps writing, sorting and reading a metric table of layout 2 as one table', async () => {
    const path = newPath();
    const first = await startSink(path, { config: { sortRows: 0 } });
    for (const batch of batches.before.slice(0, 60)) expect((await first.sink.write([batch])).status.code).toBe('OK');
    await first.sink.close();
    const raw = await DuckDBInstance.create(path);
    const connection = await raw.connect();
    for (const statement of [
      ...SINGLE_TABLE,
      'UPDATE vw_meta.store SET format_version = 2',
    ]) {
      await connection.run(statement);
    }
    connection.disconnectSync();
    raw.closeSync();
    // Sorted every 200 rows, in place (layout 2 has no stage).
    const second = await startSink(path, { config: { sortRows: 200 }, now: T0 + 60 * SECOND });
    for (const batch of batches.before.slice(60, 200)) expect((await second.sink.write([batch])).status.code).toBe('OK');
    // (59 s, the first session's last sample, is the instant of its stop: no answer there, as after any stop.)
    for (const at of [T0 + 30 * SECOND, T0 + 58 * SECOND, T0 + 150 * SECOND, T0 + 199 * SECOND]) {
      const answer = await rowsOf(second.reader, { sql: 'SELECT ts, pid, rss FROM process_stats ORDER BY pid', at });
      expect(answer, `at ${iso(at)}`).toEqual(everyRowAnswer(batches.before.slice(0, 200), at, 300 * SECOND));
    }
    await second.sink.close();
    const reopened = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const check = await reopened.connect();
    const layout = await check.runAndReadAll(
      "SELECT (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'history'), (SELECT count(*) FROM duckdb_tables() WHERE schema_name IN ('vw_raw', 'vw_stage'))",
    );
    expect(layout.getRowsJS()).toEqual([[0n, 0n]]);
    const back = await check.runAndReadAll('SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY rowid) AS back FROM history.process_stats) WHERE back');
    expect(Number(back.getRowsJS()[0]?.[0])).toBeGreaterThan(10);
    check.disconnectSync();
    reopened.closeSync();
  });
});
