// The sink's lifecycle and write path: start and close in any order, partial rejection by
// index, whole-write rollback (rows and remembered versions), rows the pipeline would have
// dropped, the directory it creates; what the kit answers for it (before start, after close, undeclared tables).
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDeps } from '@virtualeyes/core/testing';
import { createSink, parseConfig } from '../src/index.js';
import type { TableSchema } from '@virtualeyes/core';
import { count, EXITS, iso, PROCESSES, rowsOf, SECOND, startSink, T0, useTempDir } from './helpers.js';

const newPath = useTempDir();
const init = { pid: 1, start_time: 10, comm: 'init', args: [] };

function unstarted(path: string) {
  const config = parseConfig({ path });
  const created = createSink(config.ok ? config.value : (undefined as never), createTestDeps());
  if (!created.ok) expect.fail(created.status.message);
  return created.value;
}

describe('lifecycle', () => {
  it('does no I/O before start, and refuses writes until started', async () => {
    const path = newPath();
    const sink = unstarted(path);
    expect(sink.name).toBe('test');
    expect(sink.init().code).toBe('OK');
    expect(sink.stats()).toEqual({ rowsWritten: 0, path });
    expect(() => statSync(dirname(path))).toThrow();
    // Before a successful start the kit leaves the write to the store, which says it is not started.
    const write = await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init] }]);
    expect(write.status).toMatchObject({ code: 'UNAVAILABLE', retryable: false, message: 'the store is not started' });
    expect(sink.reader?.()).toBeUndefined();
    expect((await sink.flush()).code).toBe('OK');
    expect((await sink.close()).code).toBe('OK');
    expect((await sink.start({ tables: [PROCESSES] })).code).toBe('UNAVAILABLE');
  });

  it('refuses a write after a failed start with UNAVAILABLE: not started', async () => {
    const path = newPath();
    mkdirSync(path, { recursive: true });
    const sink = unstarted(path);
    expect((await sink.start({ tables: [PROCESSES] })).code).toBe('INVALID_CONFIG');
    const write = await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init] }]);
    expect(write.status).toMatchObject({ code: 'UNAVAILABLE', retryable: false, message: 'the store is not started', source: 'test', op: 'write' });
    expect(sink.stats().rowsWritten).toBe(0);
  });

  it('releases the file when closed while still starting', async () => {
    const path = newPath();
    const sink = unstarted(path);
    const starting = sink.start({ tables: [PROCESSES] });
    const closing = sink.close();
    const [started, closed] = await Promise.all([starting, closing]);
    expect(closed.code).toBe('OK');
    expect(['OK', 'UNAVAILABLE']).toContain(started.code);
    expect(sink.reader?.()).toBeUndefined();
    const again = await startSink(path);
    expect(await count(again.reader, 'SELECT count(*) FROM vw_meta.sessions WHERE stopped_at IS NULL')).toBe(1);
    await again.sink.close();
  });

  it('creates the store directory with mode 0750', async () => {
    const path = newPath();
    const { sink } = await startSink(path);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o750);
    expect((await sink.start({ tables: [] })).code).toBe('INVALID_ARGUMENT');
    await sink.close();
  });

  it('refuses a store path that is a directory at once, not after retries', async () => {
    const path = newPath();
    mkdirSync(path, { recursive: true });
    const sink = unstarted(path);
    const started = await sink.start({ tables: [PROCESSES] });
    expect(started).toMatchObject({ code: 'INVALID_CONFIG', retryable: false, message: expect.stringContaining(`store path ${path} is not a file`) });
  });

  it('refuses writes and queries after close, and hands out no reader', async () => {
    const { sink, reader } = await startSink(newPath());
    await sink.close();
    const write = await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init] }]);
    // The kit answers every write after close, naming the instance.
    expect(write.status).toMatchObject({ code: 'UNAVAILABLE', retryable: false, message: 'duckdb is closed', source: 'duckdb' });
    expect(sink.reader?.()).toBeUndefined();
    const result = await reader.query({ sql: 'SELECT 1' });
    expect(!result.ok && result.status.code).toBe('UNAVAILABLE');
    const tables = await reader.tables();
    expect(tables.ok).toBe(false);
  });

  it('serializes concurrent writes', async () => {
    const { sink, reader } = await startSink(newPath());
    const writes = Array.from({ length: 8 }, (_, step) =>
      sink.write([
        { table: 'process_stats', ts: T0 + step * SECOND, snapshot: true, rows: [{ pid: step, rss: step, cpu: 0 }] },
        { table: 'processes', ts: T0 + step * SECOND, snapshot: true, rows: [{ ...init, comm: `v${step}` }] },
      ]),
    );
    const results = await Promise.all([...writes, sink.flush()]);
    for (const result of results) expect('status' in result ? result.status.code : result.code).toBe('OK');
    // Each snapshot holds one new pid: 8 rows, and a tombstone for the pid each of the last 7 dropped.
    expect(await count(reader, 'SELECT count(*) FROM history.process_stats WHERE _gone IS NOT TRUE')).toBe(8);
    expect(await count(reader, 'SELECT count(*) FROM history.process_stats WHERE _gone')).toBe(7);
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(8);
    expect(await count(reader, 'SELECT count(*) FROM history.processes WHERE valid_to IS NULL')).toBe(1);
    await sink.close();
  });

  it('hands out readers whose close does not close the store', async () => {
    const { sink } = await startSink(newPath());
    const first = sink.reader!()!;
    await first.close();
    expect((await first.query({ sql: 'SELECT 1' })).ok).toBe(false);
    expect((await sink.reader!()!.query({ sql: 'SELECT 1' })).ok).toBe(true);
    await sink.close();
  });
});

describe('write path', () => {
  it('rejects a batch whose time is not a number by index and writes the rest', async () => {
    const { sink, reader } = await startSink(newPath());
    const result = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init] },
      { table: 'process_stats', ts: Number.NaN, snapshot: true, rows: [] },
      // Row checks are the pipeline's: a column no schema declares is not stored, and costs the batch nothing here.
      { table: 'process_stats', ts: T0, snapshot: true, rows: [{ pid: 1, rss: 1, cpu: 1, extra: 1 }] },
    ]);
    expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, source: 'duckdb', message: 'process_stats: batch time NaN is not a number' });
    expect(result.rejected).toEqual([1]);
    expect(sink.stats().rowsWritten).toBe(2);
    expect(await count(reader, 'SELECT count(*) FROM processes')).toBe(1);
    // Without a time, a metric table is its raw change rows, with the tombstone column (NULL on a row of values).
    expect(await rowsOf(reader, { sql: 'SELECT * FROM process_stats' })).toEqual([{ host: 'host-a', ts: iso(T0), pid: 1, rss: 1, cpu: 1, _gone: null }]);
    await sink.close();
  });

  it("stores each event at its batch's per-row time, and rejects per-row times that do not fit by index", async () => {
    const { sink, reader } = await startSink(newPath());
    const result = await sink.write([
      { table: 'exits', ts: T0 + SECOND, snapshot: false, rows: [{ pid: 1, code: 0 }, { pid: 2, code: 1 }], times: [T0 + 0.25, T0 + 999.999] },
      { table: 'exits', ts: T0 + SECOND, snapshot: false, rows: [{ pid: 3, code: 2 }] },
      { table: 'processes', ts: T0, snapshot: true, rows: [init], ends: [T0] },
      { table: 'exits', ts: T0, snapshot: false, rows: [{ pid: 4, code: 3 }], times: [T0 + 1] },
    ]);
    expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'duckdb', op: 'write', message: 'processes: per-row ends are for partial batches (snapshot: false)' });
    expect(result.rejected).toEqual([2, 3]);
    // Microsecond precision, as the kernel stamps its events.
    expect(await rowsOf(reader, { sql: 'SELECT pid, epoch_us(ts) AS us FROM exits ORDER BY pid' })).toEqual([
      { pid: 1, us: T0 * 1000 + 250 },
      { pid: 2, us: T0 * 1000 + 999_999 },
      { pid: 3, us: (T0 + SECOND) * 1000 },
    ]);
    await sink.close();
  });

  // The pipeline validates every row once, for every sink, and drops the bad ones; whatever still
  // reaches the store must cost a Status for the write, never a throw, and leave the store working.
  it.each<[string, string, Record<string, unknown>, 'OK' | 'INVALID_ARGUMENT']>([
    ['a text for an int32', 'processes', { ...init, pid: 'one' }, 'INVALID_ARGUMENT'],
    ['a fraction for an int32', 'processes', { ...init, pid: 1.5 }, 'INVALID_ARGUMENT'],
    ['an int32 out of range', 'processes', { ...init, pid: 2 ** 40 }, 'INVALID_ARGUMENT'],
    ['a fraction for an int64', 'processes', { ...init, start_time: 1.5 }, 'INVALID_ARGUMENT'],
    ['a text for an int64', 'processes', { ...init, start_time: 'abc' }, 'INVALID_ARGUMENT'],
    ['an int64 out of range', 'processes', { ...init, start_time: 2n ** 70n }, 'INVALID_ARGUMENT'],
    ['numbers in a text[]', 'processes', { ...init, args: [1, [2]] }, 'INVALID_ARGUMENT'],
    // A text column takes any other value as its JSON (bigints as decimal text), as append.ts says.
    ['an object holding a bigint for a text (stored as its JSON)', 'processes', { ...init, comm: { a: 1n } }, 'OK'],
    ['a text for a timestamp', 'os', { kernel: '6.1', booted: 'yesterday' }, 'INVALID_ARGUMENT'],
    ['a missing non-nullable column (stored as NULL)', 'processes', { pid: 1, start_time: 10, args: [] }, 'OK'],
    ['a missing key column (stored as NULL)', 'processes', { comm: 'x' }, 'OK'],
    ['an empty sample (stored as NULLs)', 'process_stats', {}, 'OK'],
  ])('answers a row the pipeline would have dropped, %s, with a Status', async (_case, table, row, code) => {
    const { sink, reader } = await startSink(newPath());
    const result = await sink.write([
      { table: 'exits', ts: T0, snapshot: false, rows: [{ pid: 9, code: 0 }] },
      { table, ts: T0, snapshot: true, rows: [row as never] },
    ]);
    expect(result.status).toMatchObject(code === 'OK' ? { code } : { code, source: 'duckdb', op: 'write' });
    expect(result.status.retryable).toBe(false);
    // A refused value fails the whole write (one transaction); an accepted one lands with the rest.
    expect(await count(reader, 'SELECT count(*) FROM exits')).toBe(code === 'OK' ? 1 : 0);
    expect(await count(reader, `SELECT count(*) FROM history.${table}`)).toBe(code === 'OK' ? 1 : 0);
    const next = await sink.write([{ table: 'processes', ts: T0 + SECOND, snapshot: true, rows: [{ ...init, pid: 2 }] }]);
    expect(next.status.code).toBe('OK');
    expect(await count(reader, 'SELECT count(*) FROM processes WHERE pid = 2')).toBe(1);
    expect((await sink.close()).code).toBe('OK');
  });

  it('rolls back the whole write when DuckDB refuses a value, and remembers no versions from it', async () => {
    const { sink, reader } = await startSink(newPath());
    const result = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init] },
      // A finite time far past DuckDB's timestamp range: passes row validation, fails in the appender.
      { table: 'os', ts: T0, snapshot: true, rows: [{ kernel: '6.1', booted: 1e20 }] },
    ]);
    expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect(result.rejected).toBeUndefined();
    expect(sink.stats().rowsWritten).toBe(0);
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(0);
    expect(await count(reader, 'SELECT count(*) FROM history.os')).toBe(0);
    const again = await sink.write([{ table: 'processes', ts: T0 + SECOND, snapshot: true, rows: [init] }]);
    expect(again.status.code).toBe('OK');
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(1);
    await sink.close();
  });

  it('names its Status after the instance; the kit refuses undeclared tables, the store the ones it cannot use', async () => {
    const broken: TableSchema = { ...EXITS, name: 'broken', key: ['nope'] };
    const { sink, reader } = await startSink(newPath(), { name: 'store-b', tables: [PROCESSES, broken] });
    const mixed = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: [init] },
      { table: 'stray', ts: T0, snapshot: true, rows: [{ pid: 1 }] },
      { table: 'broken', ts: T0, snapshot: true, rows: [{ pid: 1, code: 0 }] },
    ]);
    expect(mixed.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'store-b' });
    expect(mixed.status.message).toContain("key column 'nope' is not declared");
    expect(mixed.rejected).toEqual([1, 2]);
    expect(sink.stats().rowsWritten).toBe(1);
    const stray = await sink.write([{ table: 'stray', ts: T0, snapshot: true, rows: [{ pid: 1 }] }]);
    expect(stray.status).toMatchObject({ code: 'INVALID_ARGUMENT', message: "table 'stray' was not declared by any probe", source: 'store-b', op: 'write' });
    const unusable = await sink.write([{ table: 'broken', ts: T0, snapshot: true, rows: [{ pid: 1, code: 0 }] }]);
    expect(unusable.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'store-b', op: 'validate schema' });
    expect(unusable.rejected).toEqual([0]);
    // A value DuckDB refuses (the pipeline would have dropped the row) fails the write, named after the instance too.
    const malformed = await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [{ ...init, pid: 'one' }] }]);
    expect(malformed.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'store-b', message: 'processes: number is not an integer' });
    const refused = await reader.query({ sql: 'DELETE FROM processes' });
    expect(!refused.ok && refused.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'store-b', op: 'query' });
    expect(await count(reader, 'SELECT count(*) FROM processes')).toBe(1);
    await sink.close();
  });

  it('stamps every row with the host', async () => {
    const { sink, reader } = await startSink(newPath(), { host: 'db-7' });
    await sink.write([{ table: 'processes', ts: T0, snapshot: true, rows: [init] }]);
    expect(await count(reader, "SELECT count(*) FROM processes WHERE host = 'db-7'")).toBe(1);
    await sink.close();
  });
});
