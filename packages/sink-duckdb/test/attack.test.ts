// Attacks on the query surface, through the sink's reader (what the daemon serves) and the
// offline read-only reader on a closed file: each is refused as INVALID_ARGUMENT naming what it
// used, or (if harmless) answers. Afterwards the sink still writes, no file appeared next to the
// stores, the offline file is byte-identical, and no table or view was created.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystemClock, isStatus, type StoreReader } from '@virtualeyes/core';
import { createMemoryLogger } from '@virtualeyes/core/testing';
import { createReader, NO_PARAMETERS, ONLY_SELECT, parseConfig, REFUSED_FUNCTIONS } from '../src/index.js';
import { AccessMode, openInstance } from '../src/store.js';
import { count, rowsOf, SECOND, startSink, T0, useTempDir, type Started } from './helpers.js';

const newPath = useTempDir('sink-duckdb-attack-');

/**
 * The attack cases, shared with the daemon's attack test (packages/vwatchd/test/attack.test.ts):
 * each must be refused with a message containing `refusal`, or answer when `refusal` is null.
 * `DIR` in a case stands for the directory of the store under attack.
 */
interface AttackCase {
  readonly group: string;
  readonly sql: string;
  readonly refusal: string | null;
}
const CASES: readonly AttackCase[] = JSON.parse(readFileSync(new URL('./fixtures/attacks.json', import.meta.url), 'utf8')) as AttackCase[];

const fn = (name: string): string => `function ${name} is not allowed in queries`;

/** Legitimate queries, from docs/querying.md and the README, on the test tables: all must answer. */
const LEGITIMATE: readonly string[] = [
  'select count(*) from processes',
  'select count(*) from history.processes',
  "select count(*) from history.processes where valid_from <= TIMESTAMPTZ '2026-01-01 00:00:05+00'",
  'select pid, comm, valid_from, valid_to from processes where valid_to is not null',
  "select pid, comm, args from processes where comm like '%ini%' order by pid",
  'select p.pid, p.comm, s.rss from processes as p join process_stats as s using (host, pid)',
  `select pid, ts, cpu - lag(cpu) over w as delta, rss / nullif(lag(rss) over w, 0) as growth
     from process_stats window w as (partition by host, pid order by ts) order by ts`,
  'select e.pid, e.code, s.rss from exits e asof join process_stats s on e.pid = s.pid and e.ts >= s.ts',
  'with recent as (select * from process_stats where ts > TIMESTAMPTZ \'2026-01-01\') select pid, max(rss) from recent group by pid',
  'with recursive r(n) as (select 1 union all select n + 1 from r where n < 10) select sum(n) from r',
  'with x as (select pid from processes) select * from x union all select * from x',
  'select list_transform(args, a -> upper(a)), len(args) from processes',
  "select regexp_matches(comm, '^in'), regexp_replace(comm, 'i', 'I', 'g'), regexp_extract(comm, '(n)(i)', 2) from processes",
  "select strftime(valid_from, '%Y-%m-%d %H:%M'), epoch_ms(valid_from), date_trunc('minute', valid_from) from processes",
  "select time_bucket(INTERVAL '1 minute', ts) as minute, avg(cpu), quantile_cont(rss, 0.9) from process_stats group by all order by 1",
  'select * from vw_meta.sessions',
  'select name, kind from vw_meta.tables order by name',
  'select host, count(*) filter (where cpu > 0.1) from process_stats group by host having count(*) > 0',
  'select pid, row_number() over (partition by host order by rss desc) as rank from process_stats qualify rank <= 3',
  'select * from range(3), generate_series(1, 2), unnest([1, 2]) as u(x)',
  'select * from processes, lateral unnest(args) as a(arg)',
  "select * from json_each('{\"a\": 1, \"b\": [2]}')",
  "select json_extract('{\"a\": {\"b\": 1}}', '$.a.b'), '{\"x\": 2}'::json->>'$.x'",
  "select struct_pack(pid := pid, comm := comm), map_from_entries([('k', pid)]), [pid, pid * 2][1] from processes",
  'select histogram(pid), string_agg(comm, \',\' order by pid), array_agg(distinct pid) from processes',
  "select coalesce(args[1], '-'), if(pid = 1, 'init', 'other'), case when pid > 1 then 'user' else 'kernel' end from processes",
  "select 'a' || comm, upper(comm), lpad(pid::varchar, 6, '0'), format('{}-{}', pid, comm) from processes",
  'select pid from processes union select pid from exits except select 42 order by 1',
  'select * from processes p where exists (select 1 from process_stats s where s.pid = p.pid)',
  'select * exclude (args) from processes',
  "select now() - INTERVAL '1 hour' < current_timestamp, age(TIMESTAMP '2026-01-01'), epoch_ms(1700000000000)",
  'values (1, \'a\'), (2, \'b\')',
  'select greatest(rss, 0), least(cpu, 100), round(cpu * 100, 1), rss // 1024 from process_stats',
];

interface Target {
  readonly name: string;
  readonly reader: () => StoreReader;
  readonly dir: () => string;
}

let live: Started;
let livePath: string;
let offline: StoreReader;
let offlinePath: string;
let offlineSha: string;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const sqlFor = (sql: string, dir: string): string => sql.replaceAll('DIR', dir);

async function record(path: string): Promise<Started> {
  const started = await startSink(path, { clock: createSystemClock() });
  const now = Date.now();
  await started.sink.write([
    { table: 'processes', ts: T0, snapshot: true, rows: [{ pid: 1, start_time: 1, comm: 'init', args: ['init', '--x'] }, { pid: 2, start_time: 5, comm: 'sh', args: [] }] },
    { table: 'process_stats', ts: T0 + SECOND, snapshot: true, rows: [{ pid: 1, rss: 100, cpu: 0.5 }, { pid: 2, rss: 200, cpu: 0.25 }] },
    { table: 'exits', ts: T0 + 2 * SECOND, snapshot: false, rows: [{ pid: 2, code: 0 }] },
    { table: 'process_stats', ts: now, snapshot: true, rows: [{ pid: 1, rss: 150, cpu: 1.5 }] },
  ]);
  return started;
}

beforeAll(async () => {
  livePath = newPath();
  live = await record(livePath);
  offlinePath = newPath();
  const closed = await record(offlinePath);
  await closed.sink.close();
  offlineSha = sha256(offlinePath);
  const config = parseConfig({ path: offlinePath });
  if (!config.ok) expect.fail(config.status.message);
  const opened = await createReader(config.value, { clock: createSystemClock(), logger: createMemoryLogger(), dataDir: '/nonexistent' });
  if (!opened.ok) expect.fail(opened.status.message);
  offline = opened.value;
});

afterAll(async () => {
  await offline.close();
  await live.sink.close();
});

const TARGETS: readonly Target[] = [
  { name: "the sink's reader", reader: () => live.reader, dir: () => dirname(livePath) },
  { name: 'the offline reader', reader: () => offline, dir: () => dirname(offlinePath) },
];

it('spells its refusals as the sink does', () => {
  // The JSON holds messages as text: they must still be the sink's own.
  expect(CASES.filter((attack) => attack.refusal === ONLY_SELECT).length).toBeGreaterThan(10);
  expect(CASES.filter((attack) => attack.refusal === NO_PARAMETERS).length).toBeGreaterThan(2);
});

it('has a suite of at least 110 attacks', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(110);
  expect(CASES.filter((attack) => attack.refusal !== null).length).toBeGreaterThanOrEqual(110);
});

describe.each(TARGETS)('through $name', (target) => {
  it.each(CASES.map(({ group, sql, refusal }, index) => ({ index, group, sql, expected: refusal, title: sql.replace(/\s+/g, ' ').slice(0, 70) })))(
    '$group #$index: $title',
    async ({ sql, expected }) => {
    const dir = target.dir();
    const result = await target.reader().query({ sql: sqlFor(sql, dir) });
    if (expected === null) {
      expect(result.ok, result.ok ? '' : result.status.message).toBe(true);
      return;
    }
    expect(result.ok, `${sql} answered`).toBe(false);
    if (!result.ok) {
      expect(result.status).toMatchObject({ code: 'INVALID_ARGUMENT', source: 'duckdb', op: 'query' });
      expect(result.status.message).toContain(sqlFor(expected, dir));
      expect(result.status.message).not.toMatch(/\n/);
    }
    },
  );

  it.each(LEGITIMATE)('answers %s', async (sql) => {
    const result = await target.reader().query({ sql });
    expect(result.ok, result.ok ? '' : result.status.message).toBe(true);
  });

  it('answers the documented queries as of an instant and over a range', async () => {
    const reader = target.reader();
    expect(await count(reader, 'select count(*) from processes', { at: T0 + 3 * SECOND })).toBe(2);
    expect(await rowsOf(reader, { sql: 'select p.pid, s.rss from processes as p join process_stats as s using (host, pid) order by pid', at: T0 + 3 * SECOND })).toEqual([
      { pid: 1, rss: 100 },
      { pid: 2, rss: 200 },
    ]);
    expect(await count(reader, 'select count(*) from exits', { from: T0, to: T0 + 5 * SECOND })).toBe(1);
  });

  it('never throws for random SQL', async () => {
    const fragments = ['select', 'from', 'processes', 'history.processes', 'duckdb_settings', 'enable_logging', '(', ')', "'", '"', ';', ',', '*', '--', '/*',
      'with', 'as', 'x', 'union', 'lateral', 'pivot', 'describe', '$1', 'write_log', 'query', '->', 'lambda', '::', 'system.main.', 'from', '1'];
    const sqlish = fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.constantFrom(...fragments), { maxLength: 14 }).map((parts) => parts.join(' ')));
    await fc.assert(
      fc.asyncProperty(sqlish, async (sql) => {
        const result = await target.reader().query({ sql });
        if (result.ok) expect(Array.isArray(result.value.rows)).toBe(true);
        else expect(isStatus(result.status) && result.status.code !== 'OK').toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  it('refuses a refused call wherever it hides in a random expression', async () => {
    const hidden = REFUSED_FUNCTIONS.filter((name) => /^[a-z][a-z0-9_]*$/.test(name));
    const wrappers = [
      (e: string) => `abs(${e})`,
      (e: string) => `(${e} + 1)`,
      (e: string) => `coalesce(${e}, 1)`,
      (e: string) => `case when pid > 0 then ${e} end`,
      (e: string) => `(select ${e})`,
      (e: string) => `list_transform([1], x -> ${e})`,
      (e: string) => `[${e} for y in [1]]`,
      (e: string) => `cast(${e} as varchar)`,
      (e: string) => `(with q as (select ${e} as c) select c from q)`,
      (e: string) => `sum(${e}) over (partition by pid)`,
      (e: string) => `exists (select 1 from processes where ${e} is null)`,
    ];
    const expression = fc.tuple(fc.constantFrom(...hidden), fc.array(fc.integer({ min: 0, max: wrappers.length - 1 }), { maxLength: 6 }));
    await fc.assert(
      fc.asyncProperty(expression, async ([name, path]) => {
        const sql = `select ${path.reduce((inner, index) => wrappers[index]!(inner), `"${name}"(1)`)} from processes`;
        const result = await target.reader().query({ sql });
        expect(!result.ok && result.status.message, sql).toBe(fn(name));
      }),
      { numRuns: 60 },
    );
  });
});

describe('after the attacks', () => {
  it('the sink still writes and reads back', async () => {
    const { status } = await live.sink.write([{ table: 'exits', ts: T0 + 9 * SECOND, snapshot: false, rows: [{ pid: 77, code: 3 }] }]);
    expect(status.code, status.message).toBe('OK');
    expect(await rowsOf(live.reader, { sql: 'select pid, code from exits where pid = 77' })).toEqual([{ pid: 77, code: 3 }]);
  });

  it('left no file next to either store but the store and its WAL', () => {
    expect(readdirSync(dirname(livePath)).filter((name) => name !== 'vwatchd.db' && name !== 'vwatchd.db.wal')).toEqual([]);
    expect(readdirSync(dirname(offlinePath))).toEqual(['vwatchd.db']);
  });

  it('left the offline store byte-identical', async () => {
    await offline.close();
    expect(sha256(offlinePath)).toBe(offlineSha);
  });

  it('created no table or view, and the instance keeps external access off and its configuration locked', async () => {
    await live.sink.close();
    for (const path of [livePath, offlinePath]) {
      const config = parseConfig({ path });
      if (!config.ok) expect.fail(config.status.message);
      const opened = await openInstance(path, config.value, AccessMode.READ_ONLY);
      if (!opened.ok) expect.fail(opened.status.message);
      const connection = await opened.value.connect();
      try {
        const own = await connection.runAndReadAll(
          "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE NOT internal UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1",
        );
        expect(own.getRowsJS().map(([name]) => name)).toEqual([
          'history.exits',
          'history.os',
          'history.process_stats',
          'history.processes',
          'vw_meta.retention',
          'vw_meta.samples',
          'vw_meta.sessions',
          'vw_meta.store',
          'vw_meta.tables',
          'vw_meta.tiers',
          // The two physical tables of the metric table history.process_stats (layout 3).
          'vw_raw.process_stats',
          'vw_stage.process_stats',
        ]);
        const settings = await connection.runAndReadAll("SELECT current_setting('enable_external_access'), current_setting('lock_configuration')");
        expect(settings.getRowsJS()).toEqual([[false, true]]);
        await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/locked/i);
      } finally {
        connection.disconnectSync();
        opened.value.closeSync();
      }
    }
    expect(sha256(offlinePath)).toBe(offlineSha);
  });
});
