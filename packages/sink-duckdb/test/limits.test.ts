// Result and request limits on a real store: a result is counted in bytes while it streams
// and refused the moment it passes maxResultBytes (memory stays flat, the reader keeps
// answering), and instants DuckDB cannot hold or that lie in the future are refused cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystemClock, type QueryRequest, type Status, type StoreReader } from '@virtualeyes/core';
import { count, query, startSink, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir();
const MIB = 1024 * 1024;
let started: Started;
let reader: StoreReader;

beforeAll(async () => {
  started = await startSink(newPath(), { clock: createSystemClock() });
  reader = started.reader;
  const now = Date.now();
  await started.sink.write([{ table: 'processes', ts: now - 1000, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'init', args: [] }] }]);
});

afterAll(async () => {
  await started.sink.close();
});

/** The failure of a request that must fail. */
async function refusal(request: QueryRequest): Promise<Status> {
  const result = await reader.query(request);
  if (result.ok) return expect.fail(`${request.sql} answered ${result.value.rows.length} rows`);
  return result.status;
}

/** Runs `work` while sampling this process's memory: peak growth of the JS heap and of the resident set, in MiB. */
async function memoryGrowth<T>(work: () => Promise<T>): Promise<{ value: T; heapMiB: number; rssMiB: number }> {
  const before = process.memoryUsage();
  let heap = before.heapUsed;
  let rss = before.rss;
  const sample = (): void => {
    const now = process.memoryUsage();
    heap = Math.max(heap, now.heapUsed);
    rss = Math.max(rss, now.rss);
  };
  const sampler = setInterval(sample, 5);
  try {
    const value = await work();
    sample();
    return { value, heapMiB: (heap - before.heapUsed) / MIB, rssMiB: (rss - before.rss) / MIB };
  } finally {
    clearInterval(sampler);
  }
}

describe('result bytes', () => {
  // The JS heap is what killed the daemon: it holds one chunk and the budget at most. Natively,
  // DuckDB's streaming buffer counts rows without their string bytes: at its default (976 KiB)
  // it held about 61 000 rows of 50 KB (3 GB, 20-30 s of work) before the first chunk. Query
  // connections use a 1 KB buffer, so the resident set grows by a few chunks at most.
  it.each([
    ['5 GB of 50 KB rows', "SELECT repeat('x', 50000) AS s FROM range(100000)"],
    ['1.2 GB of 12 KB rows', "SELECT repeat('x', 12000) AS s FROM range(100000)"],
  ])('refuses %s while streaming, with the JS heap flat, and keeps answering', async (_name, sql) => {
    const { value: status, heapMiB, rssMiB } = await memoryGrowth(() => refusal({ sql }));
    expect(status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'duckdb', op: 'query', retryable: false });
    expect(status.message).toMatch(/^result too large: more than 16 MiB \(\d+ rows read\); select fewer columns or rows, or add LIMIT$/);
    // Rows past the first chunk were never converted: the budget ends inside it.
    expect(Number(/\((\d+) rows read\)/.exec(status.message)?.[1])).toBeLessThan(2048);
    console.info(`${sql}: peak growth: heap ${heapMiB.toFixed(0)} MiB, RSS ${rssMiB.toFixed(0)} MiB`);
    expect(heapMiB).toBeLessThan(200);
    expect(rssMiB).toBeLessThan(250);
    expect(await count(reader, 'SELECT count(*) FROM processes')).toBe(1);
  });

  it('frees each refused chunk at once, so repeated wide results do not pile up natively', async () => {
    // One chunk of 2048 rows of 50 KB is 100 MB of DuckDB memory behind a small JS wrapper.
    const sql = "SELECT repeat('x', 50000) AS s FROM range(100000)";
    const { rssMiB } = await memoryGrowth(async () => {
      for (let round = 0; round < 8; round += 1) await refusal({ sql });
    });
    console.info(`eight refusals of 100 MB chunks: peak RSS growth ${rssMiB.toFixed(0)} MiB`);
    expect(rssMiB).toBeLessThan(450);
  });

  // 1008 characters plus 16 per value is 1 KiB a row, so 16384 rows are exactly 16 MiB.
  it('answers a result of exactly the budget and refuses one row more', async () => {
    const fits = await query(reader, { sql: "SELECT repeat('x', 1008) AS s FROM range(16384)" });
    expect(fits).toMatchObject({ truncated: false, maxRows: 100_000 });
    expect(fits.rows).toHaveLength(16384);
    expect(fits.rows[16383]).toEqual(['x'.repeat(1008)]);
    const over = await refusal({ sql: "SELECT repeat('x', 1008) AS s FROM range(16385)" });
    expect(over.message).toBe('result too large: more than 16 MiB (16384 rows read); select fewer columns or rows, or add LIMIT');
  });

  it('counts every column, and nested values element by element', async () => {
    const wide = await refusal({ sql: "SELECT repeat('a', 600) AS a, repeat('b', 600) AS b FROM range(15000)" });
    expect(wide.message).toMatch(/^result too large: more than 16 MiB \(13\d\d\d rows read\)/);
    const list = await refusal({ sql: 'SELECT range(2000000) AS l' });
    expect(list.message).toBe('result too large: more than 16 MiB (0 rows read); select fewer columns or rows, or add LIMIT');
    const small = await query(reader, { sql: 'SELECT range(1000) AS l, {a: 1} AS s' });
    expect((small.rows[0]?.[0] as unknown[]).length).toBe(1000);
  });

  it('says which row cap applied, and a row cap still truncates before the byte budget', async () => {
    const capped = await query(reader, { sql: "SELECT repeat('x', 12000) AS s FROM range(100000)", maxRows: 100 });
    expect(capped).toMatchObject({ truncated: true, maxRows: 100 });
    expect(capped.rows).toHaveLength(100);
    const asked = await query(reader, { sql: 'SELECT 1', maxRows: 10_000_000 });
    expect(asked.maxRows).toBe(100_000);
  });
});

describe('request instants', () => {
  const RANGE = '0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z';

  it.each([
    [{ at: 1e300 }, `at is out of range (${RANGE})`],
    [{ at: -1e300 }, `at is out of range (${RANGE})`],
    [{ at: 8.64e15 + 1 }, `at is out of range (${RANGE})`],
    // `--at '-99999999999999d'`
    [{ at: -99_999_999_999_999 * 86_400_000 }, `at is out of range (${RANGE})`],
    [{ from: 1e300 }, `from is out of range (${RANGE})`],
    [{ to: -1e300 }, `to is out of range (${RANGE})`],
    [{ from: 0, to: 253_402_300_800_000 }, `to is out of range (${RANGE})`],
    [{ at: Number.POSITIVE_INFINITY }, 'at must be a finite number of epoch milliseconds'],
  ])('refuses %j without DuckDB text', async (window, message) => {
    const status = await refusal({ sql: 'SELECT count(*) FROM processes', ...window });
    expect(status).toMatchObject({ code: 'INVALID_ARGUMENT', message, source: 'duckdb', op: 'query' });
    expect(status.message).not.toMatch(/Error|INT64|timestamp/i);
  });

  it('refuses an instant in the future, and accepts now and a range ending in the future', async () => {
    const future = await refusal({ sql: 'SELECT count(*) FROM processes', at: Date.now() + 60_000 });
    expect(future).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'at is in the future; the recording ends now' });
    const from = await refusal({ sql: 'SELECT count(*) FROM processes', from: Date.now() + 60_000 });
    expect(from.message).toBe('from is in the future; the recording ends now');
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: Date.now() })).toBe(1);
    expect(await count(reader, 'SELECT count(*) FROM processes', { from: Date.now() - 60_000, to: Date.now() + 3_600_000 })).toBe(1);
  });

  it('accepts the edges of the range, and a staleness window reaching before year 1', async () => {
    expect(await count(reader, 'SELECT count(*) FROM processes', { at: Date.parse('0001-01-01T00:00:00.000Z') })).toBe(0);
    expect(await count(reader, 'SELECT count(*) FROM process_stats', { at: Date.now(), stalenessMs: Number.MAX_SAFE_INTEGER })).toBe(0);
    expect(await count(reader, 'SELECT count(*) FROM processes', { from: Date.parse('0001-01-01T00:00:00.000Z'), to: Date.parse('9999-12-31T23:59:59.999Z') })).toBe(1);
  });
});

describe('reused query connections', () => {
  it('forget the time-travel views of the previous query', async () => {
    const own = await startSink(newPath(), { clock: createSystemClock(), config: { maxConcurrentQueries: 1 } });
    const now = Date.now();
    await own.sink.write([{ table: 'processes', ts: now - 5000, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'a', args: [] }] }]);
    await own.sink.write([{ table: 'processes', ts: now - 2000, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'b', args: [] }] }]);
    // One connection: the second query runs where the first left its views.
    expect(await count(own.reader, 'SELECT count(*) FROM processes', { at: now - 4000 })).toBe(1);
    expect(await count(own.reader, 'SELECT count(*) FROM processes')).toBe(2);
    expect(await count(own.reader, "SELECT count(*) FROM processes WHERE comm = 'b'", { at: now - 1000 })).toBe(1);
    expect((await own.sink.close()).code).toBe('OK');
  });

  it('leave no transaction open after a refused large result, so the store closes with its checkpoint', async () => {
    const own = await startSink(newPath(), { clock: createSystemClock(), config: { maxConcurrentQueries: 1 } });
    await own.sink.write([{ table: 'processes', ts: Date.now() - 2000, snapshot: true, rows: [{ pid: 2, start_time: 1, comm: 'c', args: [] }] }]);
    const result = await own.reader.query({ sql: "SELECT repeat('x', 50000) AS s FROM range(100000)" });
    expect(result.ok ? 'answered' : result.status.message).toMatch(/^result too large/);
    // Writes after it, then straight to close: nothing else ran on the query's connection since.
    const written = await own.sink.write([{ table: 'processes', ts: Date.now() - 1000, snapshot: true, rows: [{ pid: 3, start_time: 1, comm: 'd', args: [] }] }]);
    expect(written.status.code).toBe('OK');
    expect(await own.sink.close()).toMatchObject({ code: 'OK' });
  });
});
