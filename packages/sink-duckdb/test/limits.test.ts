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
  // DuckDB fills its streaming buffer before the first chunk (see below): on a busy machine the
  // 5 GB query needs more than the default 30 s for that, and must fail on bytes, not on time.
  started = await startSink(newPath(), { clock: createSystemClock(), config: { queryTimeoutMs: 180_000 } });
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
  // The JS heap is what killed the daemon: it holds one chunk and the budget at most. DuckDB
  // 1.5 counts its streaming buffer (streaming_buffer_size, 976 KiB) without string bytes, so
  // before the first chunk arrives it holds about 61 000 one-column rows in native memory
  // (3 GB of 50 KB rows, 20-30 s of work); the RSS bound says the whole result never is.
  it.each([
    ['5 GB of 50 KB rows', "SELECT repeat('x', 50000) AS s FROM range(100000)", 5000],
    ['1.2 GB of 12 KB rows', "SELECT repeat('x', 12000) AS s FROM range(100000)", 1200],
  ])('refuses %s while streaming, with the JS heap flat, and keeps answering', { timeout: 240_000 }, async (_name, sql, resultMB) => {
    const { value: status, heapMiB, rssMiB } = await memoryGrowth(() => refusal({ sql }));
    expect(status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'duckdb', op: 'query', retryable: false });
    expect(status.message).toMatch(/^result too large: more than 16 MiB \(\d+ rows read\); select fewer columns or rows, or add LIMIT$/);
    // Rows past the first chunk were never converted: the budget ends inside it.
    expect(Number(/\((\d+) rows read\)/.exec(status.message)?.[1])).toBeLessThan(2048);
    console.info(`${sql}: peak growth: heap ${heapMiB.toFixed(0)} MiB, RSS ${rssMiB.toFixed(0)} MiB`);
    expect(heapMiB).toBeLessThan(200);
    expect(rssMiB).toBeLessThan(0.8 * resultMB);
    expect(await count(reader, 'SELECT count(*) FROM processes')).toBe(1);
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
