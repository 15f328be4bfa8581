// `stepMs` buckets on real store files written through the sink: each metric table (and its
// rates view) becomes one row per entity and bucket with samples, min/avg/max/last and counter
// rates, equal to a straightforward computation over every row of every sample (the batches
// written), from a change-only store and from one that stores every row alike; buckets that span
// the recorder's stop, a missing sample, an entity appearing mid-bucket, partial buckets at the
// range's ends; an entity of partial batches aging out as the --at view has it; state tables
// untouched; and the refusals.
import { describe, expect, it } from 'vitest';
import type { Cell, QueryRequest } from '@virtualeyes/core';
import { compareRows, COUNTER_TABLES, expectedSteps, METRIC, rounded, useRecordedWorkload } from './counters.js';
import { iso, rowsOf, SECOND, startSink, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-step-');
const at = (seconds: number): number => T0 + seconds * SECOND;

const recorded = useRecordedWorkload(newPath);

/** `SELECT *` of `view` in steps, ordered by host, key and bucket. */
async function stepsOf(store: Started, view: string, request: Omit<QueryRequest, 'sql'>): Promise<Record<string, Cell>[]> {
  const table = METRIC.get(view.replace(/_rates$/, '').replace(/^process$/, 'process_stats'))!;
  return rowsOf(store.reader, { sql: `SELECT * FROM ${view} ORDER BY host, ${[...table.key, 'ts'].join(', ')}`, ...request });
}

describe('metric tables in steps', () => {
  it('gives an idle process its value as min, avg, max and last, with as many samples as it was seen at', async () => {
    const rows = await stepsOf(recorded.changeOnly, 'process_stats', { from: at(0), to: at(60), stepMs: 60 * SECOND });
    const idle = rows.find((row) => row['pid'] === 1);
    // One bucket: 20 samples before the stop, 21 after; from 3 stored rows and 3 keyframes.
    expect(idle).toEqual({
      host: 'host-a', ts: iso(T0), pid: 1, samples: 41,
      utime: 100, utime_rate: 0, read_bytes: 7, read_bytes_rate: 0,
      rss_min: 1000, rss_avg: 1000, rss_max: 1000, rss: 1000,
      share_min: 0, share_avg: 0, share_max: 0, share: 0, state: 'S',
    });
    // The busy one's rate starts after the stop, at the first sample of the second recording.
    expect(rows.find((row) => row['pid'] === 2)).toMatchObject({ samples: 41, utime: 3500, utime_rate: 50, read_bytes_rate: 4096, rss_min: 2000, rss_max: 2020 });
    const columns = Object.keys(rows[0]!);
    expect(columns).toEqual([
      'host', 'ts', 'pid', 'samples', 'utime', 'utime_rate', 'read_bytes', 'read_bytes_rate',
      'rss_min', 'rss_avg', 'rss_max', 'rss', 'share_min', 'share_avg', 'share_max', 'share', 'state',
    ]);
  });

  it('starts a bucket rate from the sample before the bucket, or from the first sample of a new entity', async () => {
    const rows = await stepsOf(recorded.changeOnly, 'process_stats', { from: at(0), to: at(60), stepMs: 7 * SECOND });
    const of = (pid: number, start: number) => rows.find((row) => row['pid'] === pid && row['ts'] === iso(at(start)));
    // pid 3 appears at 5 s, in the bucket [0, 7): two samples, 10 ms a second between them.
    expect(of(3, 0)).toMatchObject({ samples: 2, utime: 20, utime_rate: 10, rss_avg: 3000 });
    // [7, 14) starts from 6 s, where pid 4's counter was 620: it went down at 8 s (reset), so no rate.
    expect(of(4, 7)).toMatchObject({ samples: 7, utime: 105, utime_rate: null });
    expect(of(4, 14)).toMatchObject({ samples: 6, utime: 245, utime_rate: 20 });
    // [14, 21) lacks the sample at 15 s; [28, 35) holds the stop's end: from 30 s, not from 20 s.
    expect(of(2, 14)).toMatchObject({ samples: 6, utime_rate: 50 });
    expect(of(2, 28)).toMatchObject({ samples: 5, utime: 1000 + 50 * 34, utime_rate: 50 });
    // cpu 'all' gains 5 ms of user time at 41 s: [35, 42) counts it over the 7 s from 34 s.
    const cpu = await stepsOf(recorded.changeOnly, 'cpu', { from: at(0), to: at(60), stepMs: 7 * SECOND });
    expect(cpu.find((row) => row['cpu'] === 'all' && row['ts'] === iso(at(35)))).toMatchObject({ samples: 7, user: 825, user_rate: (825 - 680) / 7, idle_rate: 180 });
    // pid 6 starts at 33 s: its first bucket has two samples, rate 3.
    expect(of(6, 28)).toMatchObject({ samples: 2, utime: 3, utime_rate: 3, rss_min: 6033, rss_max: 6034, rss_avg: 6033.5 });
  });

  it('equals the computation from every sample for every table, step and range, change-only or not', async () => {
    const cases: [number, number, number][] = [
      [0, 60, 60],
      [0, 60, 7],
      [0, 60, 1],
      [3.5, 41, 5],
      [12, 35, 10],
      [20.5, 29, 5],
      [0, 3600, 3600],
    ];
    for (const [from, to, step] of cases) {
      for (const table of METRIC.values()) {
        const expected = rounded(expectedSteps(table.name, at(from), at(to), step * SECOND).sort(compareRows(table)));
        for (const store of [recorded.changeOnly, recorded.everyRow]) {
          const answer = await stepsOf(store, table.name, { from: at(from), to: at(to), stepMs: step * SECOND });
          expect(rounded(answer), `${table.name} ${from}-${to} s by ${step} s`).toEqual(expected);
        }
      }
    }
  });

  it('gives a rates view the same buckets as its table', async () => {
    const request = { from: at(0), to: at(60), stepMs: 10 * SECOND };
    const table = await stepsOf(recorded.changeOnly, 'cpu', request);
    expect(table.length).toBeGreaterThan(10);
    expect(await stepsOf(recorded.changeOnly, 'cpu_rates', request)).toEqual(table);
    expect(await stepsOf(recorded.changeOnly, 'process_rates', request)).toEqual(await stepsOf(recorded.changeOnly, 'process_stats', request));
  });

  it('leaves state tables as they are in a range', async () => {
    const sql = 'SELECT pid, comm, valid_from FROM processes ORDER BY valid_from';
    const range = { from: at(0), to: at(60) };
    expect(await rowsOf(recorded.changeOnly.reader, { sql, ...range, stepMs: 10 * SECOND })).toEqual(await rowsOf(recorded.changeOnly.reader, { sql, ...range }));
  });
});

describe('partial batches', () => {
  it('count an entity missing from them until its last row is a keyframe interval old, as the --at view does', async () => {
    const store = await startSink(newPath(), { tables: COUNTER_TABLES, config: { keyframeMs: 5 * SECOND } });
    const row = (pid: number, t: number) => ({ pid, utime: 10 * t, read_bytes: null, rss: 100 * pid + t, share: 0, state: 'S' });
    for (let t = 0; t <= 12; t += 1) {
      const rows = t === 0 ? [row(1, 0), row(2, 0)] : [row(2, t)];
      expect((await store.sink.write([{ table: 'process_stats', ts: at(t), snapshot: false, rows }])).status.code).toBe('OK');
    }
    await store.clock.advance(60 * SECOND);
    // The oracle: the --at view at every sample.
    const seen = new Map<number, number[]>();
    for (let t = 0; t <= 12; t += 1) {
      for (const found of await rowsOf(store.reader, { sql: 'SELECT pid, rss FROM process_stats', at: at(t) })) {
        seen.set(Number(found['pid']), [...(seen.get(Number(found['pid'])) ?? []), Number(found['rss'])]);
      }
    }
    expect(seen.get(1)).toEqual([100, 100, 100, 100, 100, 100]);
    const rows = await stepsOf(store, 'process_stats', { from: at(0), to: at(12), stepMs: 60 * SECOND });
    expect(rows.map((found) => [found['pid'], found['samples'], found['rss_avg'], found['utime_rate']])).toEqual([
      [1, seen.get(1)!.length, 100, 0],
      [2, 13, seen.get(2)!.reduce((sum, value) => sum + value, 0) / 13, 10],
    ]);
    await store.sink.close();
  });
});

describe('refusals', () => {
  it.each<[string, Omit<QueryRequest, 'sql'>, string]>([
    ['with at', { at: at(10), stepMs: 10 * SECOND }, 'stepMs buckets a range: give from and to, not at'],
    ['without a range', { stepMs: 10 * SECOND }, 'stepMs needs a range: give both from and to'],
    ['with from only', { from: at(0), stepMs: 10 * SECOND }, 'stepMs needs a range: give both from and to'],
    ['below a second', { from: at(0), to: at(60), stepMs: 999 }, 'stepMs must be an integer >= 1000 (one second)'],
    ['a fraction', { from: at(0), to: at(60), stepMs: 1500.5 }, 'stepMs must be an integer >= 1000 (one second)'],
    ['too many buckets', { from: at(0), to: at(10_000), stepMs: SECOND }, 'stepMs 1000 cuts the range into 10001 buckets, more than 10000: use a longer step or a shorter range'],
  ])('refuses a step %s', async (_name, window, message) => {
    const result = await recorded.changeOnly.reader.query({ sql: 'SELECT * FROM cpu', ...window });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', message });
  });

  it('takes the most buckets it allows', async () => {
    const rows = await rowsOf(recorded.changeOnly.reader, { sql: 'SELECT count(*) AS n FROM cpu', from: at(0), to: at(9_999), stepMs: SECOND });
    expect(rows).toEqual([{ n: 2 * (20 + 21) }]);
  });
});
