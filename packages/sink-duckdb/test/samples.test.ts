// The reader's samples(), states() and versions() on real store files: each host's last two samples as of
// an instant (staleness edges, recorder stops, several hosts), the state rows valid then, their
// limits and refusals, hostile table names and hosts, and the offline reader answering alike.
import { describe, expect, it } from 'vitest';
import type { Cell, Clock, QueryResult, Result, Samples, StoreReader } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { createReader } from '../src/index.js';
import { count, iso, rowsOf, SECOND, startSink, T0, useTempDir } from './helpers.js';

const newPath = useTempDir('sink-duckdb-samples-');

/** A minute: a staleness window that reaches every sample of these tests. */
const MINUTE = 60 * SECOND;

/** Rows of a result as objects keyed by column name. */
function objects(result: QueryResult): Record<string, Cell>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
}

/** The samples of a call that must succeed, as (host, ts, pid, rss) objects. */
async function samplesOf(reader: StoreReader, request: Parameters<StoreReader['samples']>[0]): Promise<{ current: Record<string, Cell>[]; previous: Record<string, Cell>[] }> {
  const result = await reader.samples(request);
  if (!result.ok) expect.fail(`samples: ${result.status.code} ${result.status.message}`);
  const pick = (rows: Record<string, Cell>[]): Record<string, Cell>[] => rows.map(({ host, ts, pid, rss }) => ({ host, ts, pid, rss }));
  return { current: pick(objects(result.value.current)), previous: pick(objects(result.value.previous)) };
}

/** One process_stats batch of `host` at `ts` for the given pids (rss = pid * 10 + the step). */
function statsAt(ts: number, pids: readonly number[], step = 0) {
  return { table: 'process_stats', ts, snapshot: true, rows: pids.map((pid) => ({ pid, rss: pid * 10 + step, cpu: 0 })) };
}

/** The result without its timing, for comparing two answers. */
function untimed<T>(result: Result<T>): unknown {
  return JSON.parse(JSON.stringify(result, (key, value: unknown) => (key === 'elapsedMs' ? undefined : value)));
}

describe('samples', () => {
  it("answers each host's last sample and the one before it, hosts with different last times", async () => {
    const path = newPath();
    const a = await startSink(path, { host: 'host-a' });
    await a.sink.write([statsAt(T0 + 1 * SECOND, [1, 2], 1)]);
    await a.sink.write([statsAt(T0 + 2 * SECOND, [1, 2], 2)]);
    await a.sink.write([statsAt(T0 + 3 * SECOND, [2, 1], 3)]);
    // host-a's recorder stops at T0 + 100 s: after the instant asked about.
    await a.clock.advance(100 * SECOND);
    await a.sink.close();
    const b = await startSink(path, { host: 'host-b', now: T0 + 30 * SECOND });
    await b.sink.write([statsAt(T0 + 30 * SECOND, [7], 30)]);
    await b.sink.write([statsAt(T0 + 35 * SECOND, [7, 8], 35)]);
    await b.sink.write([statsAt(T0 + 40 * SECOND, [7, 8], 40)]);

    const at = T0 + 37 * SECOND;
    const samples = await samplesOf(b.reader, { table: 'process_stats', at, stalenessMs: MINUTE });
    expect(samples.current).toEqual([
      { host: 'host-a', ts: iso(T0 + 3 * SECOND), pid: 1, rss: 13 },
      { host: 'host-a', ts: iso(T0 + 3 * SECOND), pid: 2, rss: 23 },
      { host: 'host-b', ts: iso(T0 + 35 * SECOND), pid: 7, rss: 105 },
      { host: 'host-b', ts: iso(T0 + 35 * SECOND), pid: 8, rss: 115 },
    ]);
    expect(samples.previous).toEqual([
      { host: 'host-a', ts: iso(T0 + 2 * SECOND), pid: 1, rss: 12 },
      { host: 'host-a', ts: iso(T0 + 2 * SECOND), pid: 2, rss: 22 },
      { host: 'host-b', ts: iso(T0 + 30 * SECOND), pid: 7, rss: 100 },
    ]);
    // current is exactly what the as-of view of a query selects.
    const view = await rowsOf(b.reader, { sql: 'SELECT host, ts, pid, rss FROM process_stats ORDER BY host, pid', at, stalenessMs: MINUTE });
    expect(samples.current).toEqual(view);

    const full = await b.reader.samples({ table: 'process_stats', at, stalenessMs: MINUTE });
    if (!full.ok) expect.fail(full.status.message);
    expect(full.value.current.columns).toEqual([
      { name: 'host', type: 'VARCHAR' },
      { name: 'ts', type: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'pid', type: 'INTEGER' },
      { name: 'rss', type: 'BIGINT' },
      { name: 'cpu', type: 'DOUBLE' },
    ]);
    expect(full.value.previous.columns).toEqual(full.value.current.columns);
    expect(full.value.current).toMatchObject({ truncated: false, maxRows: 100_000 });

    // Only one sample in the window: no previous.
    const early = await samplesOf(b.reader, { table: 'process_stats', at: T0 + 1500, stalenessMs: MINUTE });
    expect(early.current.map((row) => row.ts)).toEqual([iso(T0 + SECOND), iso(T0 + SECOND)]);
    expect(early.previous).toEqual([]);
    await b.sink.close();
  });

  it('takes no previous sample from before a stop of the recorder, and no current one during the outage', async () => {
    const path = newPath();
    const first = await startSink(path);
    await first.sink.write([statsAt(T0 + 1 * SECOND, [1], 1)]);
    await first.sink.write([statsAt(T0 + 2 * SECOND, [1], 2)]);
    await first.clock.advance(2 * SECOND);
    await first.sink.close();
    const second = await startSink(path, { now: T0 + 10 * SECOND });
    await second.sink.write([statsAt(T0 + 10 * SECOND, [1], 10)]);
    await second.sink.write([statsAt(T0 + 15 * SECOND, [1], 15)]);

    // Just after the restart: the sample before it is 8 s older, well inside the window, but across the stop.
    const restarted = await samplesOf(second.reader, { table: 'process_stats', at: T0 + 12 * SECOND, stalenessMs: MINUTE });
    expect(restarted.current).toEqual([{ host: 'host-a', ts: iso(T0 + 10 * SECOND), pid: 1, rss: 20 }]);
    expect(restarted.previous).toEqual([]);
    const later = await samplesOf(second.reader, { table: 'process_stats', at: T0 + 16 * SECOND, stalenessMs: MINUTE });
    expect(later.current.map((row) => row.rss)).toEqual([25]);
    expect(later.previous.map((row) => row.rss)).toEqual([20]);
    // While the recorder was stopped there is no current sample, so no previous one either.
    const outage = await samplesOf(second.reader, { table: 'process_stats', at: T0 + 5 * SECOND, stalenessMs: MINUTE });
    expect(outage).toEqual({ current: [], previous: [] });
    // Before the stop, both samples of the first recording count.
    const before = await samplesOf(second.reader, { table: 'process_stats', at: T0 + 2 * SECOND - 1, stalenessMs: MINUTE });
    expect([before.current.map((row) => row.rss), before.previous]).toEqual([[11], []]);
    await second.sink.close();
  });

  it('keeps the staleness window open at its start, as the as-of view does', async () => {
    const { sink, reader, clock } = await startSink(newPath());
    for (const step of [0, 10, 20]) await sink.write([statsAt(T0 + step * SECOND, [1], step)]);
    await clock.advance(30 * SECOND);
    const rss = async (at: number, stalenessMs?: number): Promise<[Cell[], Cell[]]> => {
      const samples = await samplesOf(reader, { table: 'process_stats', at, ...(stalenessMs === undefined ? {} : { stalenessMs }) });
      return [samples.current.map((row) => row.rss), samples.previous.map((row) => row.rss)];
    };
    // The previous sample lies exactly stalenessMs before the current one: outside; a millisecond more and it counts.
    expect(await rss(T0 + 20 * SECOND, 10 * SECOND)).toEqual([[30], []]);
    expect(await rss(T0 + 20 * SECOND, 10 * SECOND + 1)).toEqual([[30], [20]]);
    // The last sample lies exactly stalenessMs before the instant: outside, like the view.
    expect(await rss(T0 + 30 * SECOND, 10 * SECOND)).toEqual([[], []]);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: T0 + 30 * SECOND, stalenessMs: 10 * SECOND })).toBe(0);
    expect(await rss(T0 + 30 * SECOND, 10 * SECOND + 1)).toEqual([[30], [20]]);
    // No staleness: only a sample exactly at the instant, and never a previous one.
    expect(await rss(T0 + 20 * SECOND, 0)).toEqual([[30], []]);
    expect(await rss(T0 + 20 * SECOND + 1, 0)).toEqual([[], []]);
    // Without stalenessMs, the store's (5 minutes); one reaching past year 1 means any earlier sample.
    expect(await rss(T0 + 25 * SECOND)).toEqual([[30], [20]]);
    expect(await rss(T0 + 25 * SECOND, Number.MAX_SAFE_INTEGER)).toEqual([[30], [20]]);
    expect(await rss(Date.parse('0001-01-01T00:00:00.005Z'), 10)).toEqual([[], []]);
    await sink.close();
  });

  it('cuts each result at maxRows, capped by the store, in host and key order', async () => {
    const { sink, reader, clock } = await startSink(newPath(), { config: { maxRows: 3 } });
    await sink.write([statsAt(T0, [5, 4, 3, 2, 1], 0)]);
    await sink.write([statsAt(T0 + SECOND, [5, 4, 3, 2, 1], 1)]);
    await clock.advance(10 * SECOND);
    const asked = await reader.samples({ table: 'process_stats', at: T0 + 2 * SECOND, maxRows: 2 });
    if (!asked.ok) expect.fail(asked.status.message);
    for (const result of [asked.value.current, asked.value.previous]) expect(result).toMatchObject({ truncated: true, maxRows: 2 });
    expect(objects(asked.value.current).map((row) => [row.pid, row.rss])).toEqual([[1, 11], [2, 21]]);
    expect(objects(asked.value.previous).map((row) => [row.pid, row.rss])).toEqual([[1, 10], [2, 20]]);
    const capped = await reader.samples({ table: 'process_stats', at: T0 + 2 * SECOND, maxRows: 50 });
    expect(capped.ok && [capped.value.current.rows.length, capped.value.current.maxRows, capped.value.current.truncated]).toEqual([3, 3, true]);
    const none = await reader.samples({ table: 'process_stats', at: T0 + 500, maxRows: 5 });
    expect(none.ok && none.value.previous).toMatchObject({ rows: [], truncated: false, maxRows: 3 });
    await sink.close();
  });

  it('holds both results together to maxResultBytes', async () => {
    const { sink, reader, clock } = await startSink(newPath(), { config: { maxResultBytes: 65_536 } });
    // 400 rows counted as 110 bytes each (five values, plus the host's and the time's text): one result fits, two do not.
    const pids = Array.from({ length: 400 }, (_, index) => index + 1);
    await sink.write([statsAt(T0, pids, 0)]);
    await sink.write([statsAt(T0 + SECOND, pids, 1)]);
    await clock.advance(10 * SECOND);
    const one = await reader.samples({ table: 'process_stats', at: T0 + 500 });
    expect(one.ok && one.value.current.rows.length).toBe(400);
    const both = await reader.samples({ table: 'process_stats', at: T0 + 2 * SECOND });
    expect(!both.ok && both.status).toMatchObject({ code: 'INVALID_ARGUMENT', op: 'samples', source: 'duckdb', message: expect.stringContaining('result too large') });
    await sink.close();
  });
});

describe('states', () => {
  it('answers the versions valid at an instant, for every host or one', async () => {
    const path = newPath();
    const init = { pid: 1, start_time: 10, comm: 'init', args: ['/sbin/init'] };
    const a = await startSink(path, { host: 'host-a' });
    await a.sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init, { pid: 2, start_time: 20, comm: 'sh', args: null }] }]);
    await a.sink.write([{ table: 'processes', ts: T0 + 10 * SECOND, snapshot: true, rows: [{ ...init, comm: 'systemd' }] }]);
    await a.clock.advance(60 * SECOND);
    await a.sink.close();
    const b = await startSink(path, { host: 'host-b', now: T0 + 5 * SECOND });
    await b.sink.write([{ table: 'processes', ts: T0 + 5 * SECOND, snapshot: true, rows: [{ ...init, start_time: 11 }] }]);
    await b.clock.advance(60 * SECOND);

    const states = await b.reader.states({ table: 'processes', at: T0 + 7 * SECOND });
    if (!states.ok) expect.fail(states.status.message);
    expect(states.value.columns.map((column) => column.name)).toEqual(['host', 'valid_from', 'valid_to', 'pid', 'start_time', 'comm', 'args']);
    expect(objects(states.value)).toEqual([
      { host: 'host-a', valid_from: iso(T0), valid_to: iso(T0 + 10 * SECOND), pid: 1, start_time: 10, comm: 'init', args: ['/sbin/init'] },
      { host: 'host-a', valid_from: iso(T0), valid_to: iso(T0 + 10 * SECOND), pid: 2, start_time: 20, comm: 'sh', args: null },
      { host: 'host-b', valid_from: iso(T0 + 5 * SECOND), valid_to: null, pid: 1, start_time: 11, comm: 'init', args: ['/sbin/init'] },
    ]);
    const later = await b.reader.states({ table: 'processes', at: T0 + 10 * SECOND, host: 'host-a' });
    expect(later.ok && objects(later.value).map((row) => [row.host, row.pid, row.comm])).toEqual([['host-a', 1, 'systemd']]);
    // valid_from is inclusive and valid_to exclusive; before anything was recorded, nothing.
    const first = await b.reader.states({ table: 'processes', at: T0, host: 'host-a' });
    expect(first.ok && first.value.rows.length).toBe(2);
    const before = await b.reader.states({ table: 'processes', at: T0 - 1 });
    expect(before.ok && before.value.rows.length).toBe(0);
    const limited = await b.reader.states({ table: 'processes', at: T0 + 7 * SECOND, maxRows: 1 });
    expect(limited.ok && limited.value).toMatchObject({ truncated: true, maxRows: 1, rows: [['host-a', iso(T0), iso(T0 + 10 * SECOND), 1, 10, 'init', ['/sbin/init']]] });

    // Versions over a range: each one valid at some time in it, by host, key and validity.
    const versions = await b.reader.versions({ table: 'processes', from: T0 + 5 * SECOND, to: T0 + 12 * SECOND, host: 'host-a' });
    if (!versions.ok) expect.fail(versions.status.message);
    expect(objects(versions.value).map((row) => [row.pid, row.comm, row.valid_from, row.valid_to])).toEqual([
      [1, 'init', iso(T0), iso(T0 + 10 * SECOND)],
      [1, 'systemd', iso(T0 + 10 * SECOND), iso(T0 + 60 * SECOND)],
      [2, 'sh', iso(T0), iso(T0 + 10 * SECOND)],
    ]);
    // A version ending at `from` was not valid in the range; one starting at `to` was.
    const edges = await b.reader.versions({ table: 'processes', from: T0 + 10 * SECOND, to: T0 + 10 * SECOND, host: 'host-a' });
    expect(edges.ok && objects(edges.value).map((row) => row.comm)).toEqual(['systemd']);
    const all = await b.reader.versions({ table: 'processes', from: T0 - 5 * SECOND, to: T0 + 100 * SECOND });
    expect(all.ok && all.value.rows.length).toBe(4);
    for (const [request, message] of [
      [{ table: 'processes', from: T0 + 1, to: T0 }, 'from is after to'],
      [{ table: 'processes', from: Number.NaN, to: T0 }, 'from must be a finite number of epoch milliseconds'],
      [{ table: 'processes', from: T0, to: 1e300 }, 'to is out of range'],
      [{ table: 'process_stats', from: T0, to: T0 }, "table 'process_stats' is a metric table; versions needs a state table"],
    ] as const) {
      const refused = await b.reader.versions(request);
      expect(refused.ok ? '' : `${refused.status.code} ${refused.status.message}`).toContain(`INVALID_ARGUMENT ${message}`);
    }
    await b.sink.close();
  });
});

describe('refusals and limits', () => {
  async function recording() {
    const started = await startSink(newPath());
    await started.sink.write([
      statsAt(T0, [1], 0),
      { table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 10, comm: 'init', args: [] }] },
      { table: 'exits', ts: T0, snapshot: false, rows: [{ pid: 3, code: 0 }] },
    ]);
    await started.clock.advance(10 * SECOND);
    return started;
  }

  it('refuses tables that are not recorded or of the wrong kind, and malformed requests, as a query refuses them', async () => {
    const { sink, reader } = await recording();
    const at = T0 + SECOND;
    const cases: [Promise<Result<unknown>>, string, string][] = [
      [reader.samples({ table: 'processes', at }), 'samples', "table 'processes' is a state table; samples needs a metric table"],
      [reader.samples({ table: 'exits', at }), 'samples', "table 'exits' is an event table; samples needs a metric table"],
      [reader.states({ table: 'process_stats', at }), 'states', "table 'process_stats' is a metric table; states needs a state table"],
      [reader.samples({ table: 'nope', at }), 'samples', "table 'nope' is not a recorded table"],
      [reader.states({ table: 'sessions', at }), 'states', "table 'sessions' is not a recorded table"],
      [reader.samples({ table: 'process_stats', at: Number.NaN }), 'samples', 'at must be a finite number of epoch milliseconds'],
      [reader.states({ table: 'processes', at: Number.POSITIVE_INFINITY }), 'states', 'at must be a finite number of epoch milliseconds'],
      [reader.samples({ table: 'process_stats', at: Date.UTC(10_000, 0, 1) }), 'samples', 'at is out of range (0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z)'],
      [reader.states({ table: 'processes', at: -62_135_596_800_001 }), 'states', 'at is out of range (0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z)'],
      [reader.samples({ table: 'process_stats', at, stalenessMs: -1 }), 'samples', 'stalenessMs must be an integer >= 0'],
      [reader.samples({ table: 'process_stats', at, stalenessMs: 1.5 }), 'samples', 'stalenessMs must be an integer >= 0'],
      [reader.samples({ table: 'process_stats', at, maxRows: 0 }), 'samples', 'maxRows must be an integer >= 1'],
      [reader.states({ table: 'processes', at, maxRows: 2.5 }), 'states', 'maxRows must be an integer >= 1'],
      [reader.samples({ table: 'process_stats', at, timeoutMs: 0 }), 'samples', 'timeoutMs must be an integer >= 1'],
      [reader.states({ table: 'processes', at, timeoutMs: -5 }), 'states', 'timeoutMs must be an integer >= 1'],
      [reader.states({ table: 'processes', at, host: 7 as never }), 'states', 'host must be a string'],
      // Past the clock and the recording, where state tables would show every open version as known.
      [reader.states({ table: 'processes', at: T0 + 3600 * SECOND }), 'states', 'at is in the future; the recording ends now'],
      [reader.samples({ table: 'process_stats', at: T0 + 3600 * SECOND }), 'samples', 'at is in the future; the recording ends now'],
    ];
    for (const [pending, op, message] of cases) {
      const result = await pending;
      expect(!result.ok && result.status, message).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, source: 'duckdb', op, message });
    }
    await sink.close();
  });

  it('lets hostile table names and hosts reach the SQL only as a catalogue entry or a bound value', async () => {
    const { sink, reader } = await recording();
    const at = T0 + SECOND;
    const hostile = [
      "'; DROP TABLE history.processes; --",
      'processes"; DROP TABLE history.processes; --',
      'process_stats" AS x; DROP TABLE history.processes; SELECT * FROM "process_stats',
      "process_stats' OR '1'='1",
      'history.process_stats',
      'vw_meta.tables',
      'PROCESS_STATS',
      'process_stats ',
      '',
      42 as never,
    ];
    for (const table of hostile) {
      for (const result of [await reader.samples({ table, at }), await reader.states({ table, at })]) {
        expect(!result.ok && result.status, String(table)).toMatchObject({ code: 'INVALID_ARGUMENT', message: `table '${String(table)}' is not a recorded table` });
      }
    }
    for (const host of ["host-a' OR '1'='1", "'; DROP TABLE history.processes; --", 'host-a"; --', '%', 'HOST-A']) {
      const result = await reader.states({ table: 'processes', at, host });
      expect(result.ok && result.value.rows, host).toEqual([]);
    }
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM history.process_stats')).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM vw_meta.tables')).toBe(4);
    await sink.close();

    // A host name full of quotes is a value like any other: its own rows, and nobody else's.
    const path = newPath();
    const odd = `o'brien"; DROP TABLE history.processes; --`;
    const quoted = await startSink(path, { host: odd });
    await quoted.sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 10, comm: 'init', args: [] }] }]);
    await quoted.clock.advance(SECOND);
    const own = await quoted.reader.states({ table: 'processes', at: T0, host: odd });
    expect(own.ok && objects(own.value).map((row) => [row.host, row.pid])).toEqual([[odd, 1]]);
    const other = await quoted.reader.states({ table: 'processes', at: T0, host: 'o' });
    expect(other.ok && other.value.rows).toEqual([]);
    await quoted.sink.close();
  });

  it('answers TIMEOUT past the time limit, and the reader keeps working', async () => {
    // While rushing, every timer is already due: the time limit passes while the call runs.
    const fake = createFakeClock(T0);
    let rushing = false;
    const hasty: Clock = {
      now: () => fake.now(),
      monotonic: () => fake.monotonic(),
      setTimer: (fn, ms) => {
        if (!rushing) return fake.setTimer(fn, ms);
        queueMicrotask(fn);
        return { cancel: () => undefined };
      },
    };
    const { sink } = await startSink(newPath(), { clock: hasty });
    await sink.write([statsAt(T0, [1], 0), { table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 10, comm: 'init', args: [] }] }]);
    const reader = sink.reader!()!;
    rushing = true;
    const samples = await reader.samples({ table: 'process_stats', at: T0, timeoutMs: 50 });
    expect(!samples.ok && samples.status).toMatchObject({ code: 'TIMEOUT', retryable: true, op: 'samples', source: 'duckdb', message: 'samples ran past 50 ms' });
    const states = await reader.states({ table: 'processes', at: T0, timeoutMs: 70_000 });
    // The request's limit is capped by the store's queryTimeoutMs (30 s).
    expect(!states.ok && states.status).toMatchObject({ code: 'TIMEOUT', op: 'states', message: 'states ran past 30000 ms' });
    rushing = false;
    const fine = await reader.samples({ table: 'process_stats', at: T0 });
    expect(fine.ok && [fine.value.current.rows.length, fine.value.previous.rows.length]).toEqual([1, 0]);
    expect(fake.pending()).toBe(0);
    await sink.close();
  });
});

describe('readers', () => {
  it('answers offline as the live reader answered', async () => {
    const path = newPath();
    const { sink, reader, clock } = await startSink(path);
    const init = { pid: 1, start_time: 10, comm: 'init', args: [] };
    await sink.write([statsAt(T0, [1, 2], 0), { table: 'processes', ts: T0, snapshot: true, rows: [init] }]);
    await sink.write([statsAt(T0 + 5 * SECOND, [1, 2], 5), { table: 'processes', ts: T0 + 5 * SECOND, snapshot: true, rows: [{ ...init, comm: 'systemd' }, { ...init, pid: 2 }] }]);
    await clock.advance(20 * SECOND);
    // States asked about are closed versions: closing the store closes the open ones, which changes their valid_to.
    const questions = (target: StoreReader): Promise<Result<unknown>>[] => [
      target.samples({ table: 'process_stats', at: T0 + 6 * SECOND }),
      target.samples({ table: 'process_stats', at: T0 + 6 * SECOND, stalenessMs: 3 * SECOND, maxRows: 1 }),
      target.states({ table: 'processes', at: T0 + 2 * SECOND }),
      target.states({ table: 'processes', at: T0 + 2 * SECOND, host: 'host-a', maxRows: 1 }),
      target.states({ table: 'nope', at: T0 }),
    ];
    const live = await Promise.all(questions(reader));
    expect(live.slice(0, 4).every((result) => result.ok)).toBe(true);
    await sink.close();

    const offline = await createReader({ path }, { clock: createFakeClock(T0 + 60 * SECOND), logger: createMemoryLogger(), dataDir: '/nonexistent' });
    if (!offline.ok) expect.fail(offline.status.message);
    const answers = await Promise.all(questions(offline.value));
    expect(answers.map(untimed)).toEqual(live.map(untimed));
    const samples = answers[0] as Result<Samples>;
    expect(samples.ok && [samples.value.current.rows.length, samples.value.previous.rows.length]).toEqual([2, 2]);
    const states = answers[2] as Result<QueryResult>;
    expect(states.ok && states.value.rows).toEqual([['host-a', iso(T0), iso(T0 + 5 * SECOND), 1, 10, 'init', []]]);

    expect((await offline.value.close()).code).toBe('OK');
    for (const result of [await offline.value.samples({ table: 'process_stats', at: T0 }), await offline.value.states({ table: 'processes', at: T0 })]) {
      expect(!result.ok && result.status).toMatchObject({ code: 'UNAVAILABLE', retryable: false, message: 'the reader is closed' });
    }
  });

  it('refuses calls on a closed reader and after the store closed', async () => {
    const { sink, reader } = await startSink(newPath());
    const mine = sink.reader!()!;
    await mine.close();
    const samples = await mine.samples({ table: 'process_stats', at: T0 });
    expect(!samples.ok && samples.status).toMatchObject({ code: 'UNAVAILABLE', op: 'samples', source: 'duckdb', message: 'the reader is closed' });
    const states = await mine.states({ table: 'processes', at: T0 });
    expect(!states.ok && states.status).toMatchObject({ code: 'UNAVAILABLE', op: 'states', message: 'the reader is closed' });
    // Another reader of the same sink still answers, until the sink closes.
    expect((await reader.states({ table: 'processes', at: T0 })).ok).toBe(true);
    await sink.close();
    const closed = await reader.samples({ table: 'process_stats', at: T0 });
    expect(!closed.ok && closed.status).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
  });
});
