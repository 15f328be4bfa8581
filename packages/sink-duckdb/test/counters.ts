/**
 * The workload of the rates and step tests, and what storing every row of every sample answers
 * for it, computed straight from the batches: tables with counters (a per-process one, a per-CPU
 * one) and one without (memory), 1 Hz samples over two recordings with a stop between them, a
 * missing sample, an idle, a busy, a new, a reset, an exiting and a late process.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Batch, Cell, Row, TableSchema } from '@virtualeyes/core';
import { iso, SECOND, startSink, T0, type Started } from './helpers.js';

/** Per-process counters and gauges, keyed by pid. */
export const PROCESS_STATS: TableSchema = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process counters.',
  key: ['pid'],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'utime', type: 'int64', unit: 'ms', description: 'CPU time since start.', counter: true },
    { name: 'read_bytes', type: 'int64', unit: 'bytes', description: 'Bytes read since start.', nullable: true, counter: true },
    { name: 'rss', type: 'int64', unit: 'bytes', description: 'Resident memory.' },
    { name: 'share', type: 'float64', description: 'A gauge with fractions.' },
    { name: 'state', type: 'text', description: 'Run state.' },
  ],
};

/** Per-CPU counters keyed by a text key. */
export const CPU: TableSchema = {
  name: 'cpu',
  kind: 'metric',
  description: 'CPU time.',
  key: ['cpu'],
  columns: [
    { name: 'cpu', type: 'text', description: 'CPU.' },
    { name: 'user', type: 'int64', unit: 'ms', description: 'User time since boot.', counter: true },
    { name: 'idle', type: 'int64', unit: 'ms', description: 'Idle time since boot.', counter: true },
  ],
};

/** A keyless metric table without counters. */
export const MEMORY: TableSchema = {
  name: 'memory',
  kind: 'metric',
  description: 'Memory.',
  key: [],
  columns: [
    { name: 'used', type: 'int64', unit: 'bytes', description: 'Used.' },
    { name: 'free', type: 'int64', unit: 'bytes', description: 'Free.', nullable: true },
  ],
};

/** A state table, which has no rates. */
export const PROCESSES: TableSchema = {
  name: 'processes',
  kind: 'state',
  description: 'Processes.',
  key: ['pid'],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'comm', type: 'text', description: 'Command.' },
  ],
};

/** The tables of the workload. */
export const COUNTER_TABLES: readonly TableSchema[] = [PROCESS_STATS, CPU, MEMORY, PROCESSES];

/** The metric tables, by name. */
export const METRIC: ReadonlyMap<string, TableSchema> = new Map([PROCESS_STATS, CPU, MEMORY].map((table) => [table.name, table]));

/** Seconds after T0 the recorder stops at, and starts again at. */
export const STOP_S = 20.5;
export const RESTART_S = 29;

/** Sample instants of each recording, seconds after T0 (15 s is missing: a sample that was not taken). */
export const FIRST_RUN = Array.from({ length: 21 }, (_, t) => t).filter((t) => t !== 15);
export const SECOND_RUN = Array.from({ length: 21 }, (_, t) => 30 + t);

/** The rows of process_stats at `t` seconds. */
function processRows(t: number): Row[] {
  const rows: Row[] = [
    { pid: 1, utime: 100, read_bytes: 7, rss: 1000, share: 0, state: 'S' },
    { pid: 2, utime: 1000 + 50 * t, read_bytes: 4096 * t, rss: 2000 + (t % 3) * 10, share: 0.5 + (t % 2) * 0.25, state: t % 2 === 1 ? 'R' : 'S' },
  ];
  if (t >= 5) rows.push({ pid: 3, utime: 10 + 10 * (t - 5), read_bytes: null, rss: 3000, share: 0.1, state: 'S' });
  // A counter reset at 8 s.
  rows.push({ pid: 4, utime: t < 8 ? 500 + 20 * t : 5 + 20 * (t - 8), read_bytes: 0, rss: 4000 + (t >= 10 ? 1 : 0), share: 0.2, state: 'S' });
  // Exits after 11 s; its read_bytes is unreadable every other second.
  if (t <= 11) rows.push({ pid: 5, utime: 77 + Math.floor(t / 3), read_bytes: t % 2 === 1 ? null : 100 * t, rss: 5000, share: 1 / 3, state: 'D' });
  // Starts after the restart, in the middle of a bucket.
  if (t >= 33) rows.push({ pid: 6, utime: 3 * (t - 33), read_bytes: 1, rss: 6000 + t, share: 0.3, state: 'R' });
  return rows;
}

/** The batches of one instant, `t` seconds after T0. */
export function batchesAt(t: number): Batch[] {
  const ts = T0 + t * SECOND;
  return [
    { table: 'process_stats', ts, snapshot: true, rows: processRows(t) },
    { table: 'cpu', ts, snapshot: true, rows: [{ cpu: '0', user: 10 * t, idle: 90 * t }, { cpu: 'all', user: 20 * t + (t > 40 ? 5 : 0), idle: 180 * t }] },
    { table: 'memory', ts, snapshot: true, rows: [{ used: 1000 + (t % 4), free: t % 5 === 0 ? null : 5000 }] },
    ...(t % 10 === 0 ? [{ table: 'processes', ts, snapshot: true, rows: [{ pid: 1, comm: 'init' }] }] : []),
  ];
}

/**
 * Records the workload into `path`: the first recording until {@link STOP_S}, the second from
 * {@link RESTART_S}, left open with its clock at 60 s. `config` is the sink's (a keyframe of
 * 10 s by default, so idle processes get keyframes; `keyframeMs: 0` stores every row).
 */
export async function recordWorkload(path: string, config: Record<string, unknown> = {}): Promise<Started> {
  const options = { tables: COUNTER_TABLES, config: { keyframeMs: 10 * SECOND, sortRows: 0, ...config } };
  const first = await startSink(path, options);
  for (const t of FIRST_RUN) expect((await first.sink.write(batchesAt(t))).status.code).toBe('OK');
  await first.clock.advance(STOP_S * SECOND);
  await first.sink.close();
  const second = await startSink(path, { ...options, now: T0 + RESTART_S * SECOND });
  for (const t of SECOND_RUN) expect((await second.sink.write(batchesAt(t))).status.code).toBe('OK');
  await second.clock.advance((60 - RESTART_S) * SECOND);
  return second;
}

/** One sample as the model sees it: its instant, recording, and rows by entity key. */
interface Sample {
  readonly ts: number;
  readonly run: number;
  readonly rows: ReadonlyMap<string, Row>;
}

/** The default staleness window, as the store's. */
export const STALENESS_MS = 300 * SECOND;

/** Every sample of `table`, in time order. */
function samplesOf(table: TableSchema): Sample[] {
  return [FIRST_RUN, SECOND_RUN].flatMap((times, run) =>
    times.map((t) => {
      const batch = batchesAt(t).find((candidate) => candidate.table === table.name)!;
      return { ts: batch.ts, run, rows: new Map(batch.rows.map((row) => [keyOf(table, row), row])) };
    }),
  );
}

function keyOf(table: TableSchema, row: Row): string {
  return JSON.stringify(table.key.map((key) => row[key]));
}

/** The recording an instant lies in: a sample counts at T only if it is of that recording (no stop between). */
function runAt(ms: number): number | undefined {
  if (ms < T0 + STOP_S * SECOND) return 0;
  if (ms >= T0 + RESTART_S * SECOND) return 1;
  return undefined;
}

/** The host's last sample at or before `at` (within the staleness, not across the stop). */
function lastAt(samples: readonly Sample[], at: number): Sample | undefined {
  return samples.filter((sample) => sample.ts <= at && sample.ts > at - STALENESS_MS && sample.run === runAt(at)).at(-1);
}

/** The sample before `sample`, as samples() 'previous' takes it. */
function previousOf(samples: readonly Sample[], sample: Sample): Sample | undefined {
  return samples.filter((other) => other.ts < sample.ts && other.ts > sample.ts - STALENESS_MS && other.run === sample.run).at(-1);
}

/** (current − previous) per second over `ms`, or null when either is null or the counter went down. */
function rateOf(current: unknown, previous: unknown, ms: number): number | null {
  if (typeof current !== 'number' || typeof previous !== 'number' || current < previous || ms <= 0) return null;
  return (current - previous) / (ms / 1000);
}

/** A rates row as the `<table>_rates` view should give it, for `row` at `sample` with `previous`. */
function ratesRow(table: TableSchema, sample: Sample, previous: Sample | undefined, row: Row): Record<string, Cell> {
  const before = previous?.rows.get(keyOf(table, row));
  const out: Record<string, Cell> = { host: 'host-a', ts: iso(sample.ts), interval_s: previous === undefined ? null : (sample.ts - previous.ts) / 1000 };
  for (const column of table.columns) {
    const value = row[column.name] as Cell;
    out[column.name] = column.counter === true ? rateOf(value, before?.[column.name], sample.ts - (previous?.ts ?? sample.ts)) : value;
  }
  return out;
}

/** What `SELECT * FROM <table>_rates` answers at `at`, computed from the batches, ordered by key. */
export function expectedRatesAt(tableName: string, at: number): Record<string, Cell>[] {
  const table = METRIC.get(tableName)!;
  const samples = samplesOf(table);
  const sample = lastAt(samples, at);
  if (sample === undefined) return [];
  const previous = previousOf(samples, sample);
  return [...sample.rows.values()].map((row) => ratesRow(table, sample, previous, row));
}

/** The instant rates of every sample in [from, to]: what the range view's rows must each equal. */
export function expectedRatesEverySample(tableName: string, from: number, to: number): Record<string, Cell>[] {
  const table = METRIC.get(tableName)!;
  const samples = samplesOf(table);
  return samples
    .filter((sample) => sample.ts >= from && sample.ts <= to)
    .flatMap((sample) => [...sample.rows.values()].map((row) => ratesRow(table, sample, previousOf(samples, sample), row)));
}

/** Bucket start of `ms` for a step. */
function bucketOf(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/**
 * What a `stepMs` query of `table` over [from, to] answers, computed from every row of every
 * sample: per entity and bucket, samples, min/avg/max/last of the gauges, last and rate of the counters.
 */
export function expectedSteps(tableName: string, from: number, to: number, stepMs: number): Record<string, Cell>[] {
  const table = METRIC.get(tableName)!;
  const samples = samplesOf(table);
  const inRange = samples.filter((sample) => sample.ts >= from && sample.ts <= to);
  const buckets = new Map<number, Sample[]>();
  for (const sample of inRange) buckets.set(bucketOf(sample.ts, stepMs), [...(buckets.get(bucketOf(sample.ts, stepMs)) ?? []), sample]);
  const out: Record<string, Cell>[] = [];
  for (const [start, held] of buckets) {
    const first = held[0]!;
    const previous = previousOf(samples, first);
    const window = previous === undefined ? held : [previous, ...held];
    const entities = new Set(held.flatMap((sample) => [...sample.rows.keys()]));
    for (const entity of entities) {
      const present = held.filter((sample) => sample.rows.has(entity));
      const rows = present.map((sample) => sample.rows.get(entity)!);
      const last = present.at(-1)!;
      const lastRow = last.rows.get(entity)!;
      const row: Record<string, Cell> = { host: 'host-a', ts: iso(start), samples: present.length };
      for (const key of table.key) row[key] = lastRow[key] as Cell;
      // The rate starts at the entity's earliest sample of the window in the last sample's recording.
      const base = window.find((sample) => sample.run === last.run && sample.rows.has(entity))!;
      for (const column of table.columns) {
        if (table.key.includes(column.name)) continue;
        const values = rows.map((r) => r[column.name]);
        row[column.name] = lastRow[column.name] as Cell;
        if (column.counter === true) {
          row[`${column.name}_rate`] = rateOf(lastRow[column.name], base.rows.get(entity)![column.name], last.ts - base.ts);
        } else if (column.type === 'int32' || column.type === 'int64' || column.type === 'float64') {
          const numbers = values.filter((value): value is number => typeof value === 'number');
          row[`${column.name}_min`] = numbers.length === 0 ? null : Math.min(...numbers);
          row[`${column.name}_max`] = numbers.length === 0 ? null : Math.max(...numbers);
          row[`${column.name}_avg`] = numbers.length === 0 ? null : numbers.reduce((sum, value) => sum + value, 0) / numbers.length;
        }
      }
      out.push(row);
    }
  }
  return out.sort(compareRows(table));
}

/** Order by host, key columns, then ts. */
export function compareRows(table: TableSchema): (a: Record<string, Cell>, b: Record<string, Cell>) => number {
  const fields = [...table.key, 'ts'];
  return (a, b) => {
    for (const field of fields) {
      const [x, y] = [a[field], b[field]];
      if (x === y) continue;
      return String(typeof x === 'number' ? String(x).padStart(12, '0') : x) < String(typeof y === 'number' ? String(y).padStart(12, '0') : y) ? -1 : 1;
    }
    return 0;
  };
}

/** The same rows with numbers rounded to 12 significant digits, so float sums compare across orders of addition. */
export function rounded(rows: readonly Record<string, Cell>[]): Record<string, Cell>[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, typeof value === 'number' ? Number(value.toPrecision(12)) : value])));
}

/** The workload recorded twice, by change and with every row (`keyframeMs: 0`), before the file's tests; both closed after them. */
export function useRecordedWorkload(newPath: () => string): { readonly changeOnly: Started; readonly everyRow: Started } {
  const stores: { changeOnly?: Started; everyRow?: Started } = {};
  beforeAll(async () => {
    stores.changeOnly = await recordWorkload(newPath());
    stores.everyRow = await recordWorkload(newPath(), { keyframeMs: 0 });
  });
  afterAll(async () => {
    await stores.changeOnly?.sink.close();
    await stores.everyRow?.sink.close();
  });
  const started = (store: Started | undefined): Started => store ?? expect.fail('the workload is recorded before the tests');
  return {
    get changeOnly() {
      return started(stores.changeOnly);
    },
    get everyRow() {
      return started(stores.everyRow);
    },
  };
}
