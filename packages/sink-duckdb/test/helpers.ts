/**
 * Shared test helpers: temporary store files, a realistic pair of tables (process identity
 * as state, process counters as metrics, exits as events), and a sink started on a fake clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { Cell, Clock, PluginDeps, QueryRequest, QueryResult, Sink, StoreReader, TableSchema } from '@virtualeyes/core';
import { createFakeClock, createTestDeps, type FakeClock } from '@virtualeyes/core/testing';
import { createSink, manifest, parseConfig } from '../src/index.js';

/** 2026-01-01T00:00:00Z, the fake clock's start. */
export const T0 = Date.UTC(2026, 0, 1);

/** Milliseconds in a second, for readable instants. */
export const SECOND = 1000;

/** A state table keyed like processes are: (pid, start_time). */
export const PROCESSES: TableSchema = {
  name: 'processes',
  kind: 'state',
  description: 'A process and its identity.',
  key: ['pid', 'start_time'],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'start_time', type: 'int64', unit: 'ticks', description: 'Start time since boot.' },
    { name: 'comm', type: 'text', description: 'Command name.' },
    { name: 'args', type: 'text[]', description: 'Command line.', nullable: true },
  ],
};

/** A metric table sampled per process. */
export const PROCESS_STATS: TableSchema = {
  name: 'process_stats',
  kind: 'metric',
  description: 'Per-process counters.',
  key: ['pid'],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'rss', type: 'int64', unit: 'bytes', description: 'Resident memory.' },
    { name: 'cpu', type: 'float64', unit: 'percent', description: 'CPU use.' },
  ],
};

/** An event table. */
export const EXITS: TableSchema = {
  name: 'exits',
  kind: 'event',
  description: 'A process exit.',
  key: [],
  columns: [
    { name: 'pid', type: 'int32', description: 'Process id.' },
    { name: 'code', type: 'int32', description: 'Exit code.' },
  ],
};

/** A single-entity state table (empty key). */
export const OS: TableSchema = {
  name: 'os',
  kind: 'state',
  description: 'The operating system.',
  key: [],
  columns: [
    { name: 'kernel', type: 'text', description: 'Kernel release.' },
    { name: 'booted', type: 'timestamp', description: 'Boot time.' },
  ],
};

/** Every test table. */
export const TABLES: readonly TableSchema[] = [PROCESSES, PROCESS_STATS, EXITS, OS];

/** A directory removed after the file's tests. */
export function useTempDir(prefix = 'sink-duckdb-'): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let count = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return () => {
    count += 1;
    return join(root, `store-${count}`, 'vwatchd.db');
  };
}

/** A started sink with its clock and deps. */
export interface Started {
  readonly sink: Sink;
  readonly clock: FakeClock;
  readonly deps: PluginDeps;
  readonly reader: StoreReader;
}

/** Creates and starts a sink on `path` with a fake clock at `now`, named as the loader names it (the manifest's name) unless `name` says otherwise. */
export async function startSink(
  path: string,
  options: { tables?: readonly TableSchema[]; host?: string; now?: number; clock?: Clock; config?: Record<string, unknown>; name?: string } = {},
): Promise<Started> {
  const clock = createFakeClock(options.now ?? T0);
  const deps = createTestDeps({ name: options.name ?? manifest.name, clock: options.clock ?? clock, host: options.host ?? 'host-a', dataDir: '/nonexistent' });
  const config = parseConfig({ path, ...options.config });
  expect(config.ok).toBe(true);
  const created = createSink(config.ok ? config.value : ({} as never), deps);
  if (!created.ok) expect.fail(created.status.message);
  const sink = created.value;
  expect(sink.init().code).toBe('OK');
  const started = await sink.start({ tables: options.tables ?? TABLES });
  expect(started.code, started.message).toBe('OK');
  const reader = sink.reader();
  if (reader === undefined) expect.fail('a started sink has a reader');
  return { sink, clock, deps, reader };
}

/** Runs a query that must succeed. */
export async function query(reader: StoreReader, request: QueryRequest): Promise<QueryResult> {
  const result = await reader.query(request);
  if (!result.ok) expect.fail(`${request.sql}: ${result.status.code} ${result.status.message}`);
  return result.value;
}

/** Rows of a query that must succeed, as objects keyed by column name. */
export async function rowsOf(reader: StoreReader, request: QueryRequest): Promise<Record<string, Cell>[]> {
  const result = await query(reader, request);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
}

/** The single number a `SELECT count(*) …` returns. */
export async function count(reader: StoreReader, sql: string, window: Omit<QueryRequest, 'sql'> = {}): Promise<number> {
  const result = await query(reader, { sql, ...window });
  return Number(result.rows[0]?.[0]);
}

/** ISO text of an instant, as the store returns times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A clock the test sets; timers are real (only query time limits use them). */
export function manualClock(start: number): { readonly clock: Clock; set(ms: number): void } {
  let now = start;
  return {
    clock: {
      now: () => now,
      monotonic: () => performance.now(),
      setTimer: (fn, ms) => {
        const timer = setTimeout(fn, ms);
        return { cancel: () => clearTimeout(timer) };
      },
    },
    set: (ms) => {
      now = ms;
    },
  };
}
