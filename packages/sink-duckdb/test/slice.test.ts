// Slices on real store files: a recording made through the real sink on a fake clock (forks,
// exits, idle and busy processes, keyframes, events, a stop of the recorder) is planned and read
// page by page, loaded into a new store (from the pages, and through Parquet files), and the new
// store answers every as-of question inside the slice as the recording does: query --at at
// instants around `from`, the stop and `to`, ranges inside it, samples(), states(), versions().
// Then the loader's refusals: an existing store, values not of their column's type.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Cell, QueryRequest, QueryResult, Result, Row, SlicePart, SlicePlan, StoreReader } from '@virtualeyes/core';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import { createParquetWriter, createReader, createSliceLoader, isoMicros, parseConfig, parseIsoMicros, SlicePartName } from '../src/index.js';
import { SECOND, startSink, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-slice-');
const root = mkdtempSync(join(tmpdir(), 'sink-duckdb-slice-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STALE = 20 * SECOND;
const CONFIG = { keyframeMs: 10 * SECOND, stalenessMs: STALE, sortRows: 0 };
/** The recorder runs from 0 s to 200.5 s and from 230 s to 400 s; the store's clock then reads 500 s. */
const STOP = T0 + 200_500;
const RESTART = T0 + 230 * SECOND;
const FROM = T0 + 150 * SECOND;
const TO = T0 + 300 * SECOND;
/** A command line no terminal should see raw, which every format must carry exactly. */
const HOSTILE = 'evil\x1b]0;x\x07\u202e\n"quoted", \\ end';

/** One second of the workload: the batches written at it (none while the recorder is stopped). */
function workload(): Map<number, Batch[]> {
  const steps = new Map<number, Batch[]>();
  const live = new Map<number, { rss: number; start: number }>();
  let nextPid = 100;
  const spawn = (step: number): void => {
    live.set(nextPid, { rss: 1000 + nextPid, start: step * 100 });
    nextPid += 1;
  };
  for (let index = 0; index < 12; index += 1) spawn(0);
  for (let step = 0; step <= 400; step += 1) {
    const exits: Row[] = [];
    // Exits every 13 s, and one a second after `from`: its version ends just inside the slice.
    if (step % 13 === 5 || step === 151) {
      const pid = [...live.keys()][step % live.size]!;
      live.delete(pid);
      exits.push({ pid, code: pid % 3 });
      spawn(step);
    }
    for (const [pid, process] of live) if (pid % 4 === 0 || step % 37 === pid % 37) process.rss += (step % 5) - 1;
    const ts = T0 + step * SECOND;
    const batches: Batch[] = [
      {
        table: 'processes',
        ts,
        snapshot: true,
        rows: [...live].map(([pid, process]) => ({ pid, start_time: process.start, comm: pid === 103 ? HOSTILE : `proc${pid}`, args: pid % 2 === 0 ? ['cmd', `--n=${pid}`, ''] : null })),
      },
      { table: 'os', ts, snapshot: true, rows: [{ kernel: step < 260 ? '6.1.0' : '6.12.0', booted: T0 - 3_600_000 + 0.25 }] },
    ];
    // The counters were not collected from 113 s to 130 s nor from 132 s to 151 s (a slow collector, no stop): at
    // `from` (150 s) the last sample is 131 s and the one before it 112 s, which reaches back furthest for its rows.
    if (!((step >= 113 && step <= 130) || (step >= 132 && step <= 151))) {
      batches.push({ table: 'process_stats', ts, snapshot: true, rows: [...live].map(([pid, process]) => ({ pid, rss: process.rss, cpu: pid % 4 === 0 ? 0.25 : 0 })) });
    }
    if (exits.length > 0) batches.push({ table: 'exits', ts, snapshot: false, rows: exits });
    if (ts < STOP || ts >= RESTART) steps.set(ts, batches);
  }
  return steps;
}

/** Records the workload through the real sink, stopping it at 200.5 s; the second run stays open, as a live recording. */
async function record(): Promise<Started> {
  const path = newPath();
  const steps = workload();
  const first = await startSink(path, { config: CONFIG });
  for (const [ts, batches] of steps) if (ts < STOP) expect((await first.sink.write(batches)).status.code).toBe('OK');
  await first.clock.advance(STOP - first.clock.now());
  expect((await first.sink.close()).code).toBe('OK');
  const second = await startSink(path, { config: CONFIG, now: RESTART });
  for (const [ts, batches] of steps) if (ts >= RESTART) expect((await second.sink.write(batches)).status.code).toBe('OK');
  await second.clock.advance(T0 + 500 * SECOND - second.clock.now());
  return second;
}

function must<T>(result: Result<T>): T {
  if (!result.ok) expect.fail(`${result.status.code}: ${result.status.message}`);
  return result.value;
}

/** Every page of every part, asked `maxRows` at a time. */
async function readSlice(reader: StoreReader, plan: SlicePlan, maxRows: number): Promise<Map<string, Cell[][]>> {
  const parts = new Map<string, Cell[][]>();
  for (const part of plan.parts) {
    const rows: Cell[][] = [];
    let cursor: string | undefined;
    do {
      const page = must(await reader.slice!({ scope: plan.scope, part: part.name, maxRows, ...(cursor === undefined ? {} : { cursor }) }));
      expect(page.columns.map((column) => column.name)).toEqual(part.columns.map((column) => column.name));
      rows.push(...page.rows.map((row) => [...row]));
      cursor = page.next;
    } while (cursor !== undefined);
    parts.set(part.name, rows);
  }
  return parts;
}

/** A new data directory and the deps of a loader or reader in it, on a clock after the recording. */
function target(): { dataDir: string; deps: ReturnType<typeof createTestDeps> } {
  const dataDir = join(mkdtempSync(join(root, 'target-')), 'data');
  return { dataDir, deps: createTestDeps({ dataDir, clock: createFakeClock(T0 + 500 * SECOND) }) };
}

/** Opens the store of `dataDir` read-only with the recording's options. */
async function open(deps: ReturnType<typeof createTestDeps>): Promise<StoreReader> {
  return must(await createReader(must(parseConfig(CONFIG)), deps));
}

/** A result as two askings of it compare: without its timing. */
function answer(result: Result<QueryResult>): Pick<QueryResult, 'columns' | 'rows' | 'truncated'> {
  const value = must(result);
  return { columns: value.columns, rows: value.rows, truncated: value.truncated };
}

/** The instants asked about: at and just after `from`, around the stop and the restart, and at `to`. */
const INSTANTS = [0, 0.5, 1, 20, 49, 50, 50.5, 51, 65, 79.99, 80, 80.5, 109.5, 130, 150].map((s) => FROM + s * SECOND);

/** Time limit of a test asking two stores a few hundred questions on a shared machine. */
const LONG = 180_000;

/** Checks that `imported` answers every as-of question inside the slice as `recording` does; returns how many answers held rows. */
async function expectSameAnswers(recording: StoreReader, imported: StoreReader, instants: readonly number[] = INSTANTS): Promise<number> {
  let nonEmpty = 0;
  const same = async (request: QueryRequest): Promise<void> => {
    const [a, b] = [answer(await recording.query(request)), answer(await imported.query(request))];
    expect(b, `${request.sql} ${JSON.stringify({ at: request.at, from: request.from, to: request.to })}`).toEqual(a);
    if (a.rows.length > 0) nonEmpty += 1;
  };
  for (const at of instants) {
    await same({ sql: 'SELECT * FROM process_stats ORDER BY host, pid', at, stalenessMs: STALE });
    await same({ sql: 'SELECT * FROM process_stats ORDER BY host, pid', at, stalenessMs: 5 * SECOND });
    await same({ sql: 'SELECT * FROM processes ORDER BY host, pid, start_time', at });
    await same({ sql: 'SELECT * FROM os', at });
    await same({ sql: 'SELECT * FROM exits ORDER BY ts, pid', at, stalenessMs: STALE });
    await same({ sql: 'SELECT p.pid, p.comm, s.rss FROM process_stats s JOIN processes p USING (host, pid) ORDER BY p.pid', at, stalenessMs: STALE });
    const [a, b] = [must(await recording.samples({ table: 'process_stats', at, stalenessMs: STALE })), must(await imported.samples({ table: 'process_stats', at, stalenessMs: STALE }))];
    expect([answer({ ok: true, value: b.current }), answer({ ok: true, value: b.previous })], `samples at ${at - T0}`).toEqual([
      answer({ ok: true, value: a.current }),
      answer({ ok: true, value: a.previous }),
    ]);
    for (const table of ['processes', 'os']) expect(answer(await imported.states({ table, at })), `states ${table} at ${at - T0}`).toEqual(answer(await recording.states({ table, at })));
  }
  for (const [from, to] of [
    [FROM, TO],
    [FROM + 10 * SECOND, FROM + 60 * SECOND],
    [STOP - 5 * SECOND, RESTART + 5 * SECOND],
  ] as const) {
    for (const table of ['process_stats', 'processes', 'exits', 'os']) await same({ sql: `SELECT * FROM ${table} ORDER BY ALL`, from, to });
    for (const table of ['processes', 'os']) expect(answer(await imported.versions({ table, from, to }))).toEqual(answer(await recording.versions({ table, from, to })));
  }
  return nonEmpty;
}

describe('slices', () => {
  let recording: Started;
  let plan: SlicePlan;
  let parts: Map<string, Cell[][]>;

  beforeAll(async () => {
    recording = await record();
    plan = must(await recording.reader.slicePlan!({ from: FROM, to: TO, stalenessMs: STALE }));
    parts = await readSlice(recording.reader, plan, 100_000);
  });
  afterAll(async () => {
    await recording.sink.close();
  });

  it('plans the logs, then every table, with the lookback an as-of read at `from` needs', () => {
    expect(plan.scope).toEqual({ from: FROM, to: TO, stalenessMs: STALE, keyframeMs: 10 * SECOND, tables: ['exits', 'os', 'process_stats', 'processes'] });
    expect(plan.parts.map((part) => [part.name, part.kind, part.since - T0])).toEqual([
      [SlicePartName.SESSIONS, 'sessions', 100 * SECOND],
      [SlicePartName.SAMPLES, 'samples', 110 * SECOND],
      ['exits', 'event', 130 * SECOND],
      ['os', 'state', 150 * SECOND],
      ['process_stats', 'metric', 100 * SECOND],
      ['processes', 'state', 150 * SECOND],
    ]);
    const stats = plan.parts.find((part) => part.name === 'process_stats')!;
    expect(stats.columns.map((column) => [column.name, column.type, column.unit ?? '', column.added === true])).toEqual([
      ['host', 'text', '', true],
      ['ts', 'timestamp', '', true],
      ['pid', 'int32', '', false],
      ['rss', 'int64', 'bytes', false],
      ['cpu', 'float64', 'percent', false],
      ['_gone', 'bool', '', true],
    ]);
    expect(stats.semantics).toContain('until the entity');
    expect(stats.semantics).toContain('_gone = true is a tombstone');
  });

  it('holds the rows of the window and its lookback only, tombstones and both runs included', () => {
    const sessions = parts.get(SlicePartName.SESSIONS)!;
    expect(sessions.map((row) => [row[0], row[2], row[4], row[5]])).toEqual([
      [1, isoMicros(BigInt(T0) * 1000n), isoMicros(BigInt(STOP) * 1000n), 'close'],
      [2, isoMicros(BigInt(RESTART) * 1000n), null, null],
    ]);
    const stats = parts.get('process_stats')!;
    const times = stats.map((row) => Date.parse(String(row[1])));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(T0 + 100 * SECOND);
    expect(Math.max(...times)).toBeLessThanOrEqual(TO);
    expect(stats.some((row) => row[5] === true)).toBe(true);
    // The sample log: every batch of the metric table, from `since` to `to`, none while the recorder was stopped.
    expect(parts.get(SlicePartName.SAMPLES)!.length).toBe(91 - 18 - 20 + 71);
    // Versions overlapping the window, among them the hostile command line exactly as recorded.
    expect(parts.get('processes')!.some((row) => row[5] === HOSTILE)).toBe(true);
  });

  it('pages by time and cursor, whatever the page size, to the same rows', async () => {
    expect(await readSlice(recording.reader, plan, 7)).toEqual(parts);
    // A page also ends early at the store's result-byte limit (64 KiB here), a row never split.
    const small = await startSink(newPath(), { config: { ...CONFIG, keyframeMs: SECOND, maxResultBytes: 65_536 } });
    const steps = workload();
    for (const [ts, batches] of steps) if (ts < T0 + 150 * SECOND) await small.sink.write(batches);
    const smallPlan = must(await small.reader.slicePlan!({ from: T0 + 60 * SECOND, to: T0 + 140 * SECOND }));
    const first = must(await small.reader.slice!({ scope: smallPlan.scope, part: 'process_stats', maxRows: 100_000 }));
    expect(first.next).toBeDefined();
    expect(first.rows.length).toBeLessThan(2000);
    expect(await readSlice(small.reader, smallPlan, 100_000)).toEqual(await readSlice(small.reader, smallPlan, 25));
    await small.sink.close();
  }, LONG);

  it('loads into a new store that answers every as-of question inside the slice as the recording does', async () => {
    const { dataDir, deps } = target();
    const loader = must(await createSliceLoader({}, deps, plan));
    for (const part of plan.parts) {
      const rows = parts.get(part.name)!;
      for (let start = 0; start < rows.length; start += 500) expect((await loader.append(part.name, rows.slice(start, start + 500))).code).toBe('OK');
    }
    const path = must(await loader.finish());
    expect(path).toBe(join(dataDir, 'vwatchd.db'));
    const imported = await open(deps);
    try {
      expect(await expectSameAnswers(recording.reader, imported)).toBeGreaterThan(60);
      // A slice, not a copy: the rows before the lookback are not there.
      const count = async (reader: StoreReader, sql: string) => Number(must(await reader.query({ sql })).rows[0]![0]);
      expect(await count(imported, 'SELECT count(*) FROM history.process_stats')).toBeLessThan(await count(recording.reader, 'SELECT count(*) FROM history.process_stats'));
      expect(await count(imported, 'SELECT count(*) FROM vw_meta.sessions')).toBe(2);
      // The catalogue is the recording's: kinds, keys, columns, units.
      const strip = (tables: Awaited<ReturnType<StoreReader['tables']>>) => must(tables).map(({ name, kind, key, columns, description }) => ({ name, kind, key, columns, description }));
      expect(strip(await imported.tables())).toEqual(strip(await recording.reader.tables()));
    } finally {
      await imported.close();
    }
  }, LONG);

  it('round-trips every part through Parquet files exactly', async () => {
    const dir = mkdtempSync(join(root, 'parquet-'));
    for (const part of plan.parts) {
      const writer = must(await createParquetWriter(join(dir, `${part.name}.parquet`), part.columns));
      expect((await writer.append(parts.get(part.name)!)).code).toBe('OK');
      expect(must(await writer.finish())).toBe(parts.get(part.name)!.length);
    }
    // The scratch database beside each file is gone; only the Parquet files are left.
    expect(readdirSync(dir).sort()).toEqual(plan.parts.map((part) => `${part.name}.parquet`).sort());
    const { deps } = target();
    const loader = must(await createSliceLoader({}, deps, plan));
    for (const part of plan.parts) expect(must(await loader.appendParquet(part.name, join(dir, `${part.name}.parquet`)))).toBe(parts.get(part.name)!.length);
    must(await loader.finish());
    const imported = await open(deps);
    try {
      // The same rows, so the same answers; a few instants show it.
      expect(await readSlice(imported, must(await imported.slicePlan!({ from: FROM, to: TO, stalenessMs: STALE })), 100_000)).toEqual(parts);
      expect(await expectSameAnswers(recording.reader, imported, [FROM, STOP, RESTART + 500, TO])).toBeGreaterThan(20);
    } finally {
      await imported.close();
    }
  }, LONG);

  it('refuses a data directory that holds a store, and values that are not of their column', async () => {
    const { dataDir, deps } = target();
    const stats = plan.parts.find((part) => part.name === 'process_stats')!;
    const only: SlicePlan = { scope: { ...plan.scope, tables: ['process_stats'] }, parts: [stats] };
    const loader = must(await createSliceLoader({}, deps, only));
    const good: Cell[] = ['h', '2026-01-01T00:00:00.000001Z', 1, '5', '0.5', null];
    for (const [row, message] of [
      [['h', '2026-01-01 00:00:00', 1, 5, 0.5, null], 'process_stats: row 1: ts should be an ISO-8601 UTC time'],
      [['h', '2026-01-01T00:00:00Z', 'one', 5, 0.5, null], 'process_stats: row 1: pid should be a 32-bit integer, got "one"'],
      [['h', '2026-01-01T00:00:00Z', 1, 5, 0.5, 'yes'], 'process_stats: row 1: _gone should be true or false'],
      [[null, '2026-01-01T00:00:00Z', 1, 5, 0.5, null], 'process_stats: row 1: host is empty'],
      [['h', '2026-02-30T00:00:00Z', 1, 5, 0.5, null], 'ts should be an ISO-8601 UTC time'],
      [['h', '2026-01-01T00:00:00Z', 1], 'row 1: has 3 values, expected 6'],
    ] as const) {
      const refused = await loader.append('process_stats', [row as readonly Cell[]]);
      expect(refused.code).toBe('INVALID_ARGUMENT');
      expect(refused.message).toContain(message);
    }
    expect((await loader.append('process_stats', [good])).code).toBe('OK');
    must(await loader.finish());
    const again = await createSliceLoader({}, deps, only);
    expect(again.ok ? 'OK' : again.status.message).toContain('already holds a store');
    // A loader given up leaves nothing behind.
    const other = target();
    const abandoned = must(await createSliceLoader({}, other.deps, only));
    await abandoned.abort();
    expect(existsSync(join(other.dataDir, 'vwatchd.db'))).toBe(false);
    // Parts must be what the store lays out: a log under another name, a store column of the wrong type.
    const sessions = plan.parts.find((part) => part.kind === 'sessions')!;
    const third = target();
    const misnamed = await createSliceLoader({}, third.deps, { scope: only.scope, parts: [{ ...sessions, name: 'vw_meta.other' }] });
    expect(misnamed.ok ? 'OK' : misnamed.status.message).toBe("a sessions part must be named vw_meta.sessions, not 'vw_meta.other'");
    const wrong: SlicePart = { ...stats, columns: stats.columns.map((column) => (column.name === 'ts' ? { ...column, type: 'text' } : column)) };
    const typed = await createSliceLoader({}, third.deps, { scope: only.scope, parts: [wrong] });
    expect(typed.ok ? 'OK' : typed.status.message).toBe('process_stats: column ts is text, the store holds TIMESTAMP WITH TIME ZONE');
    // Neither refusal left a store.
    expect(existsSync(join(third.dataDir, 'vwatchd.db'))).toBe(false);
    expect(existsSync(join(dataDir, 'vwatchd.db'))).toBe(true);
  });

  it('refuses plans it cannot make, and cuts `to` at now', async () => {
    const future = await recording.reader.slicePlan!({ from: T0 + 600 * SECOND, to: T0 + 700 * SECOND });
    expect(future.ok ? '' : future.status.message).toBe('from is in the future; the recording ends now');
    const unknown = await recording.reader.slicePlan!({ from: FROM, to: TO, tables: ['nope'] });
    expect(unknown.ok ? '' : unknown.status.message).toBe("table 'nope' is not a recorded table");
    const backwards = await recording.reader.slicePlan!({ from: TO, to: FROM });
    expect(backwards.ok ? '' : backwards.status.message).toBe('from is after to');
    const cut = must(await recording.reader.slicePlan!({ from: FROM, to: T0 + 10_000 * SECOND, tables: ['processes'] }));
    expect([cut.scope.to, cut.parts.map((part) => part.name)]).toEqual([T0 + 500 * SECOND, [SlicePartName.SESSIONS, 'processes']]);
    const page = await recording.reader.slice!({ scope: plan.scope, part: 'history.processes' });
    expect(page.ok ? '' : page.status.message).toBe("'history.processes' is not a part of this slice");
    const cursor = await recording.reader.slice!({ scope: plan.scope, part: 'processes', cursor: 'x' });
    expect(cursor.ok ? '' : cursor.status.code).toBe('INVALID_ARGUMENT');
  });

  it('writes and reads times with their microseconds', () => {
    for (const micros of [0n, 1n, -1n, 1_767_225_600_123_456n, -62_135_596_800_000_000n]) expect(parseIsoMicros(isoMicros(micros))).toBe(micros);
    expect(isoMicros(1_767_225_600_123_456n)).toBe('2026-01-01T00:00:00.123456Z');
    for (const text of ['2026-01-01T00:00:00', '2026-13-01T00:00:00Z', '2026-01-01T00:00:00+01:00', '10000-01-01T00:00:00Z', '0000-12-31T23:59:59Z']) expect(parseIsoMicros(text)).toBeUndefined();
  });
});
