// diff's classification on hand-written versions, as a store's `versions` answer holds them:
// appeared, disappeared, came and went, changed (with several versions, or split by a recorder
// stop without a change), the boundaries of "valid at", several hosts, keyless and multi-column
// keys; then the rendering for people and the notes about an incomplete or empty recording.
// Last, the whole CLI (runCli, offline) over a real DuckDB store of probe-procfs's tables in
// which processes start, end, come and go, and change, some with hostile text and host name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, createTestDeps } from '@virtualeyes/core/testing';
import type { Cell, QueryResult, Row, StoreReader } from '@virtualeyes/core';
// The core tables (processes, process_stats, system_info, cpu…): what these fixtures record.
import { CORE_TABLES as TABLES } from '@virtualeyes/probe-procfs';
import { createSink, parseConfig } from '@virtualeyes/sink-duckdb';
import { diffNotes, diffTables, diffVersions, renderDiff, runCli, type DiffResult, type TableDiff } from '../src/index.js';

/** renderDiff's times in UTC, whatever zone the test runs in. */
const UTC = { utc: true } as const;
/** An ISO instant as the table output shows it in UTC: `2026-11-22 05:00:02.000`. */
const shown = (iso: string): string => iso.replace('T', ' ').replace('Z', '');

const T0 = Date.parse('2026-11-22T05:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const A = T0 + 2000;
const B = T0 + 12_000;

/** A versions answer: the store's host and validity columns, then the table's own. */
function versions(columns: readonly string[], rows: readonly (readonly Cell[])[], truncated = false): QueryResult {
  return {
    columns: ['host', 'valid_from', 'valid_to', ...columns].map((name) => ({ name, type: 'VARCHAR' })),
    rows,
    truncated,
    elapsedMs: 0,
  };
}

const PROCESSES = { name: 'processes', key: ['pid', 'start_time'] };
const START = at(-100);
/** A process version on host `vm`: valid from `from` to `to` seconds after T0 (null: still valid). */
const proc = (pid: number, from: number, to: number | null, cmdline: string, comm = cmdline.split(' ')[0]!): Cell[] => [
  'vm', at(from), to === null ? null : at(to), pid, START, comm, cmdline,
];
const PROC_COLUMNS = ['pid', 'start_time', 'comm', 'cmdline'];

describe('diffVersions', () => {
  const diff = diffVersions(
    PROCESSES,
    versions(PROC_COLUMNS, [
      proc(1, 0, 5, '/sbin/init', 'init'),
      proc(1, 5, null, '/lib/systemd/systemd', 'systemd'),
      proc(17, 0, 10, 'cron'),
      proc(50, 0, null, 'steady'),
      proc(99, 5, 10, 'ls -l'),
      proc(4242, 10, null, 'sleep 30'),
      // Split by a stop of the recorder, the same values on both sides: no change.
      proc(60, 0, 6, 'resumed'),
      proc(60, 8, null, 'resumed'),
    ]),
    A,
    B,
  );

  it('classifies started, ended, came-and-went and changed processes, and hides the unchanged', () => {
    expect(diff.appeared).toEqual([{ host: 'vm', key: { pid: 4242, start_time: START }, since: at(10), row: { comm: 'sleep', cmdline: 'sleep 30' } }]);
    expect(diff.disappeared).toEqual([{ host: 'vm', key: { pid: 17, start_time: START }, until: at(10), row: { comm: 'cron', cmdline: 'cron' } }]);
    expect(diff.cameAndWent).toEqual([{ host: 'vm', key: { pid: 99, start_time: START }, since: at(5), until: at(10), row: { comm: 'ls', cmdline: 'ls -l' } }]);
    expect(diff.changed).toEqual([
      {
        host: 'vm',
        key: { pid: 1, start_time: START },
        changes: [
          { column: 'comm', from: 'init', to: 'systemd', at: at(5) },
          { column: 'cmdline', from: '/sbin/init', to: '/lib/systemd/systemd', at: at(5) },
        ],
      },
    ]);
    expect([diff.atFrom, diff.atTo, diff.versions, diff.truncated]).toEqual([4, 4, 8, false]);
  });

  it('lists every change of an entity with several versions in between, even when it ends as it began', () => {
    const flips = diffVersions(
      PROCESSES,
      versions(PROC_COLUMNS, [proc(7, 0, 4, 'a'), proc(7, 4, 6, 'b'), proc(7, 6, 9, 'a'), proc(7, 9, null, 'a', 'other')]),
      A,
      B,
    );
    expect(flips.changed).toHaveLength(1);
    expect(flips.changed[0]!.changes).toEqual([
      { column: 'comm', from: 'a', to: 'b', at: at(4) },
      { column: 'cmdline', from: 'a', to: 'b', at: at(4) },
      { column: 'comm', from: 'b', to: 'a', at: at(6) },
      { column: 'cmdline', from: 'b', to: 'a', at: at(6) },
      { column: 'comm', from: 'a', to: 'other', at: at(9) },
    ]);
  });

  it('takes "valid at T" as valid_from <= T < valid_to, and drops a version outside the range', () => {
    const edges = diffVersions(
      PROCESSES,
      versions(PROC_COLUMNS, [
        proc(2, 12, null, 'begins at B'),
        proc(3, 0, 12, 'ends at B'),
        proc(4, 2, null, 'begins at A'),
        proc(5, 0, 2, 'ends at A'),
        proc(6, 13, null, 'after B'),
      ]),
      A,
      B,
    );
    expect(edges.appeared.map((entity) => entity.key['pid'])).toEqual([2]);
    expect(edges.disappeared.map((entity) => [entity.key['pid'], entity.until])).toEqual([[3, at(12)]]);
    expect([edges.cameAndWent, edges.changed]).toEqual([[], []]);
    expect([edges.atFrom, edges.atTo]).toEqual([2, 2]);
  });

  it('keeps hosts apart: the same key on two hosts is two entities', () => {
    const hosts = diffVersions(
      PROCESSES,
      versions(PROC_COLUMNS, [['a', at(0), null, 1, START, 'init', 'init'], ['b', at(0), at(5), 1, START, 'init', 'init'], ['b', at(6), null, 1, START, 'init', 'init -s']]),
      A,
      B,
    );
    expect(hosts.disappeared).toEqual([]);
    expect(hosts.changed).toEqual([{ host: 'b', key: { pid: 1, start_time: START }, changes: [{ column: 'cmdline', from: 'init', to: 'init -s', at: at(6) }] }]);
    expect([hosts.atFrom, hosts.atTo]).toEqual([2, 2]);
  });

  it('treats a keyless table as one entity per host', () => {
    const system = diffVersions(
      { name: 'system_info', key: [] },
      versions(['kernel', 'cpu_count'], [['a', at(0), at(5), '6.1', 2], ['a', at(5), null, '6.2', 2], ['b', at(0), null, '6.1', 4], ['c', at(3), null, '6.1', 1]]),
      A,
      B,
    );
    expect(system.changed).toEqual([{ host: 'a', key: {}, changes: [{ column: 'kernel', from: '6.1', to: '6.2', at: at(5) }] }]);
    expect(system.appeared).toEqual([{ host: 'c', key: {}, since: at(3), row: { kernel: '6.1', cpu_count: 1 } }]);
  });

  it('tells entities apart by every key column, and compares big integers given as strings exactly', () => {
    const sockets = diffVersions(
      { name: 'sockets', key: ['proto', 'port'] },
      versions(
        ['proto', 'port', 'inode', 'state'],
        [
          ['vm', at(0), null, 'tcp', 22, '9007199254740993', 'LISTEN'],
          ['vm', at(0), at(5), 'udp', 22, '9007199254740993', null],
          ['vm', at(5), null, 'udp', 22, '9007199254740995', null],
          ['vm', at(0), at(8), 'tcp', 80, 1, 'LISTEN'],
        ],
      ),
      A,
      B,
    );
    expect(sockets.changed).toEqual([{ host: 'vm', key: { proto: 'udp', port: 22 }, changes: [{ column: 'inode', from: '9007199254740993', to: '9007199254740995', at: at(5) }] }]);
    expect(sockets.disappeared.map((entity) => entity.key)).toEqual([{ proto: 'tcp', port: 80 }]);
  });

  it('finds nothing in an empty answer', () => {
    const empty = diffVersions(PROCESSES, versions(PROC_COLUMNS, []), A, B);
    expect([empty.appeared, empty.disappeared, empty.cameAndWent, empty.changed, empty.versions]).toEqual([[], [], [], [], 0]);
  });

  describe('renderDiff', () => {
    const result = (tables: TableDiff[]): DiffResult => ({ from: new Date(A).toISOString(), to: new Date(B).toISOString(), tables });

    it('prints a section per table with counts and a line per entity', () => {
      expect(renderDiff(result([diff]), UTC).split('\n')).toEqual([
        'changes from 2026-11-22 05:00:02.000 to 2026-11-22 05:00:12.000 UTC',
        '',
        'processes: 4 → 4 (1 started, 1 ended, 1 came and went, 1 changed)',
        '+ pid 4242 (first recorded 05:00:10, started 04:58:20) sleep 30',
        '- pid 17 (ended 05:00:10) cron',
        '± pid 99 first recorded 05:00:05, started 04:58:20, ended 05:00:10 ls -l',
        "~ pid 1 comm: 'init' → 'systemd' (05:00:05); cmdline: '/sbin/init' → '/lib/systemd/systemd' (05:00:05)",
      ]);
    });

    it('says started, without a first-recorded time, for a process whose start time is its first version', () => {
      const fresh: TableDiff = { ...diff, appeared: [{ host: 'vm', key: { pid: 4243, start_time: at(9) }, since: at(10), row: { comm: 'sleep', cmdline: 'sleep 1' } }], disappeared: [], cameAndWent: [], changed: [] };
      expect(renderDiff(result([fresh]), UTC).split('\n')).toContain('+ pid 4243 (started 05:00:10) sleep 1');
    });

    it('names hosts when there are several, key columns generically, and shows dates for a range over days', () => {
      const generic = diffVersions(
        { name: 'sockets', key: ['proto', 'port'] },
        versions(['proto', 'port', 'state'], [['a', at(0), null, 'tcp', 22, 'LISTEN'], ['b', at(-86_400), at(5), 'tcp', 22, 'LISTEN'], ['b', at(-86_400), null, 'tcp', 23, null]]),
        T0 - 86_400_000,
        B,
      );
      const lines = renderDiff({ from: new Date(T0 - 86_400_000).toISOString(), to: new Date(B).toISOString(), tables: [generic] }, UTC).split('\n');
      expect(lines.slice(2)).toEqual([
        'sockets: 2 → 2 (1 appeared, 1 disappeared)',
        '+ host a proto tcp port 22 (appeared 2026-11-22 05:00:00) state=LISTEN',
        '- host b proto tcp port 22 (disappeared 2026-11-22 05:00:05) state=LISTEN',
      ]);
    });

    it('shows the first and last of many changes to one column, and says when a table did not change', () => {
      const rows = Array.from({ length: 6 }, (_, index) => proc(7, index, index === 5 ? null : index + 1, `v${index}`, 'c'));
      const many = diffVersions(PROCESSES, versions(PROC_COLUMNS, [...rows]), T0, B);
      const still = diffVersions({ name: 'system_info', key: [] }, versions(['kernel'], [['vm', at(0), null, '6.1']]), A, B);
      expect(renderDiff(result([many, still]), UTC).split('\n').slice(2)).toEqual([
        'processes: 1 → 1 (1 changed)',
        "~ pid 7 cmdline: 'v0' → 'v1' (05:00:01) → … 3 more changes … → 'v5' (05:00:05)",
        '',
        'system_info: 1 → 1, unchanged',
      ]);
    });

    it('says when nothing was recorded between the instants', () => {
      expect(renderDiff(result([diffVersions(PROCESSES, versions(PROC_COLUMNS, []), A, B)]), UTC)).toBe(
        'nothing recorded between 2026-11-22 05:00:02.000 and 2026-11-22 05:00:12.000 UTC',
      );
    });

    it('escapes recorded text, quotes included, in keys, values and summaries', () => {
      const hostile = diffVersions(
        { name: 'mounts', key: ['target'] },
        versions(['target', 'options'], [['vm', at(0), at(5), '/mnt/\x1b[2J', "ro'\u202e"], ['vm', at(5), null, '/mnt/\x1b[2J', 'rw\\x41'], ['vm', at(6), null, '/x\u200b', '\x9b31m']]),
        A,
        B,
      );
      expect(renderDiff(result([hostile]), UTC).split('\n').slice(2)).toEqual([
        'mounts: 1 → 2 (1 appeared, 1 changed)',
        '+ target /x\\u200b (appeared 05:00:06) options=\\u009b31m',
        "~ target /mnt/\\e[2J options: 'ro\\'\\u202e' → 'rw\\\\x41' (05:00:05)",
      ]);
    });
  });

  it('diffTables refuses a range that is not one before asking the store', async () => {
    // Any question to this reader would throw: the refusal must come first.
    const reader = {} as StoreReader;
    for (const [from, to] of [[Number.NaN, B], [A, Number.POSITIVE_INFINITY], [B, A], [A, 1e20]] as const) {
      const result = await diffTables(reader, { from, to });
      expect(result.ok ? 'ok' : [result.status.code, result.status.message]).toEqual(['INVALID_ARGUMENT', 'from and to must be instants, from not after to']);
    }
  });

  describe('diffNotes', () => {
    const result = (tables: TableDiff[]): DiffResult => ({ from: at(2), to: at(12), tables });

    it('says which tables the row cap cut', () => {
      const cut = diffVersions(PROCESSES, versions(PROC_COLUMNS, [proc(1, 0, null, 'x')], true), A, B);
      expect(diffNotes(result([cut, diff]))).toEqual(['the store cut the versions of processes at its row cap (maxRows); the diff is incomplete']);
    });

    it('says when nothing was recorded at one of the instants', () => {
      const later = diffVersions(PROCESSES, versions(PROC_COLUMNS, [proc(1, 5, null, 'x')]), A, B);
      const earlier = diffVersions(PROCESSES, versions(PROC_COLUMNS, [proc(1, 0, 5, 'x')]), A, B);
      expect(diffNotes(result([later]))).toEqual([`nothing was recorded at ${at(2)} (vwatchd was not recording then): what was recorded later shows as appeared`]);
      expect(diffNotes(result([earlier]))).toEqual([`nothing was recorded at ${at(12)} (vwatchd was not recording then): what was recorded earlier shows as disappeared`]);
      expect(diffNotes(result([diff]))).toEqual([]);
      expect(diffNotes(result([diffVersions(PROCESSES, versions(PROC_COLUMNS, []), A, B)]))).toEqual([]);
    });
  });
});

/** Raw controls, DEL, C1, bidi and zero-width characters, and lone surrogates, less the line feeds that end lines: none may be printed raw. */
const FORBIDDEN_IN_LINES = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]/;

describe('virtualeyes diff over a real store', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-diff-'));
  const config = join(dir, 'vwatchd.conf');
  const capped = join(dir, 'capped.conf');
  // What `exec -a $'\e]0;PWNED\a\e[2J' …` leaves in /proc/<pid>/cmdline and comm, and a host name to match.
  const HOSTILE_CMDLINE = '\x1b]0;PWNED\x07\x1b[2J \x9b31m red \u202eexe.txt C:\\x41';
  const HOSTILE_COMM = '\x1b[2J\u202e\u200b';
  const HOST = 'evil\x1b[2Jhost\u202e';
  const SHOWN_CMDLINE = '\\e]0;PWNED\\x07\\e[2J \\u009b31m red \\u202eexe.txt C:\\\\x41';
  const FROM = at(2);
  const TO = at(12);

  const identity = (pid: number, cmdline: string, comm = cmdline.split(' ')[0]!): Row => ({
    pid, start_time: T0 - 100_000, ppid: 1, pgid: pid, sid: pid, uid: 0, gid: 0, user: 'root', comm, cmdline, exe: '/bin/x', tty_nr: 0, kernel_thread: false,
  });
  const system = (kernel: string): Row => ({
    hostname: 'vm', kernel, kernel_version: '#1 SMP', arch: 'x86_64', os: 'Debian', os_id: 'debian', os_version: '13', machine_id: null, boot_id: null,
    boot_time: T0 - 1_000_000, cpu_model: null, cpu_vendor: null, cpu_count: 2, cpu_cores: null, cpu_sockets: null, numa_nodes: 1, memory_total: 1 << 30,
  });

  /** Runs the CLI on this store, offline; `--data-dir` and `--config` first, as a user would. */
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    // Times in UTC, whatever zone the test runs in.
    const argv = [...args.filter((arg) => arg !== '--capped'), ...(args.includes('diff') ? ['--utc'] : [])];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, '--config', args[0] === '--capped' ? capped : config, '--socket', join(dir, 'none.sock'), ...argv], {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      now: () => T0 + 3_600_000,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    writeFileSync(config, JSON.stringify({ sinks: [{ use: '@virtualeyes/sink-duckdb' }] }));
    // A store row cap of 2 cuts the processes' versions.
    writeFileSync(capped, JSON.stringify({ sinks: [{ use: '@virtualeyes/sink-duckdb', options: { maxRows: 2 } }] }));
    const options = parseConfig({ path: join(dir, 'vwatchd.db') });
    if (!options.ok) throw new Error(options.status.message);
    const created = createSink(options.value, createTestDeps({ host: HOST, clock: createFakeClock(T0 + 3_600_000) }));
    if (!created.ok) throw new Error(created.status.message);
    const sink = created.value;
    expect((await sink.start({ tables: TABLES })).code).toBe('OK');
    const written = await sink.write([
      { table: 'system_info', ts: T0, snapshot: true, rows: [system('6.1')] },
      { table: 'processes', ts: T0, snapshot: true, rows: [identity(1, '/sbin/init', 'init'), identity(17, 'cron'), identity(50, 'steady')] },
      { table: 'system_info', ts: T0 + 5000, snapshot: true, rows: [system('6.2')] },
      {
        table: 'processes',
        ts: T0 + 5000,
        snapshot: true,
        rows: [identity(1, '/lib/systemd/systemd', 'init'), identity(17, 'cron'), identity(50, 'steady'), identity(99, 'ls -l')],
      },
      {
        table: 'processes',
        ts: T0 + 10_000,
        snapshot: true,
        rows: [identity(1, '/lib/systemd/systemd', 'init'), identity(50, 'steady'), identity(4242, HOSTILE_CMDLINE, HOSTILE_COMM)],
      },
    ]);
    expect(written.status.code).toBe('OK');
    // DuckDB lets one process hold the file at a time: the CLI opens it read-only once this sink is gone.
    expect((await sink.close()).code).toBe('OK');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the process that started, the one that ended, the one that came and went and the changed command line, escaped', async () => {
    const { code, out, err } = await cli('diff', '--from', FROM, '--to', TO);
    expect([code, err]).toEqual([0, '']);
    expect(out).not.toMatch(FORBIDDEN_IN_LINES);
    expect(out.split('\n')).toEqual([
      `changes from ${shown(FROM)} to ${shown(TO)} UTC`,
      '',
      'processes: 3 → 3 (1 started, 1 ended, 1 came and went, 1 changed)',
      `+ pid 4242 (first recorded 05:00:10, started 04:58:20) ${SHOWN_CMDLINE}`,
      '- pid 17 (ended 05:00:10) cron',
      '± pid 99 first recorded 05:00:05, started 04:58:20, ended 05:00:10 ls -l',
      "~ pid 1 cmdline: '/sbin/init' → '/lib/systemd/systemd' (05:00:05)",
      '',
      'system_info: 1 → 1 (1 changed)',
      "~ host evil\\e[2Jhost\\u202e kernel: '6.1' → '6.2' (05:00:05)",
      '',
    ]);
  });

  it('--json gives the machine shape, escaped, parsing back to the recorded text', async () => {
    for (const args of [['--json'], ['--format', 'json']]) {
      const { code, out, err } = await cli('diff', '--from', FROM, '--to', TO, '--table', 'processes', ...args);
      expect([code, err]).toEqual([0, '']);
      expect(out).not.toMatch(FORBIDDEN_IN_LINES);
      expect(out).toContain('\\u009b31m red \\u202eexe.txt');
      const key = (pid: number) => ({ pid, start_time: '2026-11-22T04:58:20.000Z' });
      // The row holds the values besides the key.
      const row = (pid: number, cmdline: string, comm: string): unknown => {
        const { pid: _pid, start_time: _start, ...values } = identity(pid, cmdline, comm);
        return values;
      };
      const parsed = JSON.parse(out) as DiffResult;
      expect(parsed).toEqual({
        from: FROM,
        to: TO,
        tables: [
          {
            table: 'processes',
            keyColumns: ['pid', 'start_time'],
            versions: 6,
            truncated: false,
            atFrom: 3,
            atTo: 3,
            appeared: [{ host: HOST, key: key(4242), since: at(10), row: row(4242, HOSTILE_CMDLINE, HOSTILE_COMM) }],
            disappeared: [{ host: HOST, key: key(17), until: at(10), row: row(17, 'cron', 'cron') }],
            cameAndWent: [{ host: HOST, key: key(99), since: at(5), until: at(10), row: row(99, 'ls -l', 'ls') }],
            changed: [{ host: HOST, key: key(1), changes: [{ column: 'cmdline', from: '/sbin/init', to: '/lib/systemd/systemd', at: at(5) }] }],
          },
        ],
      });
    }
  });

  it('takes --table more than once and --host, and says when nothing was recorded', async () => {
    const both = await cli('diff', '--from', FROM, '--to', TO, '--table', 'processes', '--table', 'system_info', '--host', HOST, '--json');
    expect(both.code).toBe(0);
    expect((JSON.parse(both.out) as DiffResult).tables.map((table) => [table.table, table.changed.length])).toEqual([['processes', 1], ['system_info', 1]]);
    const other = await cli('diff', '--from', FROM, '--to', TO, '--host', 'elsewhere');
    expect([other.code, other.out, other.err]).toEqual([0, `nothing recorded between ${shown(FROM)} and ${shown(TO)} UTC\n`, '']);
    const before = await cli('diff', '--from', at(-3600), '--to', at(-1800));
    expect([before.code, before.out]).toEqual([0, `nothing recorded between ${shown(at(-3600))} and ${shown(at(-1800))} UTC\n`]);
  });

  it('notes an instant at which nothing was recorded', async () => {
    const { code, out, err } = await cli('diff', '--from', at(-10), '--to', TO, '--table', 'processes');
    expect(code).toBe(0);
    expect(err).toBe(`virtualeyes: nothing was recorded at ${at(-10)} (vwatchd was not recording then): what was recorded later shows as appeared\n`);
    expect(out).toContain('processes: 0 → 3 (3 started, 2 came and went)\n+ pid 1 (first recorded 05:00:00, started 04:58:20) /lib/systemd/systemd\n');
  });

  it('warns on stderr that the diff is incomplete when the store cut the versions at its row cap', async () => {
    const { code, out, err } = await cli('--capped', 'diff', '--from', FROM, '--to', TO, '--table', 'processes');
    expect(code).toBe(0);
    expect(err).toBe('virtualeyes: the store cut the versions of processes at its row cap (maxRows); the diff is incomplete\n');
    expect(out).toMatch(/^processes: /m);
  });

  it.each([
    [['--from', TO, '--to', FROM], '--from is after --to'],
    [['--from', 'yesterday-ish'], "cannot read time 'yesterday-ish': expected ISO-8601 ('2026-11-22T05:00:00Z'), epoch seconds, 'now', 'today', 'yesterday', a time of day ('03:10') or a relative time ('5m ago')"],
    [['--from', FROM, '--table', 'nope'], "table 'nope' is not a recorded table; diff compares state tables (processes, system_info)"],
    [['--from', FROM, '--table', 'cpu'], "table 'cpu' is a metric table; diff compares state tables (processes, system_info)"],
  ])('refuses %j with one line and exit code 2', async (args, message) => {
    const { code, out, err } = await cli('diff', ...args);
    expect([code, out, err]).toEqual([2, '', `virtualeyes: ${message}\n`]);
  });

  it('needs --from', async () => {
    const { code, out, err } = await cli('diff');
    expect([code, out]).toEqual([2, '']);
    expect(err).toContain("required option '--from <time>' not specified");
  });

  it('has --help with examples, --table, --host, --format and --json', async () => {
    const { code, out } = await cli('diff', '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/-t, --table <name>/);
    expect(out).toMatch(/--host <name>/);
    expect(out).toMatch(/-f, --format <format>/);
    expect(out).toMatch(/--json\s+the same as --format json/);
    expect(out).toContain('virtualeyes diff --from "10m ago"');
  });
});
