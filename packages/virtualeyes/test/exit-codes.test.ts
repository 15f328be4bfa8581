// The exit codes: the table in docs/status-codes.md against the ExitCode constants of both
// programs, and each code of `virtualeyes` earned once by the real CLI (runCli) over a real
// DuckDB store file, with no daemon running.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import { TABLES } from '@virtualeyes/probe-procfs';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { ExitCode, runCli } from '../src/index.js';

const T0 = Date.parse('2026-11-22T05:00:00Z');
const DOC = new URL('../../../docs/status-codes.md', import.meta.url);
/** vwatchd's ExitCode, read from its source (this package does not depend on the daemon). */
const DAEMON_SOURCE = new URL('../../vwatchd/src/daemon.ts', import.meta.url);

function daemonExitCodes(): number[] {
  const body = /export const ExitCode = \{([^}]*)\}/.exec(readFileSync(DAEMON_SOURCE, 'utf8'))?.[1] ?? '';
  return [...body.matchAll(/^\s*[A-Z_]+: (\d+),/gm)].map((match) => Number(match[1]));
}

/** The rows of the doc's exit code table: program and code. */
function documented(): [string, number][] {
  const section = readFileSync(DOC, 'utf8').split('## Exit codes')[1] ?? '';
  return [...section.matchAll(/^\| `(virtualeyes|vwatchd)` \| (\d+) \|/gm)].map((match) => [match[1]!, Number(match[2])]);
}

describe('exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-exit-'));
  const empty = mkdtempSync(join(tmpdir(), 've-exit-empty-'));
  const config = join(dir, 'vwatchd.json');

  const cli = async (dataDir: string, ...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dataDir, '--config', config, ...args], {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      now: () => T0 + 60_000,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    writeFileSync(config, JSON.stringify({}));
    const parsed = parseConfig({ path: join(dir, 'vwatchd.db') });
    if (!parsed.ok) throw new Error(parsed.status.message);
    const created = createSink(parsed.value, createTestDeps({ clock: createFakeClock(T0 + 60_000) }));
    if (!created.ok) throw new Error(created.status.message);
    expect((await created.value.start({ tables: TABLES })).code).toBe('OK');
    const row = { pid: 1, start_time: T0 - 1000, ppid: 0, pgid: 1, sid: 1, uid: 0, gid: 0, user: 'root', comm: 'init', cmdline: 'init', exe: null, tty_nr: 0, kernel_thread: false };
    expect((await created.value.write([{ table: 'processes', ts: T0, snapshot: true, rows: [row] }])).status.code).toBe('OK');
    expect((await created.value.close()).code).toBe('OK');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('documents exactly the codes each program defines', () => {
    const rows = documented();
    expect(rows.filter(([program]) => program === 'virtualeyes').map(([, code]) => code)).toEqual(Object.values(ExitCode).sort());
    expect(rows.filter(([program]) => program === 'vwatchd').map(([, code]) => code)).toEqual(daemonExitCodes().sort());
    expect(daemonExitCodes().length).toBeGreaterThan(2);
  });

  it.each([
    ['an answer', ExitCode.OK, ['query', 'select count(*) from processes'], ''],
    ['an empty answer', ExitCode.OK, ['query', 'select * from processes where pid = 2'], ''],
    ['no recording at the data directory', ExitCode.FAILURE, ['query', 'select 1'], 'vwatchd is not running'],
    ['an unknown option', ExitCode.USAGE, ['query', '--nope', 'select 1'], "unknown option '--nope'"],
    ['a time it cannot read', ExitCode.USAGE, ['ps', '--at', 'teatime'], "cannot read time 'teatime': expected ISO-8601"],
    ['a duration it cannot read', ExitCode.USAGE, ['query', '--at', 'now', '--staleness', 'soon', 'select 1'], "cannot read duration 'soon': expected a duration"],
    ['an empty statement', ExitCode.USAGE, ['query', '  '], 'the SQL statement is empty'],
    ['a refused statement', ExitCode.USAGE, ['query', "select * from read_csv('/etc/passwd')"], 'function read_csv is not allowed in queries'],
    ['an unknown table', ExitCode.USAGE, ['query', 'select * from nosuch'], 'not a recorded table: the recorded tables are '],
    ['status without a daemon', ExitCode.NOT_RUNNING, ['status'], ''],
    ['status without a daemon or a store', ExitCode.NOT_RUNNING, ['status'], 'vwatchd is not running'],
  ] as const)('%s: exit %i', async (what, code, args, message) => {
    const { code: exit, err } = await cli(what.includes('or a store') || what.includes('no recording') ? empty : dir, ...args);
    expect([exit, err.includes(message)], err).toEqual([code, true]);
    // Every error is one line.
    expect(err.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('takes a staleness of 0 and a time of day', async () => {
    expect((await cli(dir, 'query', '--at', 'now', '--staleness', '0', 'select 1')).code).toBe(ExitCode.OK);
    expect((await cli(dir, 'query', '--at', '05:00', 'select 1')).code).toBe(ExitCode.OK);
  });

  it('tables: one line per table for people, the columns of the tables named, --brief in every format', async () => {
    const list = await cli(dir, 'tables', '--utc');
    expect(list.code).toBe(0);
    // Local time for people (UTC with --utc), the zone in the header.
    expect(list.out).toMatch(/^TABLE +KIND +KEY +ROWS +FIRST \(UTC\) +LAST \(UTC\) +DESCRIPTION$/m);
    expect(list.out).toMatch(/^processes +state +pid, start_time +1 +2026-11-22 05:00:00\.000 /m);
    expect(list.out).not.toMatch(/^COLUMN/m);
    expect(list.err).toContain('virtualeyes tables NAME');
    const named = await cli(dir, 'tables', 'processes');
    expect(named.out.match(/^COLUMN/gm)).toHaveLength(1);
    expect(named.out).toMatch(/^cmdline +text +Arguments/m);
    const csv = (await cli(dir, 'tables', '--brief', '--format', 'csv')).out.split('\r\n');
    expect(csv[0]).toBe('table,kind,key,rows,first,last,description');
    expect(csv.find((line) => line.startsWith('processes,'))).toMatch(/^processes,state,pid start_time,1,2026-11-22T05:00:00\.000Z,/);
    const json = JSON.parse((await cli(dir, 'tables', 'processes', '--json')).out) as { name: string; columns: unknown[] }[];
    expect(json.map((table) => table.name)).toEqual(['processes']);
    expect(json[0]!.columns.length).toBeGreaterThan(5);
    const unknown = await cli(dir, 'tables', 'proceses');
    expect([unknown.code, unknown.err]).toEqual([ExitCode.USAGE, expect.stringMatching(/^virtualeyes: no recorded table proceses; the recorded tables are .*processes/)]);
  });
});
