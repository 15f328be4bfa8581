// The query surface: one read-only SELECT and nothing else, no file access, a time limit
// that interrupts, a row limit that truncates, JSON-safe values, and no throw for any input.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystemClock, isStatus, type StoreReader } from '@virtualeyes/core';
import { ONLY_SELECT } from '../src/index.js';
import { count, query, SECOND, startSink, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir();
let started: Started;
let reader: StoreReader;

beforeAll(async () => {
  started = await startSink(newPath(), { clock: createSystemClock(), config: { maxRows: 5000 } });
  reader = started.reader;
  await started.sink.write([
    { table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'init', args: [] }] },
    { table: 'process_stats', ts: T0 + SECOND, snapshot: true, rows: [{ pid: 1, rss: 2n ** 60n, cpu: 0.5 }] },
  ]);
});

afterAll(async () => {
  await started.sink.close();
});

describe('read-only surface', () => {
  it.each([
    "INSERT INTO processes VALUES ('h', now(), NULL, 9, 9, 'x', [])",
    "UPDATE processes SET comm = 'x'",
    'DELETE FROM processes',
    'CREATE TABLE t (a INTEGER)',
    'CREATE TEMP VIEW v AS SELECT 1',
    'DROP TABLE processes',
    'ALTER TABLE processes ADD COLUMN x INTEGER',
    "ATTACH '/tmp/other.db' AS other",
    'DETACH other',
    "COPY processes TO '/tmp/out.csv'",
    "COPY (SELECT 1) TO '/tmp/out.csv'",
    "EXPORT DATABASE '/tmp/export'",
    'INSTALL httpfs',
    'LOAD httpfs',
    'SET threads = 8',
    "SET search_path = 'main'",
    'RESET search_path',
    "PRAGMA memory_limit = '10GB'",
    'PRAGMA table_info(processes)',
    'CALL pragma_version()',
    'CHECKPOINT',
    'BEGIN TRANSACTION',
    'EXPLAIN SELECT 1',
    'USE vw_meta',
    'SELECT 1; SELECT 2',
    'SELECT 1; DROP TABLE processes',
    'VACUUM',
  ])('refuses %s', async (sql) => {
    const result = await reader.query({ sql });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', message: ONLY_SELECT, source: 'duckdb' });
  });

  it('left the store untouched', async () => {
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(1);
    // The catalogue is no longer queryable here; attack.test.ts checks the closed file for stray tables and views.
    expect(await count(reader, 'SELECT count(*) FROM vw_meta.tables')).toBe(4);
  });

  it.each([
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
  ])('reads no files: %s', async (sql) => {
    const result = await reader.query({ sql });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(['PERMISSION_DENIED', 'INVALID_ARGUMENT']).toContain(result.status.code);
  });

  it('refuses reading the configuration (attack.test.ts checks the locked settings on the instance itself)', async () => {
    const result = await reader.query({ sql: "SELECT current_setting('enable_external_access') AS external, current_setting('lock_configuration') AS locked" });
    expect(!result.ok && result.status).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'function current_setting is not allowed in queries' });
  });

  it('reports SQL errors as INVALID_ARGUMENT with DuckDB message on one line', async () => {
    for (const [sql, start] of [
      ['SELEC 1', 'Parser Error: syntax error at or near "SELEC"'],
      ['SELECT nope FROM processes', 'Binder Error: Referenced column "nope" not found'],
      ['SELECT * FROM nowhere', 'table nowhere is not a recorded table'],
      ['SELECT * FROM (SELECT 1) AS t, LATERAL (SELECT nowhere_at_all(1))', 'function nowhere_at_all is not allowed in queries'],
    ] as const) {
      const result = await reader.query({ sql });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.status.code).toBe('INVALID_ARGUMENT');
        expect(result.status.message.startsWith(start), result.status.message).toBe(true);
        expect(result.status.message).not.toMatch(/\n|LINE 1/);
      }
    }
    // An unknown table names the recorded ones, the closest spellings first.
    const typo = await reader.query({ sql: 'SELECT * FROM proceses' });
    expect(!typo.ok && typo.status.message).toMatch(/^table proceses is not a recorded table: did you mean processes\? the recorded tables are processes, [a-z_]+(, [a-z_]+)*$/);
    const parameters = await reader.query({ sql: 'SELECT ?' });
    expect(!parameters.ok && parameters.status.code).toBe('INVALID_ARGUMENT');
  });

  it('accepts the read-only statement shapes DuckDB parses as SELECT', async () => {
    for (const sql of ['FROM processes', 'DESCRIBE processes', 'SUMMARIZE process_stats', 'VALUES (1), (2)', 'WITH x AS (SELECT 1 AS a) SELECT a FROM x', 'SELECT 1 -- ; DROP TABLE processes', 'SELECT * FROM vw_meta.sessions;']) {
      const result = await reader.query({ sql });
      expect(result.ok, `${sql}: ${result.ok ? '' : result.status.message}`).toBe(true);
    }
  });
});

describe('limits', () => {
  it('interrupts a query past its time limit, and the reader still works', async () => {
    const result = await reader.query({ sql: 'SELECT count(*) FROM range(100000000000) AS a', timeoutMs: 100 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(await count(reader, 'SELECT count(*) FROM processes')).toBe(1);
  });

  it.each([
    [10, 5, 5, true],
    [5, 5, 5, false],
    [2048, 2048, 2048, false],
    [2049, 2048, 2048, true],
    [4097, 4096, 4096, true],
    [9000, 6000, 5000, true],
  ])('returns %i rows with maxRows %i as %i rows, truncated %s', async (rows, maxRows, expected, truncated) => {
    const result = await query(reader, { sql: `SELECT range AS n FROM range(${rows})`, maxRows });
    expect(result.rows).toHaveLength(expected);
    expect(result.truncated).toBe(truncated);
    expect(result.rows[expected - 1]).toEqual([expected - 1]);
  });
});

describe('values', () => {
  it('converts DuckDB values to JSON-safe cells and reports DuckDB type names', async () => {
    const result = await query(reader, {
      sql: `SELECT 9007199254740993::BIGINT AS big, 42::BIGINT AS small, -7::BIGINT AS negative,
        170141183460469231731687303715884105727::HUGEINT AS huge, 18446744073709551615::UBIGINT AS ubig,
        TIMESTAMPTZ '2026-11-22 05:04:08.725+00' AS tz, TIMESTAMPTZ '2026-11-22 07:04:08.725+02' AS offset,
        TIMESTAMP '2026-11-22 05:04:08.725' AS plain, TIMESTAMPTZ '1969-12-31 23:59:59.9995+00' AS before_epoch,
        'infinity'::TIMESTAMPTZ AS forever, DATE '2026-11-22' AS day,
        ['a', 'b'] AS list, [[1], []] AS nested, {'x': 1, 'y': [true, NULL]} AS obj, NULL AS nothing,
        1.25::DECIMAL(10,2) AS decimal, '\\x01\\x02'::BLOB AS bytes, 'nan'::DOUBLE AS nan, 0.5::FLOAT AS float,
        MAP {'k': 1} AS map, INTERVAL 3 DAY AS span, '00000000-0000-0000-0000-000000000001'::UUID AS id`,
    });
    const row = Object.fromEntries(result.columns.map((column, index) => [column.name, result.rows[0]![index]]));
    expect(row).toEqual({
      big: '9007199254740993',
      small: 42,
      negative: -7,
      huge: '170141183460469231731687303715884105727',
      ubig: '18446744073709551615',
      tz: '2026-11-22T05:04:08.725Z',
      offset: '2026-11-22T05:04:08.725Z',
      plain: '2026-11-22T05:04:08.725Z',
      before_epoch: '1969-12-31T23:59:59.999Z',
      forever: 'infinity',
      day: '2026-11-22',
      list: ['a', 'b'],
      nested: [[1], []],
      obj: { x: 1, y: [true, null] },
      nothing: null,
      decimal: 1.25,
      bytes: 'AQI=',
      nan: 'NaN',
      float: 0.5,
      map: [{ key: 'k', value: 1 }],
      span: '3 days',
      id: '00000000-0000-0000-0000-000000000001',
    });
    const types = Object.fromEntries(result.columns.map((column) => [column.name, column.type]));
    expect(types).toMatchObject({ big: 'BIGINT', tz: 'TIMESTAMP WITH TIME ZONE', list: 'VARCHAR[]', decimal: 'DECIMAL(10,2)', day: 'DATE' });
    expect(JSON.parse(JSON.stringify(result.rows))).toEqual(result.rows);
  });

  it('returns stored big counters as strings and times as ISO strings', async () => {
    const result = await query(reader, { sql: 'SELECT ts, rss FROM process_stats' });
    expect(result.rows).toEqual([[new Date(T0 + SECOND).toISOString(), String(2n ** 60n)]]);
  });
});

describe('robustness', () => {
  const fragments = ['SELECT', 'FROM', 'processes', 'history.processes', '*', ';', "'", '"', '(', ')', 'WHERE', '1', 'DROP', 'ATTACH', 'COPY', '--', '/*', 'read_csv', '$1', '?', 'VALUES', 'PRAGMA', ','];
  const sqlish = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(fc.constantFrom(...fragments), { maxLength: 12 }).map((parts) => parts.join(' ')),
  );

  it('never throws for arbitrary SQL and returns OK or a failing Status', async () => {
    await fc.assert(
      fc.asyncProperty(sqlish, fc.option(fc.integer({ min: T0 - 10 * SECOND, max: T0 + 10 * SECOND }), { nil: undefined }), async (sql, at) => {
        const result = await reader.query(at === undefined ? { sql } : { sql, at });
        if (result.ok) {
          expect(Array.isArray(result.value.rows)).toBe(true);
        } else {
          expect(isStatus(result.status)).toBe(true);
          expect(result.status.code).not.toBe('OK');
        }
      }),
      { numRuns: 150 },
    );
    expect(await count(reader, 'SELECT count(*) FROM history.processes')).toBe(1);
  });
});
