// `ps` against a real DuckDB store holding probe-procfs's real tables, asked through the
// store reader's samples and states (no SQL): CPU% from two consecutive samples, the lifetime average for a process with one sample, the identity
// valid at the sample, sorting, limits, and an instant before any sample. Then the whole
// CLI (runCli, offline backend) over a store whose command lines and host name carry
// terminal escapes, C1 controls and bidi overrides: nothing of them may reach the output raw.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import type { Row, Sink, StoreReader } from '@virtualeyes/core';
import { TABLES } from '@virtualeyes/probe-procfs';
import { createSink, parseConfig, type DuckDbConfig } from '@virtualeyes/sink-duckdb';
import { psRows, renderPs, rowObjects, runCli } from '../src/index.js';

/** The store's options as the loader would hand them over: validated and defaulted. */
function storeOptions(path: string): DuckDbConfig {
  const parsed = parseConfig({ path });
  if (!parsed.ok) throw new Error(parsed.status.message);
  return parsed.value;
}

const T0 = Date.parse('2026-11-22T05:00:00Z');
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const WINDOW = 5 * 60_000;

const identity = (pid: number, start: number, cmdline: string): Row => ({
  pid, start_time: start, ppid: 1, pgid: pid, sid: pid, uid: 0, gid: 0, user: 'root', comm: cmdline.split(' ')[0]!,
  cmdline, exe: '/bin/x', tty_nr: 0, kernel_thread: false,
});
const sample = (pid: number, start: number, utime: number, stime: number, rss: number): Row => ({
  pid, start_time: start, utime, stime, rss, vsize: rss * 4, threads: 1, state: 'S', nice: 0, minflt: 0, majflt: 0,
  read_bytes: null, write_bytes: null, read_chars: null, write_chars: null, voluntary_ctxt_switches: 0, nonvoluntary_ctxt_switches: 0,
});

describe('ps', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-ps-'));
  let sink: Sink;
  let reader: StoreReader;
  const startA = T0 - 10_000;
  const startC = T0 + 4000;

  beforeAll(async () => {
    // The store's clock reads an hour after the recording: every instant asked about is past.
    const created = createSink(storeOptions(join(dir, 'vwatchd.db')), createTestDeps({ clock: createFakeClock(T0 + 3_600_000) }));
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
    const result = await psRows(reader, { at, stalenessMs: WINDOW, sort, ...(limit === undefined ? {} : { limit }) });
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
    expect(lines[0]).toMatch(/^\s*PID\s+USER\s+%CPU\s+RSS\s+VSZ\s+THR\s+S\s+READ\/s\s+WRITE\/s\s+STARTED\s+COMMAND$/);
    // No IO counters recorded: the rates show '-'; the start is a date, not today.
    expect(lines[1]).toMatch(/^\s*100\s+root\s+50\.0\s+1\.0 MiB\s+4\.0 MiB\s+1\s+S\s+-\s+-\s+2026-11-22\s+busy --work$/);
    // Start times in local time or UTC, a time of day when the start is today.
    const utc = renderPs(await ps(T0 + 6000), { utc: true, now: T0 }).split('\n');
    expect(utc[1]).toMatch(/\s04:59:50\s+busy --work$/);
  });

  it('filters by pid, user and name, sorts by io, and shows the tree with a depth', async () => {
    const pids = async (request: Partial<Parameters<typeof psRows>[1]>): Promise<unknown[]> => {
      const result = await psRows(reader, { at: T0 + 6000, stalenessMs: WINDOW, sort: 'pid', ...request });
      if (!result.ok) throw new Error(result.status.message);
      return rowObjects(result.value).map((row) => row['pid']);
    };
    expect(await pids({ filter: { pids: [300, 100] } })).toEqual([100, 300]);
    expect(await pids({ filter: { user: 'root' } })).toEqual([100, 200, 300]);
    expect(await pids({ filter: { user: '0' } })).toEqual([100, 200, 300]);
    expect(await pids({ filter: { user: 'nobody' } })).toEqual([]);
    expect(await pids({ filter: { comm: 'bus' } })).toEqual([100]);
    expect(await pids({ filter: { comm: 'bus' + '*' } })).toEqual([100]);
    expect(await pids({ filter: { comm: '?dle' } })).toEqual([200]);
    // A glob matches the whole name; regex characters are literal.
    expect(await pids({ filter: { comm: 'bu*y' } })).toEqual([100]);
    expect(await pids({ filter: { comm: 'b.*' } })).toEqual([]);
    expect(await pids({ filter: { comm: 'bus', pids: [200] } })).toEqual([]);
    // No IO counters in this recording: the io order falls back to CPU.
    expect(await pids({ sort: 'io' })).toEqual(await pids({ sort: 'cpu' }));
    expect(await pids({ sort: 'io' })).toEqual([100, 300, 200]);
    const tree = await psRows(reader, { at: T0 + 6000, stalenessMs: WINDOW, sort: 'pid', tree: true });
    if (!tree.ok) throw new Error(tree.status.message);
    expect(tree.value.columns.at(-1)!.name).toBe('depth');
    // Their parent, pid 1, is not recorded: each is a root.
    expect(rowObjects(tree.value).map((row) => [row['pid'], row['depth']])).toEqual([[100, 0], [200, 0], [300, 0]]);
  });
});

describe('ps across a stop of the recorder', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-ps-stop-'));
  const start = T0 - 10_000;
  let reader: StoreReader;
  let sink: Sink;

  beforeAll(async () => {
    // One recording (samples at T0 and T0 + 5 s, stopped then), an outage, and a second one from T0 + 20 s.
    const clock = createFakeClock(T0);
    const first = createSink(storeOptions(join(dir, 'vwatchd.db')), createTestDeps({ clock }));
    if (!first.ok) throw new Error(first.status.message);
    expect((await first.value.start({ tables: TABLES })).code).toBe('OK');
    for (const [ts, utime] of [[T0, 1000], [T0 + 5000, 3500]] as const) {
      await clock.advance(ts - clock.now());
      const written = await first.value.write([
        { table: 'processes', ts, snapshot: true, rows: [identity(100, start, 'busy')] },
        { table: 'process_stats', ts, snapshot: true, rows: [sample(100, start, utime, 0, 1 << 20)] },
      ]);
      expect(written.status.code).toBe('OK');
    }
    // The recorder stops half a second after its last sample.
    await clock.advance(500);
    expect((await first.value.close()).code).toBe('OK');
    await clock.advance(14_500);
    const second = createSink(storeOptions(join(dir, 'vwatchd.db')), createTestDeps({ clock }));
    if (!second.ok) throw new Error(second.status.message);
    sink = second.value;
    expect((await sink.start({ tables: TABLES })).code).toBe('OK');
    const written = await sink.write([
      { table: 'processes', ts: T0 + 20_000, snapshot: true, rows: [identity(100, start, 'busy')] },
      { table: 'process_stats', ts: T0 + 20_000, snapshot: true, rows: [sample(100, start, 3800, 0, 1 << 20)] },
    ]);
    expect(written.status.code).toBe('OK');
    reader = sink.reader!()!;
  });

  afterAll(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never takes CPU% across the outage: the first sample after it gives the lifetime average', async () => {
    const result = await psRows(reader, { at: T0 + 21_000, stalenessMs: WINDOW, sort: 'pid' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // Across the outage it would be (3800 - 3500) / 15000 = 2 %; since the start, 3800 ms in 30 s.
    expect(rowObjects(result.value).map((row) => [row['pid'], row['cpu_pct'], row['cmdline']])).toEqual([[100, 12.7, 'busy']]);
  });

  it('still pairs the two samples inside the first recording, and shows nothing while stopped', async () => {
    const result = await psRows(reader, { at: T0 + 5200, stalenessMs: WINDOW, sort: 'pid' });
    expect(result.ok && rowObjects(result.value).map((row) => row['cpu_pct'])).toEqual([50]);
    const stopped = await psRows(reader, { at: T0 + 10_000, stalenessMs: WINDOW, sort: 'pid' });
    expect(stopped.ok && stopped.value.rows).toEqual([]);
  });
});

/** Raw controls, DEL, C1, bidi and zero-width characters, and lone surrogates: none may be printed raw. */
const FORBIDDEN = /[\x00-\x1f\x7f-\x9f\u061c\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]/;
/** The same, less the line feeds that end lines. */
const FORBIDDEN_IN_LINES = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]/;

describe('the CLI over hostile recorded text', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-hostile-'));
  const config = join(dir, 'vwatchd.conf');
  const at = new Date(T0 + 6000).toISOString();
  // What `exec -a $'\e]0;PWNED\a\e[2J' …` and friends leave in /proc/<pid>/cmdline and comm.
  const HOSTILE_CMDLINE = '\x1b]0;PWNED\x07\x1b[2J \x9b31m red \u202eexe.txt C:\\x41';
  const HOSTILE_COMM = '\x1b[2J\u202e\u200b';
  const HOST = 'evil\x1b[2Jhost\u202e';
  const SHOWN_CMDLINE = '\\e]0;PWNED\\x07\\e[2J \\u009b31m red \\u202eexe.txt C:\\\\x41';
  const SHOWN_COMM = '[\\e[2J\\u202e\\u200b]';

  /** Runs the CLI on this store; `--data-dir` and `--config` first, as a user would. */
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, '--config', config, '--socket', join(dir, 'none.sock'), ...args], {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      now: () => T0 + 3_600_000,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    // A store row cap of 3 shows which cap the "output cut" note names.
    writeFileSync(config, JSON.stringify({ sinks: [{ use: '@virtualeyes/sink-duckdb', options: { maxRows: 3 } }] }));
    const created = createSink(storeOptions(join(dir, 'vwatchd.db')), createTestDeps({ host: HOST, clock: createFakeClock(T0 + 3_600_000) }));
    if (!created.ok) throw new Error(created.status.message);
    const sink = created.value;
    expect((await sink.start({ tables: TABLES })).code).toBe('OK');
    const kernel = { ...identity(667, T0 - 5000, ''), comm: HOSTILE_COMM, kernel_thread: true };
    const processes = [identity(1, T0 - 20_000, 'init'), { ...identity(666, T0 - 5000, HOSTILE_CMDLINE), comm: HOSTILE_COMM }, kernel];
    const stats = (ts: number, cpu: number) => [sample(1, T0 - 20_000, 0, 0, 1 << 20), sample(666, T0 - 5000, cpu, 0, 8 << 20), sample(667, T0 - 5000, 0, 0, 0)];
    const written = await sink.write([
      { table: 'processes', ts: T0, snapshot: true, rows: processes },
      { table: 'process_stats', ts: T0, snapshot: true, rows: stats(T0, 100) },
      { table: 'processes', ts: T0 + 5000, snapshot: true, rows: processes },
      { table: 'process_stats', ts: T0 + 5000, snapshot: true, rows: stats(T0 + 5000, 2600) },
    ]);
    expect(written.status.code).toBe('OK');
    // DuckDB lets one process hold the file at a time: the CLI opens it read-only once this sink is gone.
    await sink.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ps and query say when no recording covers the instant asked about', async () => {
    const before = new Date(T0 - 3_600_000).toISOString();
    const ps = await cli('ps', '--at', before);
    expect(ps.code).toBe(1);
    expect(ps.err).toMatch(/^virtualeyes: NOT_FOUND: no recording at 2026-11-22T04:00:00Z; recordings cover 2026-11-22T\S+–\S+\n$/);
    const query = await cli('query', '--at', before, 'select pid from processes');
    expect(query.code).toBe(0);
    expect(query.err).toMatch(/^virtualeyes: no recording at 2026-11-22T04:00:00Z; recordings cover /);
    // An answer with rows, or about a recorded time, carries no such note.
    expect((await cli('query', '--at', at, 'select pid from processes')).err).toBe('');
  });

  it('ps shows command lines, command names and the host escaped, and aligns the escaped text', async () => {
    const { code, out, err } = await cli('ps', '--at', at, '--sort', 'pid');
    expect(code).toBe(0);
    expect(out).not.toMatch(FORBIDDEN_IN_LINES);
    expect(err).not.toMatch(FORBIDDEN_IN_LINES);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^\s*666\s+root\s+50\.0\s+8\.0 MiB\s+32\.0 MiB\s+1\s+S\s+\S+\s+(.*)$/);
    expect(lines[2]!.endsWith(`  ${SHOWN_CMDLINE}`)).toBe(true);
    expect(lines[3]!.endsWith(`  ${SHOWN_COMM}`)).toBe(true);
    // The COMMAND column starts at the same offset on every line: widths are those of the escaped text.
    const column = lines[0]!.indexOf('COMMAND');
    expect(lines.map((line) => line.slice(column))).toEqual(['COMMAND', 'init', SHOWN_CMDLINE, SHOWN_COMM]);
  });

  it('ps --format json and --json escape DEL, C1 and bidi too, and parse back to the recorded text', async () => {
    for (const args of [['--format', 'json'], ['--json']]) {
      const { code, out } = await cli('ps', '--at', at, '--sort', 'pid', ...args);
      expect(code).toBe(0);
      expect(out).not.toMatch(FORBIDDEN_IN_LINES);
      expect(out).toContain('\\u009b31m red \\u202eexe.txt');
      const rows = JSON.parse(out) as { pid: number; cmdline: string; comm: string; host: string }[];
      expect(rows.map((row) => [row.pid, row.cmdline, row.comm, row.host])).toEqual([
        [1, 'init', 'init', HOST],
        [666, HOSTILE_CMDLINE, HOSTILE_COMM, HOST],
        [667, '', HOSTILE_COMM, HOST],
      ]);
    }
  });

  it('ps --format csv keeps the data exact in quoted fields', async () => {
    const { code, out } = await cli('ps', '--at', at, '--sort', 'pid', '--format', 'csv');
    expect(code).toBe(0);
    const [header, ...rows] = out.trimEnd().split('\r\n');
    const cmdline = header!.split(',').indexOf('cmdline');
    expect(cmdline).toBeGreaterThan(0);
    expect(rows[1]!.startsWith(`"${HOST}",666,`)).toBe(true);
    expect(rows[1]).toContain(`,"${HOSTILE_COMM}","${HOSTILE_CMDLINE}",`);
  });

  it('query prints escaped cells and column names in tables, \\u escapes in JSON, exact quoted CSV', async () => {
    const sql = `select pid, cmdline as "${'\x1b[31m'}name\u202e" from processes where pid = 666`;
    const table = await cli('query', '--at', at, sql);
    expect(table.code).toBe(0);
    expect(table.out).not.toMatch(FORBIDDEN_IN_LINES);
    expect(table.out.split('\n')).toEqual([
      `pid  \\e[31mname\\u202e${' '.repeat(SHOWN_CMDLINE.length - '\\e[31mname\\u202e'.length)}`.trimEnd(),
      `666  ${SHOWN_CMDLINE}`,
      '',
    ]);

    const json = await cli('query', '--at', at, sql, '--json');
    expect(json.out).not.toMatch(FORBIDDEN_IN_LINES);
    expect(JSON.parse(json.out)).toEqual([{ pid: 666, ['\x1b[31mname\u202e']: HOSTILE_CMDLINE }]);

    const csv = await cli('query', '--at', at, sql, '--format', 'csv');
    expect(csv.out).toBe(`pid,"\x1b[31mname\u202e"\r\n666,"${HOSTILE_CMDLINE}"\r\n`);
  });

  it('escapes text that an error message quotes', async () => {
    // DuckDB quotes an identifier it cannot bind back in its error.
    const { code, out, err } = await cli('query', '--at', at, `select "${HOSTILE_CMDLINE}" from processes`);
    expect([code, out]).toEqual([2, '']);
    expect(err).toContain('\\e]0;PWNED');
    expect(err.trimEnd()).not.toMatch(FORBIDDEN);
  });

  it('tables and status print the recorded host escaped', async () => {
    const status = await cli('status');
    // No daemon runs here: status prints what the store holds and exits 3, as systemctl status does.
    expect(status.code).toBe(3);
    expect(status.out).toContain('hosts: evil\\e[2Jhost\\u202e');
    expect(status.out).not.toMatch(FORBIDDEN_IN_LINES);
    const json = await cli('status', '--json');
    expect(json.code).toBe(3);
    expect(json.out).not.toMatch(FORBIDDEN_IN_LINES);
    const offline = JSON.parse(json.out) as { running: boolean; store: { hosts: string[]; first: unknown; last: unknown; recordings: { from: unknown; to: unknown; lastWrite: unknown }[] } };
    expect(offline.running).toBe(false);
    expect(offline.store.hosts).toEqual([HOST]);
    // Instants are ISO-8601 UTC strings in every command's JSON, as in query's.
    expect([offline.store.first, offline.store.last]).toEqual([new Date(T0).toISOString(), expect.stringMatching(ISO_UTC)]);
    for (const recording of offline.store.recordings) expect(recording).toMatchObject({ from: expect.stringMatching(ISO_UTC), lastWrite: expect.stringMatching(ISO_UTC) });
    const tables = await cli('tables', '--format', 'json');
    expect(tables.code).toBe(0);
    expect(tables.out).not.toMatch(FORBIDDEN_IN_LINES);
    const listed = JSON.parse(tables.out) as { name: string; first: unknown; last: unknown; rows: number }[];
    expect(listed.find((table) => table.name === 'processes')).toMatchObject({ first: new Date(T0).toISOString(), last: expect.stringMatching(ISO_UTC), rows: expect.any(Number) });
  });

  it('names the row cap the store applied, not the one asked for', async () => {
    const { code, out, err } = await cli('query', '--max-rows', '1000000000', 'select * from range(10)', '--format', 'csv');
    expect(code).toBe(0);
    expect(out).toBe('range\r\n0\r\n1\r\n2\r\n');
    expect(err).toBe('virtualeyes: output cut at 3 rows (--max-rows)\n');
  });

  it('caps a long --timeout instead of refusing it', async () => {
    const { code, out, err } = await cli('query', '--timeout', '1h', 'select 42 as answer', '--json');
    expect([code, err]).toEqual([0, '']);
    expect(JSON.parse(out)).toEqual([{ answer: 42 }]);
  });

  it.each([
    [['ps', '--at', '-99999999999999d'], "cannot read time '-99999999999999d': it falls outside the years 1 to 9999"],
    [['query', '--at', '0000-06-01T00:00:00Z', 'select 1'], "cannot read time '0000-06-01T00:00:00Z': it falls outside the years 1 to 9999"],
    [['query', '--from', `${'9'.repeat(400)}s ago`, 'select 1'], `cannot read time '${'9'.repeat(400)}s ago': it falls outside the years 1 to 9999`],
    [['query', '--staleness', '99999999999999999999d', 'select 1'], "cannot read duration '99999999999999999999d': longer than 9999 years"],
  ])('refuses %j with one line and exit code 2', async (args, message) => {
    const { code, out, err } = await cli(...args);
    expect([code, out, err]).toEqual([2, '', `virtualeyes: ${message}\n`]);
  });

  it.each([['query'], ['tables'], ['ps'], ['status']])('%s has --help, --format and --json', async (command) => {
    const { code, out } = await cli(command, '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/-f, --format <format>/);
    expect(out).toMatch(/--json\s+the same as --format json/);
  });
});
