// `virtualeyes export` and `virtualeyes import` end to end, through runCli: a recording made
// through the real sink on a fake clock (probe-procfs's tables, forks and exits, a hostile command
// line, a stop of the recorder) is exported in each format from the file (no daemon), and through
// a real API server over a live store; each slice is imported into a clean data directory, and
// query --at (around `from`, the stop and `to`), query --from/--to, ps and diff answer there as
// on the recording. Then what a bad slice gets: one line, exit code 2, no store left behind.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import type { Batch, Row, Sink } from '@virtualeyes/core';
// The core tables (processes, process_stats, system_info, cpu…): what these fixtures record.
import { CORE_TABLES as TABLES } from '@virtualeyes/probe-procfs';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { ApiRoute, callDaemon } from '@virtualeyes/protocol';
import { startApiServer, type ApiServer } from '@virtualeyes/vwatchd';
import { runCli } from '../src/index.js';

const T0 = Date.parse('2026-11-22T05:00:00Z');
const MINUTE = 60_000;
const STEP = 10_000;
/** The recorder runs from 0 to 20 min 5 s and from 22 min to 30 min; the slice is [18 min, 26 min]. */
const STOP = T0 + 20 * MINUTE + 5000;
const RESTART = T0 + 22 * MINUTE;
const END = T0 + 30 * MINUTE;
const FROM = T0 + 18 * MINUTE;
const TO = T0 + 26 * MINUTE;
const HOSTILE = '\x1b]0;PWNED\x07 "a, b"\r\n\u202eexe.txt \\x41';
const iso = (ms: number): string => new Date(ms).toISOString();
/** Time limit of a test that asks each store some forty questions, each a CLI run opening the store. */
const LONG = 240_000;

const root = mkdtempSync(join(tmpdir(), 've-slice-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = (name: string): string => join(root, `${name}-${(dirs += 1)}`);

const identity = (pid: number, start: number, cmdline: string): Row => ({
  pid, start_time: start, ppid: 1, pgid: pid, sid: pid, uid: 0, gid: 0, user: 'root', comm: cmdline.split(' ')[0]!.slice(0, 15),
  cmdline, exe: '/bin/x', tty_nr: 0, kernel_thread: false,
});
const sample = (pid: number, start: number, utime: number, rss: number): Row => ({
  pid, start_time: start, utime, stime: 0, rss, vsize: rss * 4, threads: 1, state: 'S', nice: 0, minflt: 0, majflt: 0,
  read_bytes: null, write_bytes: null, read_chars: null, write_chars: null, voluntary_ctxt_switches: 0, nonvoluntary_ctxt_switches: 0,
});

/** The processes alive at `ts`: init, a busy one, an idle one, the hostile one, and short-lived ones coming and going. */
function processesAt(ts: number): { pid: number; start: number; cmdline: string; utime: number; rss: number }[] {
  const minute = (ts - T0) / MINUTE;
  const list = [
    { pid: 1, start: T0 - 3_600_000, cmdline: 'init', utime: 100, rss: 1 << 20 },
    { pid: 100, start: T0 - 600_000, cmdline: 'busy --work', utime: 1000 + (ts - T0) / 20, rss: (2 << 20) + Math.floor(minute) * 4096 },
    { pid: 200, start: T0 - 600_000, cmdline: 'idle', utime: 5, rss: 3 << 20 },
    { pid: 666, start: T0 - 60_000, cmdline: HOSTILE, utime: 7, rss: 4 << 20 },
  ];
  // One child every three minutes, each living 100 s; one of them straddles the stop.
  for (let start = 0; start < 30; start += 3) {
    const born = T0 + start * MINUTE + 15_000;
    if (ts >= born && ts < born + 100_000) list.push({ pid: 1000 + start, start: born, cmdline: `child ${start}`, utime: (ts - born) / 100, rss: 1 << 19 });
  }
  return list;
}

function batchesAt(ts: number): Batch[] {
  const live = processesAt(ts);
  return [
    { table: 'processes', ts, snapshot: true, rows: live.map((p) => identity(p.pid, p.start, p.cmdline)) },
    { table: 'process_stats', ts, snapshot: true, rows: live.map((p) => sample(p.pid, p.start, Math.floor(p.utime), p.rss)) },
  ];
}

/** Records into `dir` through the real sink on a fake clock; the second run is left open when `live`. */
async function record(dir: string, live: boolean): Promise<Sink | undefined> {
  const clock = createFakeClock(T0);
  const options = parseConfig({ path: join(dir, 'vwatchd.db'), keyframeMs: MINUTE });
  if (!options.ok) throw new Error(options.status.message);
  const open = async (): Promise<Sink> => {
    const created = createSink(options.value, createTestDeps({ clock, host: 'vm', dataDir: dir }));
    if (!created.ok) throw new Error(created.status.message);
    expect((await created.value.start({ tables: TABLES })).code).toBe('OK');
    return created.value;
  };
  const first = await open();
  for (let ts = T0; ts < STOP; ts += STEP) expect((await first.write(batchesAt(ts))).status.code).toBe('OK');
  await clock.advance(STOP - clock.now());
  expect((await first.close()).code).toBe('OK');
  await clock.advance(RESTART - clock.now());
  const second = await open();
  for (let ts = RESTART; ts <= END; ts += STEP) expect((await second.write(batchesAt(ts))).status.code).toBe('OK');
  await clock.advance(END + MINUTE - clock.now());
  if (live) return second;
  expect((await second.close()).code).toBe('OK');
  return undefined;
}

/** Runs the CLI; the clock reads an hour after the recording. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'virtualeyes', ...args], { out: (text) => out.push(text), err: (text) => err.push(text), now: () => END + 3_600_000 });
  return { code, out: out.join(''), err: err.join('') };
}

/** The CLI on a data directory with no daemon (a socket nobody listens on). */
const offline = (dataDir: string) => (...args: string[]) => cli('--data-dir', dataDir, '--socket', join(dataDir, 'none.sock'), ...args);

/** Questions whose answers must be the same on the recording and on an imported slice of it; `few` asks at fewer instants. */
function questions(few: boolean): string[][] {
  // From, just after it, around the stop (20:05) and the restart (22:00), and `to`.
  const all = [0, 500, 2 * MINUTE, 2 * MINUTE + 5000, 2 * MINUTE + 6000, 4 * MINUTE, 4 * MINUTE + 500, 7 * MINUTE, 8 * MINUTE];
  const instants = (few ? [0, 2 * MINUTE + 5000, 4 * MINUTE + 500, 8 * MINUTE] : all).map((ms) => iso(FROM + ms));
  const asked: string[][] = [];
  for (const at of instants) {
    asked.push(['query', '--json', '--at', at, 'select * from process_stats order by host, pid, start_time']);
    asked.push(['query', '--json', '--at', at, 'select * from processes order by host, pid, start_time']);
    asked.push(['query', '--json', '--at', at, '--staleness', '30s', 'select pid, rss, _changed_at from process_stats order by pid']);
    asked.push(['ps', '--json', '--at', at, '--sort', 'pid']);
    // The slice keeps which columns are counters, so its rates views exist and agree.
    asked.push(['query', '--json', '--at', at, 'select * from process_rates order by host, pid, start_time']);
  }
  for (const [from, to] of [
    [FROM, TO],
    [FROM + MINUTE, FROM + 5 * MINUTE],
  ] as const) {
    asked.push(['query', '--json', '--from', iso(from), '--to', iso(to), 'select * from process_stats order by all']);
    asked.push(['query', '--json', '--from', iso(from), '--to', iso(to), 'select * from processes order by all']);
    asked.push(['diff', '--json', '--from', iso(from), '--to', iso(to)]);
    asked.push(['query', '--json', '--from', iso(from), '--to', iso(to), 'select * from cpu_rates order by all']);
  }
  return asked;
}

/**
 * Asks every question of both, expecting the same output and exit code, and the same notes on
 * stderr unless `live` (a running daemon says a recording goes on until now; its slice, that it
 * ended at its last write). Returns how many answers had rows.
 */
async function expectSameAnswers(recording: (...args: string[]) => ReturnType<typeof cli>, imported: (...args: string[]) => ReturnType<typeof cli>, few: boolean, live = false): Promise<number> {
  let withRows = 0;
  for (const args of questions(few)) {
    const [a, b] = [await recording(...args), await imported(...args)];
    if (live) expect({ code: b.code, out: b.out }, args.join(' ')).toEqual({ code: a.code, out: a.out });
    else expect(b, args.join(' ')).toEqual(a);
    if (a.out.length > 10) withRows += 1;
  }
  return withRows;
}

describe('export and import from the file', () => {
  const data = newDir('recording');
  const recording = offline(data);

  beforeAll(async () => {
    await record(data, false);
  });

  it.each(['csv', 'json', 'parquet'])('exports a %s slice that an import answers every question inside it with, as the recording does', async (format) => {
    const out = newDir(`slice-${format}`);
    const exported = await recording('export', '--from', iso(FROM), '--to', iso(TO), '--format', format, '-o', out, '--json', '--page-rows', '50');
    expect(exported.code).toBe(0);
    // Parts of more than one page say how far they got, on stderr; nothing else is said.
    expect(exported.err).toMatch(/^virtualeyes: process_stats: 50 rows so far \(page 1\)$/m);
    expect(exported.err).toMatch(/^(virtualeyes: \S+: \d+ rows so far \(page \d+\)\n)+$/);
    const summary = JSON.parse(exported.out) as { files: { file: string; rows: number }[]; rows: number; hosts: string[]; from: string; to: string };
    const extension = format === 'json' ? 'jsonl' : format;
    expect(summary.files.map((file) => file.file)).toEqual([
      `vw_meta.sessions.${extension}`,
      `vw_meta.samples.${extension}`,
      ...['cpu', 'load', 'memory', 'process_sched', 'process_stats', 'processes', 'system_info'].map((table) => `${table}.${extension}`),
      'manifest.json',
    ]);
    expect([summary.hosts, summary.from, summary.to]).toEqual([['vm'], iso(FROM), iso(TO)]);
    // Private: the directory 0750, every file 0640.
    expect(statSync(out).mode & 0o777).toBe(0o750);
    for (const file of readdirSync(out)) expect([file, statSync(join(out, file)).mode & 0o777]).toEqual([file, 0o640]);

    const target = newDir(`imported-${format}`);
    const imported = await cli('import', out, '--data-dir', target);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toContain(`imported ${summary.rows} rows of 9 tables into ${join(target, 'vwatchd.db')}`);
    expect(imported.out).toContain(`virtualeyes --data-dir ${target} query --at ${iso(TO)} 'select count(*) from processes'`);
    expect(statSync(target).mode & 0o777).toBe(0o750);
    expect(statSync(join(target, 'vwatchd.db')).mode & 0o777).toBe(0o640);
    // Every question for the default format; fewer for the others, whose values the store's own tests round-trip too.
    expect(await expectSameAnswers(recording, offline(target), format !== 'csv')).toBeGreaterThan(format === 'csv' ? 30 : 15);
    // The slice holds the window and its lookback, not the whole recording.
    const count = async (run: typeof recording) => (JSON.parse((await run('query', '--json', 'select count(*) as n from history.process_stats')).out) as { n: number }[])[0]!.n;
    expect(await count(offline(target))).toBeLessThan(await count(recording));
  }, LONG);

  it('writes a manifest that says what every file, table and column is, and CSV that keeps recorded text exact', async () => {
    const out = newDir('slice-manifest');
    const exported = await recording('export', '--from', iso(FROM), '--to', iso(TO), '-t', 'processes,process_stats', '-o', out);
    expect(exported.code).toBe(0);
    const lines = exported.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^slice of ${iso(FROM)} to ${iso(TO)} \\(csv, \\d+ rows, hosts vm\\) in ${out}$`));
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['FILE', 'vw_meta.sessions.csv', 'vw_meta.samples.csv', 'process_stats.csv', 'processes.csv', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      format: string; formatVersion: number; from: string; to: string; stalenessMs: number; keyframeMs: number; hosts: string[]; encoding: string;
      tables: { name: string; kind: string; key: string[]; file: string; format: string; rows: number; sha256: string; semantics: string; columns: { name: string; type: string; unit?: string }[] }[];
    };
    expect([manifest.format, manifest.formatVersion, manifest.from, manifest.to, manifest.stalenessMs, manifest.keyframeMs, manifest.hosts]).toEqual(['virtualeyes-slice', 1, iso(FROM), iso(TO), 300_000, MINUTE, ['vm']]);
    expect(manifest.encoding).toContain('NULL is an empty unquoted field');
    expect(manifest.tables.map((table) => [table.name, table.kind, table.key, table.file, table.format])).toEqual([
      ['vw_meta.sessions', 'sessions', [], 'vw_meta.sessions.csv', 'csv'],
      ['vw_meta.samples', 'samples', [], 'vw_meta.samples.csv', 'csv'],
      ['process_stats', 'metric', ['pid', 'start_time'], 'process_stats.csv', 'csv'],
      ['processes', 'state', ['pid', 'start_time'], 'processes.csv', 'csv'],
    ]);
    const stats = manifest.tables[2]!;
    expect(stats.semantics).toContain("holds the entity's values from its ts until the entity's next row");
    expect(stats.columns.find((column) => column.name === 'rss')).toMatchObject({ type: 'int64', unit: 'bytes' });
    expect(stats.columns.at(-1)).toMatchObject({ name: '_gone', type: 'bool' });
    for (const table of manifest.tables) {
      const bytes = readFileSync(join(out, table.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(table.sha256);
      // A line per row after the header, less the line break inside each hostile command line.
      const text = bytes.toString('utf8');
      expect(text.split('\r\n').length - 2 - (text.split(HOSTILE.replace(/"/g, '""')).length - 1)).toBe(table.rows);
    }
    // The hostile command line is one quoted field, raw: CSV is for programs and keeps the data exact.
    const csv = readFileSync(join(out, 'processes.csv'), 'utf8');
    expect(csv).toContain(`"${HOSTILE.replace(/"/g, '""')}"`);
    // An empty text and a NULL stay apart: "" against nothing.
    expect(csv.split('\r\n')[0]).toBe('host,valid_from,valid_to,pid,start_time,ppid,pgid,sid,uid,gid,user,comm,cmdline,exe,tty_nr,kernel_thread');
    expect(readFileSync(join(out, 'process_stats.csv'), 'utf8')).toMatch(/,,,,/);
  });

  it('answers --help for both commands', async () => {
    const exportHelp = await cli('export', '--help');
    expect(exportHelp.code).toBe(0);
    expect(exportHelp.out).toContain('--format <format>');
    expect(exportHelp.out).toContain('virtualeyes import DIR --data-dir NEW');
    const importHelp = await cli('import', '--help');
    expect(importHelp.code).toBe(0);
    expect(importHelp.out).toContain('Usage: virtualeyes import [options] <dir>');
  });

  describe('a bad slice: one line, exit code 2, no store', () => {
    let good: string;
    beforeAll(async () => {
      good = newDir('slice-good');
      expect((await recording('export', '--from', iso(FROM), '--to', iso(TO), '-t', 'processes', 'process_stats', '-o', good)).code).toBe(0);
    });

    /** A copy of the good slice, changed by `change`. */
    const spoiled = (change: (dir: string, manifest: Record<string, unknown> & { tables: Record<string, unknown>[] }) => void): string => {
      const dir = newDir('slice-bad');
      mkdirSync(dir);
      for (const file of readdirSync(good)) copyFileSync(join(good, file), join(dir, file));
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown> & { tables: Record<string, unknown>[] };
      change(dir, manifest);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      return dir;
    };
    /** Rewrites a file and makes the manifest agree on its size and hash, so the content itself is what is checked. */
    const rewrite = (dir: string, manifest: { tables: Record<string, unknown>[] }, file: string, text: string): void => {
      writeFileSync(join(dir, file), text);
      const table = manifest.tables.find((entry) => entry['file'] === file)!;
      table['bytes'] = Buffer.byteLength(text);
      table['sha256'] = createHash('sha256').update(text).digest('hex');
    };
    const statsCsv = (): string => readFileSync(join(good, 'process_stats.csv'), 'utf8');

    it.each([
      ['an unknown format version', (_dir: string, manifest: Record<string, unknown>) => (manifest['formatVersion'] = 2), 'format version 2; this virtualeyes reads slices of format version 1'],
      ['a file outside the slice', (_dir: string, manifest: { tables: Record<string, unknown>[] }) => (manifest.tables[2]!['file'] = '../../etc/passwd'), 'names the file "../../etc/passwd", which is not a plain name'],
      ['a file named after another table', (_dir: string, manifest: { tables: Record<string, unknown>[] }) => (manifest.tables[2]!['file'] = 'processes.csv'), 'names file processes.csv for table process_stats'],
      ['a manifest missing a field', (_dir: string, manifest: Record<string, unknown>) => delete manifest['to'], '$.to: is required'],
      ['a column of an unknown type', (_dir: string, manifest: { tables: { columns: Record<string, unknown>[] }[] }) => (manifest.tables[2]!.columns[3]!['type'] = 'uuid'), '$.tables[2].columns[3].type: must be one of'],
      ['a truncated file', (dir: string) => writeFileSync(join(dir, 'process_stats.csv'), statsCsv().slice(0, 500)), 'names process_stats.csv of'],
      ['a file cut in its last line', (dir: string, manifest: { tables: Record<string, unknown>[] }) => rewrite(dir, manifest, 'process_stats.csv', statsCsv().slice(0, -7)), 'process_stats.csv: line'],
      ['a file cut inside a quoted field', (dir: string, manifest: { tables: Record<string, unknown>[] }) => {
        const text = readFileSync(join(dir, 'processes.csv'), 'utf8');
        rewrite(dir, manifest, 'processes.csv', text.slice(0, text.indexOf('PWNED')));
      }, 'a quoted field never ends (the file is cut short?)'],
      ['a file with rows missing', (dir: string, manifest: { tables: Record<string, unknown>[] }) => rewrite(dir, manifest, 'process_stats.csv', statsCsv().split('\r\n').slice(0, 3).join('\r\n') + '\r\n'), 'holds 2 rows, the manifest says'],
      ['a value of the wrong type', (dir: string, manifest: { tables: Record<string, unknown>[] }) => rewrite(dir, manifest, 'process_stats.csv', statsCsv().replace(/\r\nvm,([^,]+),1,/, '\r\nvm,$1,one,')), 'process_stats: row 1: pid should be a 32-bit integer, got "one"'],
      ['a time that is not one', (dir: string, manifest: { tables: Record<string, unknown>[] }) => rewrite(dir, manifest, 'process_stats.csv', statsCsv().replace(/\r\nvm,[^,]+,/, '\r\nvm,yesterday,')), 'ts should be an ISO-8601 UTC time'],
      ['a file changed behind the manifest', (dir: string) => writeFileSync(join(dir, 'process_stats.csv'), statsCsv().replace('vm,', 'xy,')), 'does not match its SHA-256'],
    ] as const)('refuses %s', async (_what, change, message) => {
      const dir = spoiled(change as (dir: string, manifest: Record<string, unknown> & { tables: Record<string, unknown>[] }) => void);
      const before = readdirSync(dir).sort();
      const target = newDir('target-bad');
      const result = await cli('import', dir, '--data-dir', target);
      expect(result.code).toBe(2);
      expect(result.out).toBe('');
      expect(result.err.split('\n')).toHaveLength(2);
      expect(result.err).toMatch(/^virtualeyes: /);
      expect(result.err).toContain(message);
      expect(result.err).not.toMatch(/\n\s+at /);
      // Nothing was written: not in the slice, and no store (nor directory) at the target.
      expect(readdirSync(dir).sort()).toEqual(before);
      expect(() => statSync(join(target, 'vwatchd.db'))).toThrow();
    });

    it('refuses a manifest that is not JSON, a directory without one, and a data directory that holds a store', async () => {
      const dir = spoiled(() => undefined);
      writeFileSync(join(dir, 'manifest.json'), '{"formatVersion": 1, "tables": [');
      const notJson = await cli('import', dir, '--data-dir', newDir('target-bad'));
      expect([notJson.code, notJson.err]).toEqual([2, expect.stringMatching(/^virtualeyes: \S+manifest\.json: is not JSON \(.*\)\n$/)]);
      const empty = newDir('empty');
      mkdirSync(empty);
      const none = await cli('import', empty, '--data-dir', newDir('target-bad'));
      expect([none.code, none.err]).toEqual([2, `virtualeyes: ${join(empty, 'manifest.json')}: not found; ${empty} is not a slice directory\n`]);
      const occupied = await cli('import', good, '--data-dir', data);
      expect(occupied.code).toBe(2);
      expect(occupied.err).toBe(`virtualeyes: ${join(data, 'vwatchd.db')} already holds a store; import into a new or empty --data-dir\n`);
      // The recording is untouched and still answers.
      expect((await recording('query', '--json', 'select count(*) as n from vw_meta.sessions')).out).toContain('"n": 2');
    });

    it('refuses an export into a directory that is not empty, and one of a range in the future', async () => {
      const full = await recording('export', '--from', iso(FROM), '-o', good);
      expect([full.code, full.err]).toEqual([2, `virtualeyes: ${good} is not empty; export into a new or empty directory\n`]);
      const future = await recording('export', '--from', '2099-01-01T00:00:00Z', '--to', '2099-01-02T00:00:00Z', '-o', newDir('future'));
      expect([future.code, future.err]).toEqual([2, 'virtualeyes: from is in the future; the recording ends now\n']);
    });
  });
});

describe('export through a running daemon', () => {
  const data = newDir('live');
  const socket = join(data, 'vwatchd.sock');
  let sink: Sink;
  let server: ApiServer;
  let requests = 0;

  beforeAll(async () => {
    sink = (await record(data, true))!;
    const listening = await startApiServer(socket, {
      reader: () => sink.reader?.(),
      starting: () => false,
      logger: createTestDeps().logger,
      version: '9.9.9',
      status: () => ({ version: '9.9.9', pid: process.pid, configSource: 'test', dataDir: data, socket, agent: {} as never }),
      requests: (inFlight) => {
        if (inFlight > 0) requests += 1;
      },
    });
    if (!listening.ok) throw new Error(listening.status.message);
    server = listening.value;
  });
  afterAll(async () => {
    await server.close();
    await sink.close();
  });

  it('pages the slice over the API and writes it here; its import answers as the daemon does', async () => {
    const daemon = (...args: string[]) => cli('--data-dir', data, '--socket', socket, ...args);
    const out = newDir('slice-live');
    const before = requests;
    const exported = await daemon('export', '--from', iso(FROM), '--to', iso(TO), '--format', 'parquet', '-o', out, '--page-rows', '20');
    expect(exported.code).toBe(0);
    // A page per 20 rows: many requests, and progress on stderr for the parts that needed more than one.
    expect(requests - before).toBeGreaterThan(20);
    expect(exported.err).toMatch(/^virtualeyes: process_stats: 20 rows so far \(page 1\)$/m);
    const target = newDir('imported-live');
    expect((await cli('import', out, '--data-dir', target)).code).toBe(0);
    expect(await expectSameAnswers(daemon, offline(target), true, true)).toBeGreaterThan(15);
  }, LONG);

  it('refuses pages the schema does not allow before the store sees them, and parts the slice does not have', async () => {
    const scope = { from: FROM, to: TO, stalenessMs: 300_000, keyframeMs: MINUTE, tables: ['processes'] };
    for (const [body, path] of [
      [{ scope, part: 'processes; DROP TABLE history.processes' }, '$.part'],
      [{ scope, part: 'processes', cursor: '../1' }, '$.cursor'],
      [{ scope: { ...scope, tables: ['x"y'] }, part: 'processes' }, '$.scope.tables[0]'],
      [{ part: 'processes' }, '$.scope'],
    ] as const) {
      const refused = await callDaemon<unknown>(socket, 'POST', ApiRoute.SLICE, body);
      expect(refused.ok ? 'OK' : refused.status.code).toBe('INVALID_ARGUMENT');
      expect(refused.ok ? '' : refused.status.message).toContain(path);
    }
    const absent = await callDaemon<unknown>(socket, 'POST', ApiRoute.SLICE, { scope, part: 'process_stats' });
    expect(absent.ok ? 'OK' : absent.status.message).toBe("'process_stats' is not a part of this slice");
    const planned = await callDaemon<{ scope: { to: number } }>(socket, 'POST', ApiRoute.SLICE_PLAN, { from: FROM, to: FROM + 2 * 86_400_000 });
    // A plan of a live store ends at the end of its recording: now (the store's clock, a minute after the last write).
    expect(planned.ok && planned.value.scope.to).toBe(END + MINUTE);
  });
});
