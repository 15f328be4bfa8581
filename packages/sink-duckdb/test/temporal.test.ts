// Temporal semantics on real store files: state versions that appear, change and disappear,
// idle entities that write nothing, and what `at` and range queries see for each table kind.
import { describe, expect, it } from 'vitest';
import { count, EXITS, iso, OS, PROCESS_STATS, PROCESSES, query, rowsOf, SECOND, startSink, T0, useTempDir } from './helpers.js';

const newPath = useTempDir();

const init = { pid: 1, start_time: 10, comm: 'init', args: ['/sbin/init'] };
const shell = { pid: 2, start_time: 20, comm: 'sh', args: ['sh', '-c', 'x'] };
const editor = { pid: 3, start_time: 30, comm: 'vi', args: null };

describe('state versions', () => {
  it('opens a version when an entity appears, closes and reopens on change, closes on disappearance', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init, shell] }]);
    await sink.write([{ table: 'processes', ts: T0 + 5 * SECOND, snapshot: true, rows: [init, { ...shell, comm: 'bash' }, editor] }]);
    await sink.write([{ table: 'processes', ts: T0 + 10 * SECOND, snapshot: true, rows: [init, { ...shell, comm: 'bash' }] }]);

    const rows = await rowsOf(reader, { sql: 'SELECT pid, comm, valid_from, valid_to FROM processes ORDER BY pid, valid_from' });
    expect(rows).toEqual([
      { pid: 1, comm: 'init', valid_from: iso(T0), valid_to: null },
      { pid: 2, comm: 'sh', valid_from: iso(T0), valid_to: iso(T0 + 5 * SECOND) },
      { pid: 2, comm: 'bash', valid_from: iso(T0 + 5 * SECOND), valid_to: null },
      { pid: 3, comm: 'vi', valid_from: iso(T0 + 5 * SECOND), valid_to: iso(T0 + 10 * SECOND) },
    ]);
    await sink.close();
  });

  it("keeps the exact lifetimes a probe gives: versions from each row's time, closed at each end, one that came and went between two snapshots, in one write or across writes", async () => {
    const { sink, reader } = await startSink(newPath());
    const brief = { pid: 4, start_time: 40, comm: 'true', args: ['/bin/true'] };
    const first = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init] },
      // A scan a second later sees the shell and the editor, which started between the scans.
      { table: 'processes', ts: T0 + SECOND, snapshot: true, rows: [init, shell, editor], times: [T0 + SECOND, T0 + 250.125, T0 + 600] },
    ]);
    expect(first.status.code).toBe('OK');
    // Before the next scan: the shell ended (its last values stand), and a process came and went.
    const written = await sink.write([
      { table: 'processes', ts: T0 + 1900, snapshot: false, rows: [{ ...shell, comm: 'ignored' }, brief], times: [T0 + 1000, T0 + 1200], ends: [T0 + 1500.5, T0 + 1300] },
      { table: 'processes', ts: T0 + 2 * SECOND, snapshot: true, rows: [init, editor] },
    ]);
    expect(written.status.code).toBe('OK');
    const rows = await rowsOf(reader, { sql: 'SELECT pid, comm, epoch_us(valid_from) AS from_us, epoch_us(valid_to) AS to_us FROM processes ORDER BY pid, valid_from' });
    expect(rows).toEqual([
      { pid: 1, comm: 'init', from_us: T0 * 1000, to_us: null },
      { pid: 2, comm: 'sh', from_us: (T0 + 250.125) * 1000, to_us: (T0 + 1500.5) * 1000 },
      { pid: 3, comm: 'vi', from_us: (T0 + 600) * 1000, to_us: null },
      { pid: 4, comm: 'true', from_us: (T0 + 1200) * 1000, to_us: (T0 + 1300) * 1000 },
    ]);
    // As of an instant inside the brief process's life, and one just after the shell ended.
    const at = async (ms: number) => (await rowsOf(reader, { sql: 'SELECT pid FROM processes ORDER BY pid', at: ms })).map((row) => row.pid);
    expect(await at(T0 + 1250)).toEqual([1, 2, 3, 4]);
    expect(await at(T0 + 1600)).toEqual([1, 3]);
    await sink.close();
  });

  it('writes nothing for an entity that did not change', async () => {
    const { sink, reader } = await startSink(newPath());
    for (let step = 0; step < 20; step += 1) {
      const result = await sink.write([{ table: 'processes', ts: T0 + step * SECOND, snapshot: true, rows: [init, shell] }]);
      expect(result.status.code).toBe('OK');
    }
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(2);
    expect(sink.stats().rowsWritten).toBe(40);
    // 5 and 5n are the same value: still no new version.
    await sink.write([{ table: 'processes', ts: T0 + 30 * SECOND, snapshot: true, rows: [{ ...init, start_time: 10n }, shell] }]);
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(2);
    await sink.close();
  });

  it('does not close missing keys when the batch is not a snapshot', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init, shell] }]);
    await sink.write([{ table: 'processes', ts: T0 + SECOND, snapshot: false, rows: [{ ...init, comm: 'systemd' }] }]);
    const open = await rowsOf(reader, { sql: 'SELECT pid, comm FROM processes WHERE valid_to IS NULL ORDER BY pid' });
    expect(open).toEqual([
      { pid: 1, comm: 'systemd' },
      { pid: 2, comm: 'sh' },
    ]);
    await sink.close();
  });

  it('keeps one entity per host in a table with an empty key', async () => {
    const { sink, reader } = await startSink(newPath());
    const booted = T0 - 3600 * SECOND;
    await sink.write([{ table: 'os', ts: T0, snapshot: true, rows: [{ kernel: '6.1.0', booted }] }]);
    await sink.write([{ table: 'os', ts: T0 + SECOND, snapshot: true, rows: [{ kernel: '6.1.0', booted }] }]);
    await sink.write([{ table: 'os', ts: T0 + 2 * SECOND, snapshot: true, rows: [{ kernel: '6.2.0', booted }] }]);
    const rows = await rowsOf(reader, { sql: 'SELECT kernel, booted, valid_from, valid_to FROM os ORDER BY valid_from' });
    expect(rows).toEqual([
      { kernel: '6.1.0', booted: iso(booted), valid_from: iso(T0), valid_to: iso(T0 + 2 * SECOND) },
      { kernel: '6.2.0', booted: iso(booted), valid_from: iso(T0 + 2 * SECOND), valid_to: null },
    ]);
    const at = await rowsOf(reader, { sql: 'SELECT kernel FROM os', at: T0 + 1500 });
    expect(at).toEqual([{ kernel: '6.1.0' }]);
    await sink.close();
  });

  it('keeps the last row when a batch repeats a key', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init, { ...init, comm: 'later' }] }]);
    expect(await rowsOf(reader, { sql: 'SELECT comm FROM processes' })).toEqual([{ comm: 'later' }]);
    await sink.close();
  });

  it('answers `at` before, between and after changes', async () => {
    const { sink, reader, clock } = await startSink(newPath());
    await sink.write([{ table: 'processes', ts: T0 + 10 * SECOND, snapshot: true, rows: [init] }]);
    await sink.write([{ table: 'processes', ts: T0 + 20 * SECOND, snapshot: true, rows: [{ ...init, comm: 'systemd' }, shell] }]);
    await sink.write([{ table: 'processes', ts: T0 + 30 * SECOND, snapshot: true, rows: [{ ...init, comm: 'systemd' }] }]);
    // An instant after both the clock and the last write is refused as the future.
    await clock.advance(3600 * SECOND);
    const at = (ms: number): Promise<Record<string, unknown>[]> => rowsOf(reader, { sql: 'SELECT pid, comm FROM processes ORDER BY pid', at: ms });

    expect(await at(T0 + 5 * SECOND)).toEqual([]);
    expect(await at(T0 + 10 * SECOND)).toEqual([{ pid: 1, comm: 'init' }]);
    expect(await at(T0 + 15 * SECOND)).toEqual([{ pid: 1, comm: 'init' }]);
    // valid_to is exclusive: at the change, the new version answers.
    expect(await at(T0 + 20 * SECOND)).toEqual([
      { pid: 1, comm: 'systemd' },
      { pid: 2, comm: 'sh' },
    ]);
    expect(await at(T0 + 25 * SECOND)).toEqual([
      { pid: 1, comm: 'systemd' },
      { pid: 2, comm: 'sh' },
    ]);
    expect(await at(T0 + 30 * SECOND)).toEqual([{ pid: 1, comm: 'systemd' }]);
    expect(await at(T0 + 3600 * SECOND)).toEqual([{ pid: 1, comm: 'systemd' }]);
    await sink.close();
  });
});

describe('metric samples', () => {
  const sample = (pid: number, rss: number) => ({ pid, rss, cpu: pid / 10 });

  it('answers `at` with the last batch at or before the instant, within the staleness window', async () => {
    const { sink, reader, clock } = await startSink(newPath());
    await sink.write([{ table: 'process_stats', ts: T0, snapshot: true, rows: [sample(1, 100), sample(2, 200)] }]);
    await sink.write([{ table: 'process_stats', ts: T0 + 5 * SECOND, snapshot: true, rows: [sample(1, 110)] }]);
    await clock.advance(600 * SECOND);
    const at = (ms: number, stalenessMs?: number) =>
      rowsOf(reader, { sql: 'SELECT pid, rss, ts FROM process_stats ORDER BY pid', at: ms, ...(stalenessMs === undefined ? {} : { stalenessMs }) });

    expect(await at(T0 - 1)).toEqual([]);
    expect(await at(T0)).toEqual([
      { pid: 1, rss: 100, ts: iso(T0) },
      { pid: 2, rss: 200, ts: iso(T0) },
    ]);
    expect(await at(T0 + 4999)).toHaveLength(2);
    // The last batch only: pid 2 is not in it, so it is not in the answer.
    expect(await at(T0 + 5 * SECOND)).toEqual([{ pid: 1, rss: 110, ts: iso(T0 + 5 * SECOND) }]);
    expect(await at(T0 + 60 * SECOND, 60 * SECOND)).toEqual([{ pid: 1, rss: 110, ts: iso(T0 + 5 * SECOND) }]);
    // Older than the staleness window: nothing.
    expect(await at(T0 + 65 * SECOND, 60 * SECOND)).toEqual([]);
    expect(await at(T0 + 5 * SECOND + 300 * SECOND)).toEqual([]);
    expect(await at(T0 + 5 * SECOND + 299 * SECOND)).toHaveLength(1);
    // Zero staleness: only a batch exactly at the instant.
    expect(await at(T0 + 5 * SECOND, 0)).toHaveLength(1);
    expect(await at(T0 + 5 * SECOND + 1, 0)).toEqual([]);
    await sink.close();
  });

  it('picks the last batch per host', async () => {
    const path = newPath();
    const a = await startSink(path, { host: 'host-a' });
    await a.sink.write([{ table: 'process_stats', ts: T0, snapshot: true, rows: [sample(1, 100)] }]);
    await a.sink.write([{ table: 'process_stats', ts: T0 + 10 * SECOND, snapshot: true, rows: [sample(1, 101)] }]);
    await a.clock.advance(20 * SECOND);
    await a.sink.close();
    const b = await startSink(path, { host: 'host-b', now: T0 + 30 * SECOND });
    await b.sink.write([{ table: 'process_stats', ts: T0 + 5 * SECOND, snapshot: true, rows: [sample(7, 700), sample(8, 800)] }]);
    const rows = await rowsOf(b.reader, { sql: 'SELECT host, pid, rss FROM process_stats ORDER BY host, pid', at: T0 + 12 * SECOND });
    expect(rows).toEqual([
      { host: 'host-a', pid: 1, rss: 101 },
      { host: 'host-b', pid: 7, rss: 700 },
      { host: 'host-b', pid: 8, rss: 800 },
    ]);
    const info = await b.reader.info();
    expect(info.ok && info.value.hosts).toEqual(['host-a', 'host-b']);
    // One recording per run: host-a's stopped when it closed, host-b's still runs.
    expect(info.ok && info.value.recordings).toEqual([
      { host: 'host-a', from: T0, to: T0 + 20 * SECOND, lastWrite: T0 + 20 * SECOND },
      { host: 'host-b', from: T0 + 30 * SECOND, to: null, lastWrite: T0 + 30 * SECOND },
    ]);
    await b.sink.close();
  });
});

describe('events and ranges', () => {
  it('answers `at` with the events inside the staleness window', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.write([{ table: 'exits', ts: T0, snapshot: false, rows: [{ pid: 5, code: 0 }] }]);
    await sink.write([{ table: 'exits', ts: T0 + 10 * SECOND, snapshot: false, rows: [{ pid: 6, code: 1 }, { pid: 7, code: 2 }] }]);
    const pids = async (at: number, stalenessMs: number) =>
      (await rowsOf(reader, { sql: 'SELECT pid FROM exits ORDER BY pid', at, stalenessMs })).map((row) => row.pid);
    expect(await pids(T0 + 10 * SECOND, 60 * SECOND)).toEqual([5, 6, 7]);
    expect(await pids(T0 + 10 * SECOND, 10 * SECOND)).toEqual([6, 7]);
    expect(await pids(T0 + 9 * SECOND, 60 * SECOND)).toEqual([5]);
    expect(await pids(T0 - 1, 60 * SECOND)).toEqual([]);
    await sink.close();
  });

  it('answers a range with samples and events inside it and state versions overlapping it', async () => {
    const { sink, reader } = await startSink(newPath());
    for (let step = 0; step < 6; step += 1) {
      const ts = T0 + step * 10 * SECOND;
      await sink.write([
        { table: 'process_stats', ts, snapshot: true, rows: [{ pid: 1, rss: step, cpu: 0 }] },
        { table: 'exits', ts, snapshot: false, rows: [{ pid: 100 + step, code: 0 }] },
        // pid 1 changes at 20 s; pid 2 lives from 10 s to 30 s.
        { table: 'processes', ts, snapshot: true, rows: [{ ...init, comm: step < 2 ? 'init' : 'systemd' }, ...(step >= 1 && step < 3 ? [shell] : [])] },
      ]);
    }
    const range = { from: T0 + 15 * SECOND, to: T0 + 30 * SECOND };
    expect((await rowsOf(reader, { sql: 'SELECT rss FROM process_stats ORDER BY ts', ...range })).map((row) => row.rss)).toEqual([2, 3]);
    expect((await rowsOf(reader, { sql: 'SELECT pid FROM exits ORDER BY ts', ...range })).map((row) => row.pid)).toEqual([102, 103]);
    expect(await rowsOf(reader, { sql: 'SELECT pid, comm FROM processes ORDER BY pid, valid_from', ...range })).toEqual([
      { pid: 1, comm: 'init' },
      { pid: 1, comm: 'systemd' },
      { pid: 2, comm: 'sh' },
    ]);
    // A range after pid 2 ended and after the change: only the current pid 1.
    expect(await rowsOf(reader, { sql: 'SELECT pid, comm FROM processes', from: T0 + 30 * SECOND, to: T0 + 40 * SECOND })).toEqual([
      { pid: 1, comm: 'systemd' },
    ]);
    // Open-ended ranges.
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { from: T0 + 40 * SECOND })).toBe(2);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { to: T0 + 10 * SECOND })).toBe(2);
    await sink.close();
  });

  it('keeps history.<table> raw in `at` and range mode', async () => {
    const { sink, reader, clock } = await startSink(newPath());
    await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init, shell] },
      { table: 'process_stats', ts: T0, snapshot: true, rows: [{ pid: 1, rss: 5, cpu: 0 }, { pid: 2, rss: 6, cpu: 0 }] },
    ]);
    await sink.write([{ table: 'processes', ts: T0 + SECOND, snapshot: true, rows: [init] }]);
    await clock.advance(10 * SECOND);
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: T0 + 2 * SECOND })).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM history.processes', { at: T0 + 2 * SECOND })).toBe(2);
    expect(await count(reader, 'SELECT count(*) FROM history.processes', { from: T0 + 5 * SECOND, to: T0 + 6 * SECOND })).toBe(2);
    // Identifiers are case-insensitive and may be quoted: the view still answers.
    expect(await count(reader, 'SELECT count(*) FROM PROCESSES', { at: T0 + 2 * SECOND })).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM "processes"', { at: T0 + 2 * SECOND })).toBe(1);
    expect(await count(reader, 'SELECT * FROM (SELECT count(*) FROM processes)', { at: T0 + 2 * SECOND })).toBe(1);
    // A join across kinds at one instant.
    const joined = await query(reader, {
      sql: 'SELECT p.comm, s.rss FROM processes AS p JOIN process_stats AS s USING (host, pid)',
      at: T0 + 2 * SECOND,
    });
    expect(joined.rows).toEqual([['init', 5]]);
    await sink.close();
  });

  it('refuses contradictory or malformed windows', async () => {
    const { sink, reader } = await startSink(newPath());
    for (const request of [
      { sql: 'SELECT 1', at: T0, from: T0 },
      { sql: 'SELECT 1', from: T0 + 1, to: T0 },
      { sql: 'SELECT 1', at: Number.NaN },
      { sql: 'SELECT 1', maxRows: 0 },
      { sql: 'SELECT 1', timeoutMs: 1.5 },
      { sql: 'SELECT 1', stalenessMs: -1 },
      { sql: '   ' },
    ]) {
      const result = await reader.query(request);
      expect(result.ok, JSON.stringify(request)).toBe(false);
      if (!result.ok) expect(result.status.code).toBe('INVALID_ARGUMENT');
    }
    await sink.close();
  });
});

describe('catalogue', () => {
  it('lists tables with store-added columns first, row counts and time spans', async () => {
    const { sink, reader } = await startSink(newPath(), { tables: [PROCESSES, PROCESS_STATS, EXITS, OS] });
    await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init, shell] },
      { table: 'process_stats', ts: T0 + SECOND, snapshot: true, rows: [{ pid: 1, rss: 1, cpu: 0 }] },
    ]);
    await sink.write([{ table: 'processes', ts: T0 + 2 * SECOND, snapshot: true, rows: [init] }]);
    const tables = await reader.tables();
    expect(tables.ok).toBe(true);
    const byName = new Map((tables.ok ? tables.value : []).map((table) => [table.name, table]));
    expect([...byName.keys()].sort()).toEqual(['exits', 'os', 'process_stats', 'processes']);
    const processes = byName.get('processes')!;
    expect(processes.columns.slice(0, 3).map((column) => [column.name, column.type])).toEqual([
      ['host', 'text'],
      ['valid_from', 'timestamp'],
      ['valid_to', 'timestamp'],
    ]);
    expect(processes.columns.find((column) => column.name === 'start_time')?.unit).toBe('ticks');
    expect(processes.key).toEqual(['pid', 'start_time']);
    expect(processes).toMatchObject({ rows: 2, first: T0, last: T0 + 2 * SECOND, kind: 'state' });
    expect(byName.get('process_stats')).toMatchObject({ rows: 1, first: T0 + SECOND, last: T0 + SECOND, kind: 'metric' });
    expect(byName.get('process_stats')!.columns.slice(0, 2).map((column) => column.name)).toEqual(['host', 'ts']);
    expect(byName.get('exits')).toMatchObject({ rows: 0, first: null, last: null });
    const info = await reader.info();
    expect(info.ok && info.value).toMatchObject({ first: T0, last: T0 + 2 * SECOND, hosts: ['host-a'] });
    expect(info.ok && info.value.bytes).toBeGreaterThan(0);
    expect(sink.stats().bytesOnDisk).toBeGreaterThan(0);
    await sink.close();
  });
});
