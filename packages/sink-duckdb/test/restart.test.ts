// Sessions across restarts and crashes, and tables whose schema changes between probe
// versions. The crash runs in a child process that dies by SIGKILL after writing.
import { describe, beforeAll, expect, it } from 'vitest';
import type { TableSchema } from '@virtualeyes/core';
import type { MemoryLogger } from '@virtualeyes/core/testing';
import { createReader } from '../src/index.js';
import { count, iso, PROCESS_STATS, PROCESSES, rowsOf, SECOND, startSink, T0, TABLES, useTempDir } from './helpers.js';
import { buildSink, runFixture } from './child-processes.js';

const newPath = useTempDir();
const init = { pid: 1, start_time: 10, comm: 'init', args: ['/sbin/init'] };
const shell = { pid: 2, start_time: 20, comm: 'sh', args: null };

describe('restart', () => {
  it('keeps what was written, closes open versions at close time, and shows nothing for the downtime', async () => {
    const path = newPath();
    const first = await startSink(path);
    await first.sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init, shell] }]);
    await first.clock.advance(10 * SECOND);
    await first.sink.write([
      { table: 'processes', ts: T0 + 10 * SECOND, snapshot: true, rows: [init, shell] },
      { table: 'process_stats', ts: T0 + 10 * SECOND, snapshot: true, rows: [{ pid: 1, rss: 5, cpu: 1 }] },
    ]);
    await first.clock.advance(10 * SECOND);
    expect((await first.sink.close()).code).toBe('OK');

    const second = await startSink(path, { now: T0 + 60 * SECOND });
    const reader = second.reader;
    expect(await rowsOf(reader, { sql: 'SELECT pid, valid_from, valid_to FROM processes ORDER BY pid' })).toEqual([
      { pid: 1, valid_from: iso(T0), valid_to: iso(T0 + 20 * SECOND) },
      { pid: 2, valid_from: iso(T0), valid_to: iso(T0 + 20 * SECOND) },
    ]);
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: T0 + 40 * SECOND })).toBe(0);
    // Metric samples stop at the clean stop too, though the staleness window would reach back.
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: T0 + 15 * SECOND })).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: T0 + 40 * SECOND, stalenessMs: 300 * SECOND })).toBe(0);
    await second.sink.write([{ table: 'processes', ts: T0 + 60 * SECOND, snapshot: true, rows: [init] }]);
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: T0 + 15 * SECOND })).toBe(2);
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: T0 + 40 * SECOND })).toBe(0);
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: T0 + 61 * SECOND })).toBe(1);
    await second.sink.write([{ table: 'process_stats', ts: T0 + 60 * SECOND, snapshot: true, rows: [{ pid: 1, rss: 6, cpu: 1 }] }]);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: T0 + 61 * SECOND })).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: T0 + 59 * SECOND })).toBe(0);
    expect(
      await rowsOf(reader, { sql: 'SELECT id, host, started_at, stopped_at, stop_reason FROM vw_meta.sessions ORDER BY id' }),
    ).toEqual([
      { id: 1, host: 'host-a', started_at: iso(T0), stopped_at: iso(T0 + 20 * SECOND), stop_reason: 'close' },
      { id: 2, host: 'host-a', started_at: iso(T0 + 60 * SECOND), stopped_at: null, stop_reason: null },
    ]);
    await second.sink.close();
  });
});

describe('crash', () => {
  beforeAll(buildSink, 120_000);

  it('closes versions a killed writer left open at its last write when the next session starts', async () => {
    const path = newPath();
    const spec = {
      host: 'host-a',
      now: T0 + 5 * SECOND,
      tables: TABLES,
      writes: [
        [{ table: 'processes', ts: T0, snapshot: true, rows: [init, shell] }],
        [{ table: 'processes', ts: T0 + 3 * SECOND, snapshot: true, rows: [init, { ...shell, comm: 'bash' }] }],
      ],
    };
    const child = await runFixture('write-and-die.mjs', [path, JSON.stringify(spec)]);
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('written\n');
    expect(child.signal).toBe('SIGKILL');

    // Before any restart, the offline reader sees the crashed session's versions still open.
    const offline = await createReader({ path }, { clock: startedClock(), logger: silent(), dataDir: '/nonexistent' });
    expect(offline.ok).toBe(true);
    if (offline.ok) {
      expect(await count(offline.value, 'SELECT count(*) FROM processes WHERE valid_to IS NULL')).toBe(2);
      await offline.value.close();
    }

    const next = await startSink(path, { now: T0 + 60 * SECOND });
    expect(await rowsOf(next.reader, { sql: 'SELECT pid, comm, valid_from, valid_to FROM processes ORDER BY pid, valid_from' })).toEqual([
      { pid: 1, comm: 'init', valid_from: iso(T0), valid_to: iso(T0 + 5 * SECOND) },
      { pid: 2, comm: 'sh', valid_from: iso(T0), valid_to: iso(T0 + 3 * SECOND) },
      { pid: 2, comm: 'bash', valid_from: iso(T0 + 3 * SECOND), valid_to: iso(T0 + 5 * SECOND) },
    ]);
    expect(await count(next.reader, 'SELECT count(*) FROM processes', { at: T0 + 30 * SECOND })).toBe(0);
    expect(await rowsOf(next.reader, { sql: 'SELECT id, last_write_at, stopped_at, stop_reason FROM vw_meta.sessions ORDER BY id' })).toEqual([
      { id: 1, last_write_at: iso(T0 + 5 * SECOND), stopped_at: iso(T0 + 5 * SECOND), stop_reason: 'crash' },
      { id: 2, last_write_at: null, stopped_at: null, stop_reason: null },
    ]);
    const opened = (next.deps.logger as MemoryLogger).records.find((record) => record.message === 'Store opened');
    expect(opened?.fields).toMatchObject({ recoveredVersions: 2, session: 2 });
    await next.sink.close();
  });
});

describe('schema evolution', () => {
  const v2: TableSchema = {
    ...PROCESS_STATS,
    columns: [
      ...PROCESS_STATS.columns.map((column) => (column.name === 'pid' ? { ...column, type: 'int64' as const } : column)),
      { name: 'threads', type: 'int32', unit: 'count', description: 'Threads.', nullable: true },
    ],
  };

  it('adds new columns with ALTER (old rows NULL), widens types and keeps dropped columns', async () => {
    const path = newPath();
    const first = await startSink(path, { tables: [PROCESS_STATS] });
    await first.sink.write([{ table: 'process_stats', ts: T0, snapshot: true, rows: [{ pid: 1, rss: 100, cpu: 1 }] }]);
    await first.sink.close();

    const second = await startSink(path, { tables: [v2], now: T0 + 10 * SECOND });
    const written = await second.sink.write([{ table: 'process_stats', ts: T0 + 10 * SECOND, snapshot: true, rows: [{ pid: 2n ** 40n, rss: 200, cpu: 2, threads: 4 }] }]);
    expect(written.status.code, written.status.message).toBe('OK');
    const result = await rowsOf(second.reader, { sql: 'SELECT pid, rss, threads FROM process_stats ORDER BY ts' });
    expect(result).toEqual([
      { pid: 1, rss: 100, threads: null },
      { pid: 2 ** 40, rss: 200, threads: 4 },
    ]);
    const tables = await second.reader.tables();
    const columns = tables.ok ? tables.value.find((table) => table.name === 'process_stats')?.columns : undefined;
    expect(columns?.map((column) => `${column.name}:${column.type}`)).toEqual(['host:text', 'ts:timestamp', 'pid:int64', 'rss:int64', 'cpu:float64', 'threads:int32']);
    await second.sink.close();

    // A later version drops `cpu`: the column stays (NULL for new rows) and stays listed.
    const v3: TableSchema = { ...v2, columns: v2.columns.filter((column) => column.name !== 'cpu') };
    const third = await startSink(path, { tables: [v3], now: T0 + 20 * SECOND });
    await third.sink.write([{ table: 'process_stats', ts: T0 + 20 * SECOND, snapshot: true, rows: [{ pid: 3, rss: 300, threads: 1 }] }]);
    expect(await rowsOf(third.reader, { sql: 'SELECT pid, cpu FROM process_stats ORDER BY ts' })).toEqual([
      { pid: 1, cpu: 1 },
      { pid: 2 ** 40, cpu: 2 },
      { pid: 3, cpu: null },
    ]);
    const listed = await third.reader.tables();
    expect(listed.ok && listed.value[0]?.columns.map((column) => column.name)).toEqual(['host', 'ts', 'pid', 'rss', 'threads', 'cpu']);
    await third.sink.close();
  });

  it('refuses only the table whose kind changed, and keeps writing the others', async () => {
    const path = newPath();
    const first = await startSink(path, { tables: [PROCESS_STATS, PROCESSES] });
    await first.sink.close();
    const asState: TableSchema = { ...PROCESS_STATS, kind: 'state' };
    const second = await startSink(path, { tables: [asState, PROCESSES] });
    const result = await second.sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init] },
      { table: 'process_stats', ts: T0, snapshot: true, rows: [{ pid: 1, rss: 1, cpu: 1 }] },
    ]);
    expect(result.status.code).toBe('INVALID_ARGUMENT');
    expect(result.status.message).toContain("table 'process_stats' is stored as metric but now declared as state");
    expect(result.rejected).toEqual([1]);
    expect(await count(second.reader, 'SELECT count(*) FROM processes')).toBe(1);
    await second.sink.close();
  });
});

function startedClock() {
  return { now: () => T0, monotonic: () => 0, setTimer: () => ({ cancel: () => undefined }) };
}

function silent() {
  const noop = (): void => undefined;
  const logger = { name: 'test', debug: noop, info: noop, warn: noop, error: noop, status: noop, child: () => logger };
  return logger;
}
