// `ps` against a real DuckDB store holding probe-procfs's real tables: CPU% from two
// consecutive samples, the lifetime average for a process with one sample, the identity
// valid at the sample, sorting, limits, and an instant before any sample.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDeps } from '@virtualeyes/core/testing';
import type { Row, Sink, StoreReader } from '@virtualeyes/core';
import { TABLES } from '@virtualeyes/probe-procfs';
import { createSink } from '@virtualeyes/sink-duckdb';
import { psSql, renderPs, rowObjects } from '../src/index.js';

const T0 = Date.parse('2026-11-22T05:00:00Z');
const WINDOW = 5 * 60_000;

const identity = (pid: number, start: number, cmdline: string): Row => ({
  pid, start_time: start, ppid: 1, pgid: pid, sid: pid, uid: 0, gid: 0, user: 'root', comm: cmdline.split(' ')[0]!,
  cmdline, exe: '/bin/x', state: 'S', nice: 0, tty_nr: 0, kernel_thread: false,
});
const sample = (pid: number, start: number, utime: number, stime: number, rss: number): Row => ({
  pid, start_time: start, utime, stime, rss, vsize: rss * 4, threads: 1, minflt: 0, majflt: 0,
  read_bytes: null, write_bytes: null, read_chars: null, write_chars: null, voluntary_ctxt_switches: 0, nonvoluntary_ctxt_switches: 0,
});

describe('ps', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-ps-'));
  let sink: Sink;
  let reader: StoreReader;
  const startA = T0 - 10_000;
  const startC = T0 + 4000;

  beforeAll(async () => {
    const created = createSink({ path: join(dir, 'vwatchd.db') }, createTestDeps());
    if (!created.ok) throw new Error(created.status.message);
    sink = created.value;
    expect((await sink.start({ tables: TABLES })).code).toBe('OK');
    const written = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [identity(100, startA, 'busy --work'), identity(200, startA, 'idle')] },
      { table: 'process_stats', ts: T0, snapshot: true, rows: [sample(100, startA, 1000, 0, 1 << 20), sample(200, startA, 0, 0, 2 << 20)] },
      {
        table: 'processes',
        ts: T0 + 5000,
        snapshot: true,
        rows: [identity(100, startA, 'busy --work'), identity(200, startA, 'idle'), identity(300, startC, 'newcomer')],
      },
      {
        table: 'process_stats',
        ts: T0 + 5000,
        snapshot: true,
        rows: [sample(100, startA, 3000, 500, 1 << 20), sample(200, startA, 100, 0, 2 << 20), sample(300, startC, 100, 0, 3 << 20)],
      },
    ]);
    expect(written.status.code).toBe('OK');
    reader = sink.reader!()!;
  });

  afterAll(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ps = async (at: number, sort: 'cpu' | 'rss' | 'pid' | 'start' = 'cpu', limit?: number) => {
    const result = await reader.query({ sql: psSql(WINDOW, sort, limit), at, stalenessMs: WINDOW });
    if (!result.ok) throw new Error(result.status.message);
    return result.value;
  };

  it('derives CPU% from the last two samples, or the lifetime average for a new process', async () => {
    const rows = rowObjects(await ps(T0 + 6000));
    expect(rows.map((row) => [row['pid'], row['cpu_pct']])).toEqual([
      [100, 50], // (3000 + 500 - 1000) ms of CPU over 5000 ms
      [300, 10], // one sample: 100 ms of CPU in the 1000 ms since it started
      [200, 2],
    ]);
    expect(rows[0]).toMatchObject({ user: 'root', cmdline: 'busy --work', rss: 1 << 20, sampled_at: '2026-11-22T05:00:05.000Z' });
  });

  it('answers as of an instant between samples with the earlier one', async () => {
    const rows = rowObjects(await ps(T0 + 2000));
    expect(rows.map((row) => [row['pid'], row['cpu_pct']])).toEqual([
      [100, 10], // lifetime: 1000 ms of CPU in 10 s
      [200, 0],
    ]);
  });

  it('sorts and limits', async () => {
    expect(rowObjects(await ps(T0 + 6000, 'rss')).map((row) => row['pid'])).toEqual([300, 200, 100]);
    expect(rowObjects(await ps(T0 + 6000, 'start', 1)).map((row) => row['pid'])).toEqual([300]);
  });

  it('finds nothing before the first sample or after the staleness window', async () => {
    expect((await ps(T0 - 1)).rows).toEqual([]);
    expect((await ps(T0 + 5000 + WINDOW + 1)).rows).toEqual([]);
  });

  it('renders a table with human sizes and bracketed kernel-thread names', async () => {
    const lines = renderPs(await ps(T0 + 6000)).split('\n');
    expect(lines[0]).toMatch(/^\s*PID\s+USER\s+%CPU\s+RSS\s+VSZ\s+THR\s+S\s+STARTED\s+COMMAND$/);
    expect(lines[1]).toMatch(/^\s*100\s+root\s+50\.0\s+1\.0 MiB\s+4\.0 MiB\s+1\s+S\s+\S+\s+busy --work$/);
  });
});
