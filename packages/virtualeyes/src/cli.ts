/**
 * The `virtualeyes` command line: query, tables, ps, top, history, diff and status. Every command takes the
 * daemon's --config/--data-dir/--socket, talks to vwatchd when it runs and reads the store
 * read-only when it does not. Exit codes (docs/status-codes.md): 0 answered, 1 failed, 2 bad usage, input or a
 * refused query, 3 (`status` only) the daemon is not running.
 * Whatever it prints that came from the recording or the daemon goes through escape.ts.
 */
import { Command, type CommanderError, Option } from 'commander';
import { formatStatus, StatusCode, type QueryRequest, type QueryResult, type Result, type Status } from '@virtualeyes/core';
import { loadHostConfig, type ConfigOverrides, type HostConfig } from '@virtualeyes/protocol';
import { connect, connectUrl, type Connection } from './client.js';
import { escapeText, jsonText } from './escape.js';
import { diffCsv, diffJson, diffNotes, diffTables, renderDiff } from './diff.js';
import { exportCommand } from './export.js';
import { historyCsv, historyJson, processHistory, renderHistory } from './history.js';
import { importCommand } from './import.js';
import { clockText, Format, formatResult, isoInstants, renderTable, zoneText } from './format.js';
import { psRows, PsSort, renderPs, type PsFilter } from './ps.js';
import { notRecorded } from './recordings.js';
import { daemonStatusCsv, offlineStatusCsv, renderDaemonStatus, renderOfflineStatus } from './status.js';
import { parseDuration, parseTime } from './time.js';
import { initialView, TOP_SORTS } from './top/render.js';
import { MIN_INTERVAL_MS, runTop } from './top/session.js';
import { VERSION } from './version.js';

/** Process exit codes. */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2, NOT_RUNNING: 3 } as const;

/** Where the CLI writes; tests pass their own. */
export interface Io {
  /** Normal output. */
  readonly out: (text: string) => void;
  /** Errors and notes. */
  readonly err: (text: string) => void;
  /** The current time, epoch milliseconds. */
  readonly now: () => number;
  /** Whether stdin and stdout are both a terminal (top draws the screen then); absent: no. */
  readonly terminal?: () => boolean;
  /** The terminal's width, when output is one. */
  readonly columns?: () => number | undefined;
}

const DEFAULT_STALENESS = '5m';

/** The longest SQL statement a request may carry: `sql`'s maxLength in protocol's QUERY_REQUEST_SCHEMA. */
const MAX_SQL_CHARS = 100_000;

/** The shortest `--step`: the store's least `stepMs`. */
const MIN_STEP_MS = 1000;

/** The longest query a request may ask for: `timeoutMs`'s maximum in core's QUERY_REQUEST_SCHEMA. */
export const LONGEST_QUERY_MS = 600_000;

/** The options every command that prints rows takes: `--format`, and `--json` for `--format json`. */
interface FormatOptions {
  format: Format;
  json?: boolean;
}

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  socket?: string;
  url?: string;
  tokenFile?: string;
}

/** Runs the CLI with `argv` (as process.argv) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const fail = (status: Status, code: number = codeFor(status)): void => {
    // Messages quote data (DuckDB errors quote identifiers and values), so they are escaped too.
    const message = status.code === StatusCode.INVALID_ARGUMENT || status.code === StatusCode.INVALID_CONFIG ? status.message : formatStatus({ ...status, source: undefined });
    io.err(`virtualeyes: ${escapeText(message)}\n`);
    exitCode = code;
  };

  const program = new Command('virtualeyes')
    .description('Ask what this host (as recorded by vwatchd) looked like at any instant or over any range.')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'vwatchd config file, to find the data directory and store (default: /etc/vwatchd.conf if it exists)')
    .option('-d, --data-dir <dir>', 'data directory (default: /var/lib/vwatchd as root, else $XDG_STATE_HOME/vwatchd)')
    .option('--socket <path>', 'vwatchd API socket (default: <data-dir>/vwatchd.sock)')
    .option('--url <url>', "ask the daemon's TCP listener at http://host:port instead of the socket (its api.tcp; there is no offline fallback)")
    .option('--token-file <file>', "with --url: the file holding the listener's bearer token, mode 0600 (default: the config's api.tcp.tokenFile, else <data-dir>/vwatchd.token)")
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  /** Resolves config and connects, runs `body`, and always closes the reader. */
  const withReader = async (body: (connection: Connection, config: HostConfig) => Promise<void>, exits: { readonly notRunning?: number } = {}): Promise<void> => {
    const globals = program.opts<GlobalOptions>();
    const overrides: ConfigOverrides = {
      ...(globals.config === undefined ? {} : { configPath: globals.config }),
      ...(globals.dataDir === undefined ? {} : { dataDir: globals.dataDir }),
      ...(globals.socket === undefined ? {} : { socket: globals.socket }),
    };
    const config = loadHostConfig(overrides);
    if (!config.ok) return fail(config.status, ExitCode.USAGE);
    if (globals.tokenFile !== undefined && globals.url === undefined) return fail({ code: StatusCode.INVALID_ARGUMENT, message: '--token-file goes with --url', retryable: false });
    const connection = globals.url === undefined ? await connect(config.value) : await connectUrl(globals.url, globals.tokenFile, config.value);
    // No daemon and no store to read: `status` says the daemon is not running (3), the others failed (1).
    if (!connection.ok) return fail(connection.status, connection.status.code === StatusCode.NOT_FOUND && exits.notRunning !== undefined ? exits.notRunning : codeFor(connection.status));
    try {
      await body(connection.value, config.value);
    } finally {
      await connection.value.reader.close();
    }
  };

  const formatOption = (choices: readonly Format[] = Object.values(Format)): Option =>
    new Option('-f, --format <format>', 'output format').choices(choices).default(Format.TABLE);
  const jsonOption = (): Option => new Option('--json', 'the same as --format json').conflicts('format');
  const formatOf = (options: FormatOptions): Format => (options.json === true ? Format.JSON : options.format);

  /** What the recordings cover, when none covers `from`..`to`; undefined when one does or the store cannot tell. */
  const uncoveredNote = async (connection: Connection, from: number, to: number): Promise<string | undefined> => {
    const info = await connection.reader.info();
    return info.ok ? notRecorded(info.value, from, to, connection.kind === 'daemon', io.now()) : undefined;
  };

  program
    .command('query')
    .description('Run one read-only SQL statement over the recording, optionally as of an instant or over a range')
    .argument('<sql>', 'a SELECT statement; table names are the recorded tables (see `virtualeyes tables`)')
    .option('--at <time>', 'as of this instant: state tables hold the rows valid then, metric tables their last sample at or before it')
    .option('--from <time>', 'start of a range: metric rows in it, state rows overlapping it')
    .option('--to <time>', 'end of a range (default: now)')
    .option('--staleness <duration>', 'with --at, how old the last metric sample may be', DEFAULT_STALENESS)
    .option('--step <duration>', 'with --from: metric tables in buckets of this length (at least 1s): per entity and bucket, samples, min/avg/max/last and counter rates')
    .option('--timeout <duration>', "query time limit; a longer one is cut to 10m, and to the store's queryTimeoutMs", '30s')
    .option('--max-rows <n>', "stop after this many rows; a larger number is cut to the store's maxRows", '100000')
    .option('--utc', 'show times in UTC instead of local time (the table format; JSON and CSV are always UTC)')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Times: ISO-8601 ('2026-11-22T05:00:00Z'; local time without a zone), epoch seconds, 'now', 'today', 'yesterday',
a local time of day ('03:10': today, or yesterday if still to come; 'yesterday 23:50'), or relative ('20s ago', '1h30m ago').
Without --at or --from, tables hold their whole history (state tables as versions with valid_from/valid_to).
The raw history stays reachable as history.<table> in every mode.
Table output shows times in local time, the zone named in the column header ('ts (CET)'; --utc for UTC),
and control and bidi characters as escapes (\\e, \\n, \\x07, \\u202e, a backslash as \\\\);
JSON escapes them as \\u escapes; CSV keeps the data exact, in quoted fields.

Examples:
  virtualeyes query --at "10s ago" "select count(*) from processes"
  virtualeyes query --from "1h ago" "select ts, load1 from load order by ts" --format csv
  virtualeyes query --at "10s ago" "select pid, utime + stime as cpu_ms_per_s from process_rates order by 2 desc limit 5"
  virtualeyes query --from "1h ago" --step 1m "select ts, cpu, user_rate, idle_rate from cpu where cpu = 'all' order by ts"`,
    )
    .action(async (sql: string, options: { at?: string; from?: string; to?: string; staleness: string; step?: string; timeout: string; maxRows: string; utc?: boolean } & FormatOptions) => {
      const request = buildRequest(sql, options, io.now());
      if (!request.ok) return fail(request.status, ExitCode.USAGE);
      await withReader(async (connection) => {
        const result = await connection.reader.query(request.value);
        if (!result.ok) return fail(result.status);
        io.out(`${formatResult(result.value, formatOf(options), { utc: options.utc === true })}${endOf(formatOf(options))}`);
        if (result.value.truncated) io.err(`virtualeyes: output cut at ${appliedRowCap(result.value)} rows (--max-rows)\n`);
        // An empty answer about a time no recording covers says so.
        const { at, from, to } = request.value;
        const asked = at !== undefined ? [at, at] : from !== undefined ? [from, to ?? io.now()] : undefined;
        if (result.value.rows.length === 0 && asked !== undefined) {
          const note = await uncoveredNote(connection, asked[0]!, asked[1]!);
          if (note !== undefined) io.err(`virtualeyes: ${note}\n`);
        }
      });
    });

  program
    .command('tables')
    .description('List the recorded tables (kind, key, rows, time span), and the columns of those named: type, unit and whether each is a counter')
    .argument('[names...]', 'tables whose columns to show (default: none in the table format, all in JSON and CSV)')
    .option('--columns', "every table's columns, in the table format too")
    .option('--brief', 'one line (or object, or CSV row) per table, without the columns, in every format')
    .option('--utc', 'show times in UTC instead of local time')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  virtualeyes tables                      one line per table
  virtualeyes tables process_stats        and the columns of process_stats
  virtualeyes tables --json --brief       the list as JSON, without columns`,
    )
    .action(async (names: string[], options: { brief?: boolean; columns?: boolean; utc?: boolean } & FormatOptions) => {
      const format = formatOf(options);
      await withReader(async ({ reader }) => {
        const listed = await reader.tables();
        if (!listed.ok) return fail(listed.status);
        const unknown = names.filter((name) => !listed.value.some((table) => table.name === name));
        if (unknown.length > 0) {
          const known = listed.value.map((table) => table.name).sort();
          return fail({ code: StatusCode.INVALID_ARGUMENT, message: `no recorded table ${unknown.join(', ')}; the recorded tables are ${known.join(', ') || 'none yet'}`, retryable: false });
        }
        const named = names.length === 0 ? listed.value : listed.value.filter((table) => names.includes(table.name));
        const detailed = options.brief === true ? [] : names.length > 0 || options.columns === true || format !== Format.TABLE ? named : [];
        if (format === Format.JSON) {
          const shown = options.brief === true ? named.map(({ columns: _columns, ...table }) => table) : named;
          io.out(`${jsonText(isoInstants(shown))}\n`);
          return;
        }
        if (format === Format.CSV) {
          if (options.brief === true) {
            const rows = named.map((table) => [table.name, table.kind, table.key.join(' '), table.rows, isoOrEmpty(table.first), isoOrEmpty(table.last), table.description]);
            io.out(`${csvText(['table', 'kind', 'key', 'rows', 'first', 'last', 'description'], rows)}\r\n`);
            return;
          }
          // One row per column: the flat shape spreadsheets want.
          const rows = detailed.flatMap((table) => table.columns.map((c) => [table.name, table.kind, c.name, c.type, c.unit ?? '', String(c.counter === true), c.description]));
          io.out(`${csvText(['table', 'kind', 'column', 'type', 'unit', 'counter', 'description'], rows)}\r\n`);
          return;
        }
        const display = { utc: options.utc === true };
        const local = (ms: number | null): string => (ms === null ? '' : clockText(ms, display, 'datetime', true));
        const summary = named.map((table) => [table.name, table.kind, table.key.join(', '), table.rows, local(table.first), local(table.last), table.description]);
        const zone = zoneText(display, io.now(), true);
        io.out(`${renderTable(['TABLE', 'KIND', 'KEY', 'ROWS', `FIRST (${zone})`, `LAST (${zone})`, 'DESCRIPTION'], summary, [false, false, false, true])}\n`);
        for (const table of detailed) {
          io.out(`\n${escapeText(`${table.name} (${table.kind}${table.key.length === 0 ? '' : `, key ${table.key.join(', ')}`})`)}\n`);
          io.out(`${renderTable(['COLUMN', 'TYPE', 'UNIT', 'COUNTER', 'DESCRIPTION'], table.columns.map((c) => [c.name, c.type, c.unit ?? '', c.counter === true ? 'yes' : '', c.description]))}\n`);
          if (table.columns.some((c) => c.counter === true)) io.out(`${escapeText(`Counters: per-second rates in ${table.name}_rates, and <counter>_rate with --step.`)}\n`);
        }
        if (detailed.length === 0 && options.brief !== true) io.err('virtualeyes: columns of a table: virtualeyes tables NAME (or --columns for all)\n');
      });
    });

  program
    .command('ps')
    .description('List processes as they were at an instant, with CPU% and IO rates from consecutive samples')
    .option('--at <time>', 'the instant (default: now)', 'now')
    .addOption(new Option('-s, --sort <key>', 'sort order (io: bytes read plus written per second)').choices(Object.values(PsSort)).default(PsSort.CPU))
    .option('-n, --limit <n>', 'show at most this many processes')
    .addOption(new Option('-p, --pid <pids>', 'only these process ids (comma-separated, repeatable)').argParser((text: string, pids: string[] | undefined) => [...(pids ?? []), ...text.split(',')]))
    .option('-u, --user <user>', "only this user's processes (a name or a numeric uid)")
    .option('--comm <pattern>', "only processes whose name matches: a glob ('python*') over the whole name, or a part of it without a wildcard")
    .option('--tree', 'children under their parents, indented; siblings in the sort order')
    .option('--staleness <duration>', 'how old the last sample may be', DEFAULT_STALENESS)
    .option('--utc', 'show times in UTC instead of local time')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The table shows start times in local time (the zone is named on stderr), or UTC with --utc;
JSON and CSV print ISO-8601 UTC and exact numbers, with a depth column under --tree.

Examples:
  virtualeyes ps -n 10                          the 10 busiest processes now
  virtualeyes ps --at "03:10" --sort io -n 5    the 5 busiest readers and writers at 03:10
  virtualeyes ps --user postgres --tree         postgres's processes as a tree
  virtualeyes ps --comm 'python*' --json`,
    )
    .action(
      async (
        options: { at: string; sort: PsSort; limit?: string; pid?: string[]; user?: string; comm?: string; tree?: boolean; staleness: string; utc?: boolean } & FormatOptions,
      ) => {
        const format = formatOf(options);
        const at = parseTime(options.at, io.now());
        if (!at.ok) return fail(at.status, ExitCode.USAGE);
        const window = parseDuration(options.staleness);
        if (!window.ok) return fail(window.status, ExitCode.USAGE);
        const limit = options.limit === undefined ? undefined : positiveInt(options.limit, '--limit');
        if (limit !== undefined && !limit.ok) return fail(limit.status, ExitCode.USAGE);
        const pids: number[] = [];
        for (const text of options.pid ?? []) {
          const pid = positiveInt(text.trim(), '--pid');
          if (!pid.ok) return fail(pid.status, ExitCode.USAGE);
          pids.push(pid.value);
        }
        const filter: PsFilter = {
          ...(options.pid === undefined ? {} : { pids }),
          ...(options.user === undefined ? {} : { user: options.user }),
          ...(options.comm === undefined ? {} : { comm: options.comm }),
        };
        await withReader(async (connection) => {
          const { reader } = connection;
          const result = await psRows(reader, {
            at: at.value,
            stalenessMs: window.value,
            sort: options.sort,
            filter,
            tree: options.tree === true,
            ...(limit === undefined ? {} : { limit: limit.value }),
            timeoutMs: 60_000,
          });
          if (!result.ok) return fail(result.status);
          if (result.value.sampledAt.size === 0) {
            const uncovered = await uncoveredNote(connection, at.value, at.value);
            const message = uncovered ?? `no process samples within ${options.staleness} before ${new Date(at.value).toISOString()} (was vwatchd recording then?)`;
            return fail({ code: StatusCode.NOT_FOUND, message, retryable: false });
          }
          // As an empty query answer: exit 0, the empty list in JSON and CSV, a note for people.
          if (result.value.rows.length === 0) io.err(`virtualeyes: no process matches ${escapeText(filterText(filter))}\n`);
          if (result.value.truncated) io.err('virtualeyes: the store cut an answer at its row cap (maxRows); the list is incomplete\n');
          if (format !== Format.TABLE) {
            io.out(`${formatResult(result.value, format)}${endOf(format)}`);
            return;
          }
          if (result.value.rows.length === 0) return;
          const display = { utc: options.utc === true, now: io.now() };
          const sampled = [...result.value.sampledAt.values()].map((ms) => clockText(ms, display, 'datetime', true)).join(', ');
          const shown = limit === undefined ? `${result.value.rows.length} processes` : `top ${result.value.rows.length} by ${options.sort}`;
          io.err(`as of ${clockText(at.value, display, 'datetime', true)} ${zoneText(display, at.value)}: sample taken ${sampled}, ${shown}\n`);
          io.out(`${renderPs(result.value, display)}\n`);
        });
      },
    );

  program
    .command('top')
    .description('A full-screen process view, live or replayed from the recording (--at), as top and atop -r show it')
    .option('--at <time>', 'replay from this instant instead of following the clock; keys step through the samples')
    .option('-b, --batch', 'print frames as plain text instead of drawing the screen (also when output or input is not a terminal)')
    .option('-n, --iterations <n>', 'with --batch: stop after this many frames (default: until stopped; 1 when not a terminal or with --format json|csv)')
    .option('-i, --interval <duration>', 'live: ask for a new frame this often (each frame costs the daemon about 0.3 s of CPU today)', '2s')
    .addOption(new Option('-s, --sort <key>', 'sort order (io: bytes read plus written per second)').choices(TOP_SORTS).default(PsSort.CPU))
    .option('-u, --user <user>', "only this user's processes (a name or a numeric uid)")
    .option('--filter <text>', 'only processes whose name, command line or user holds this text')
    .option('--tree', 'children under their parents, indented')
    .option('--host <name>', 'the host to show, of a store holding several (default: the one sampled last)')
    .option('--staleness <duration>', 'how old the last sample may be', DEFAULT_STALENESS)
    .option('--width <n>', 'with --batch: the line width (default: the terminal\'s, else 160)')
    .option('--utc', 'show times in UTC instead of local time')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The header shows CPU busy (all CPUs and each), load, PSI (some, avg10), memory, swap, and disk and
network rates from the recorded tables; then the processes with CPU%, RSS, IO rates, state and
command. Press ? for the keys: s c m i p sort, / filter, u user, V tree, z pause, d interval, q quit;
in replay t/← and T/→ step to the previous and next sample, [ ] move a minute, { } an hour, b a time.
JSON (an array of frames) and CSV (the processes of each frame) are batch output.

Examples:
  virtualeyes top                                   live, every 2 seconds
  virtualeyes top --at "03:10"                      replay from 03:10 today (or yesterday)
  virtualeyes top -b -n 3 > frames.txt              three plain-text frames, as top -b writes
  virtualeyes top --at "1h ago" -b -n 60 --sort io  60 samples in a row, busiest IO first`,
    )
    .action(
      async (
        options: {
          at?: string; batch?: boolean; iterations?: string; interval: string; sort: PsSort; user?: string; filter?: string; tree?: boolean;
          host?: string; staleness: string; width?: string; utc?: boolean;
        } & FormatOptions,
      ) => {
        const format = formatOf(options);
        const at = options.at === undefined ? undefined : parseTime(options.at, io.now());
        if (at !== undefined && !at.ok) return fail(at.status, ExitCode.USAGE);
        const window = parseDuration(options.staleness);
        if (!window.ok) return fail(window.status, ExitCode.USAGE);
        const interval = parseDuration(options.interval);
        if (!interval.ok) return fail(interval.status, ExitCode.USAGE);
        if (!(interval.value >= MIN_INTERVAL_MS)) return fail({ code: StatusCode.INVALID_ARGUMENT, message: `--interval must be at least ${MIN_INTERVAL_MS} ms, got '${options.interval}'`, retryable: false }, ExitCode.USAGE);
        const iterations = options.iterations === undefined ? undefined : positiveInt(options.iterations, '--iterations');
        if (iterations !== undefined && !iterations.ok) return fail(iterations.status, ExitCode.USAGE);
        const width = options.width === undefined ? undefined : positiveInt(options.width, '--width');
        if (width !== undefined && !width.ok) return fail(width.status, ExitCode.USAGE);
        const terminal = io.terminal?.() === true;
        const batch = options.batch === true || !terminal || format !== Format.TABLE;
        const frames = iterations?.value ?? (options.batch === true && format === Format.TABLE ? Infinity : 1);
        await withReader(async (connection) => {
          const status = await runTop(connection.reader, {
            ...(at === undefined ? {} : { at: at.value }),
            view: initialView({
              mode: at === undefined ? 'live' : 'replay',
              sort: options.sort,
              filter: options.filter ?? '',
              user: options.user ?? '',
              tree: options.tree === true,
              intervalMs: Math.round(interval.value),
              utc: options.utc === true,
            }),
            stalenessMs: window.value,
            ...(options.host === undefined ? {} : { host: options.host }),
            ...(batch ? { batch: { frames, width: width?.value ?? io.columns?.() ?? 160, format } } : {}),
            now: io.now,
            out: io.out,
          });
          if (status.code === StatusCode.NOT_FOUND && at !== undefined) {
            const uncovered = await uncoveredNote(connection, at.value, at.value);
            if (uncovered !== undefined) return fail({ ...status, message: uncovered });
          }
          if (status.code !== StatusCode.OK) return fail(status);
        });
      },
    );

  program
    .command('history')
    .description("A process's life: its versions (command line changes, parent), its exit with code, and CPU%, RSS and IO rates over the range as charts")
    .argument('<pid>', 'the process id (every process that had it in the range is shown, pids being reused)')
    .option('--from <time>', 'start of the range', '24h ago')
    .option('--to <time>', 'end of the range', 'now')
    .option('--utc', 'show times in UTC instead of local time')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The exit code comes from process_events, recorded when probe-procfs's processEvents is on;
without it the end shows when the recording last saw the process. JSON gives, per process,
{ host, pid, start_time, versions, end: { at, exit_code, signal, recorded }, series: [{ ts, cpu_pct,
rss, read_bytes_rate, write_bytes_rate }] }; CSV gives the series, one row per sample.

Examples:
  virtualeyes history 4242
  virtualeyes history 4242 --from "03:00" --to "04:00" --format csv > pid-4242.csv`,
    )
    .action(async (pidText: string, options: { from: string; to: string; utc?: boolean } & FormatOptions) => {
      const format = formatOf(options);
      const pid = /^\d+$/.test(pidText) ? Number(pidText) : Number.NaN;
      if (!Number.isSafeInteger(pid)) return fail({ code: StatusCode.INVALID_ARGUMENT, message: `the pid must be a whole number, got '${pidText}'`, retryable: false }, ExitCode.USAGE);
      const from = parseTime(options.from, io.now());
      if (!from.ok) return fail(from.status, ExitCode.USAGE);
      const to = parseTime(options.to, io.now());
      if (!to.ok) return fail(to.status, ExitCode.USAGE);
      if (from.value > to.value) return fail({ code: StatusCode.INVALID_ARGUMENT, message: '--from is after --to', retryable: false }, ExitCode.USAGE);
      await withReader(async (connection) => {
        const result = await processHistory(connection.reader, { pid, from: from.value, to: to.value });
        if (!result.ok) return fail(result.status);
        if (result.value.truncated) io.err('virtualeyes: the store cut an answer at its row cap (maxRows); the history is incomplete\n');
        if (result.value.processes.length === 0) {
          const uncovered = await uncoveredNote(connection, from.value, to.value);
          io.err(`virtualeyes: ${uncovered ?? `no process with pid ${pid} was recorded between ${new Date(from.value).toISOString()} and ${new Date(to.value).toISOString()}`}\n`);
        }
        if (format === Format.JSON) io.out(`${historyJson(result.value)}\n`);
        else if (format === Format.CSV) io.out(`${historyCsv(result.value)}\r\n`);
        else if (result.value.processes.length > 0) io.out(`${renderHistory(result.value, { utc: options.utc === true, width: io.columns?.() ?? 100 })}\n`);
      });
    });

  program
    .command('diff')
    .description('Show what appeared, disappeared and changed in the state tables (processes, …) between two instants')
    .requiredOption('--from <time>', 'the earlier instant')
    .addOption(new Option('--to <time>', 'the later instant').default('now'))
    .addOption(
      new Option('-t, --table <name>', 'only this state table (repeatable)').argParser((name: string, names: string[]) => [...names, name]).default([], 'every state table'),
    )
    .option('--host <name>', "only this host's rows (default: every host's)")
    .option('--utc', 'show times in UTC instead of local time')
    .addOption(formatOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
For each state table, every entity (host and key, e.g. a process's pid and start time) that
  + appeared: not there at --from, there at --to (a process that started)
  - disappeared: there at --from, gone at --to (a process that ended)
  ± came and went: there at neither, but some time in between (with when it came and went)
  ~ changed: there at both, with a column's old → new value and when it changed.
Unchanged entities are not shown. Times are when the recording saw the change, in local time
(the zone named in the first line) or UTC with --utc; JSON and CSV print ISO-8601 UTC.
Times: ISO-8601 ('2026-11-22T05:00:00Z'), epoch seconds, 'now', 'today', 'yesterday', '03:10', or relative ('5m ago').
--json prints { from, to, tables: [{ table, appeared, disappeared, cameAndWent, changed: [{ host, key, changes: [{ column, from, to, at }] }] }] };
--format csv one row per change: table, change, host, key (JSON), column, from_value, to_value (JSON), at, until.

Examples:
  virtualeyes diff --from "10m ago"
  virtualeyes diff --from 2026-11-22T05:00:00Z --to 2026-11-22T05:10:00Z --table processes
  virtualeyes diff --from "1h ago" --to "30m ago" --json`,
    )
    .action(async (options: { from: string; to: string; table: string[]; host?: string; utc?: boolean } & FormatOptions) => {
      const format = formatOf(options);
      const from = parseTime(options.from, io.now());
      if (!from.ok) return fail(from.status, ExitCode.USAGE);
      const to = parseTime(options.to, io.now());
      if (!to.ok) return fail(to.status, ExitCode.USAGE);
      if (from.value > to.value) return fail({ code: StatusCode.INVALID_ARGUMENT, message: '--from is after --to', retryable: false }, ExitCode.USAGE);
      await withReader(async ({ reader }) => {
        const diff = await diffTables(reader, {
          from: from.value,
          to: to.value,
          tables: options.table,
          ...(options.host === undefined ? {} : { host: options.host }),
          timeoutMs: 60_000,
        });
        if (!diff.ok) return fail(diff.status);
        for (const note of diffNotes(diff.value)) io.err(`virtualeyes: ${escapeText(note)}\n`);
        io.out(`${format === Format.JSON ? diffJson(diff.value) : format === Format.CSV ? diffCsv(diff.value) : renderDiff(diff.value, { utc: options.utc === true })}${endOf(format)}`);
      });
    });

  program
    .command('status')
    .description('Show whether vwatchd runs, its plugins, per-table counters, rows written and store size')
    .addOption(formatOption())
    .addOption(jsonOption())
    .option('--utc', 'show times in UTC instead of local time')
    .addHelpText('after', '\n--format csv prints the per-table counters (a row per table), or without a daemon the recordings the store holds.')
    .action(async (options: FormatOptions & { utc?: boolean }) => {
      const display = { utc: options.utc === true };
      const json = formatOf(options) === Format.JSON;
      const csv = formatOf(options) === Format.CSV;
      await withReader(async (connection, config) => {
        if (connection.kind === 'offline') {
          const info = await connection.reader.info();
          if (json) io.out(`${jsonText(isoInstants({ running: false, socket: config.api.socket, store: info.ok ? info.value : null }))}\n`);
          else if (csv) io.out(`${offlineStatusCsv(info.ok ? info.value : undefined)}\r\n`);
          else io.out(`${renderOfflineStatus(config.api.socket, info.ok ? info.value : undefined, display)}\n`);
          // As systemctl status does: 3 when the daemon does not run, whatever the store says.
          exitCode = ExitCode.NOT_RUNNING;
          return;
        }
        const status = await connection.reader.status();
        if (!status.ok) return fail(status.status);
        if (json) io.out(`${jsonText(isoInstants({ running: true, ...status.value }))}\n`);
        else if (csv) io.out(`${daemonStatusCsv(status.value)}\r\n`);
        else io.out(`${renderDaemonStatus(status.value, io.now(), display)}\n`);
      }, { notRunning: ExitCode.NOT_RUNNING });
    });

  // Slices: export writes one (through the daemon or from the file), import loads one into a new store.
  const sliceContext = { io, fail, usageExit: ExitCode.USAGE, withReader };
  program.addCommand(exportCommand(sliceContext).copyInheritedSettings(program));
  program.addCommand(importCommand(sliceContext).copyInheritedSettings(program));

  try {
    await program.parseAsync(argv as string[], { from: 'node' });
  } catch (error) {
    const commander = error as CommanderError;
    return commander.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  }
  return exitCode;
}

/** What ends an output: CSV's records end in CRLF (RFC 4180), the last one too; other formats in a line feed. */
function endOf(format: Format): string {
  return format === Format.CSV ? '\r\n' : '\n';
}

/** Rows under `headers` as CSV, as query prints a result. */
function csvText(headers: readonly string[], rows: (string | number)[][]): string {
  return formatResult({ columns: headers.map((name) => ({ name, type: 'VARCHAR' })), rows, truncated: false, elapsedMs: 0 }, Format.CSV);
}

/** A `ps` filter as its options read. */
function filterText(filter: PsFilter): string {
  const parts = [
    filter.pids === undefined ? undefined : `--pid ${filter.pids.join(',')}`,
    filter.user === undefined ? undefined : `--user ${filter.user}`,
    filter.comm === undefined ? undefined : `--comm ${filter.comm}`,
  ];
  return parts.filter((part) => part !== undefined).join(' ');
}

/** An instant as ISO-8601 UTC, or '' for none. */
function isoOrEmpty(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString();
}

/** Turns the query command's options into a request; INVALID_ARGUMENT for unreadable times. */
export function buildRequest(
  sql: string,
  options: { at?: string; from?: string; to?: string; staleness: string; step?: string; timeout: string; maxRows: string },
  now: number,
): Result<QueryRequest> {
  const staleness = parseDuration(options.staleness);
  if (!staleness.ok) return staleness;
  const timeout = parseDuration(options.timeout);
  if (!timeout.ok) return timeout;
  const maxRows = positiveInt(options.maxRows, '--max-rows');
  if (!maxRows.ok) return maxRows;
  // A longer --timeout is capped, not refused: the store caps it again at its own limit.
  const timeoutMs = Math.min(LONGEST_QUERY_MS, Math.max(1, Math.round(timeout.value)));
  if (sql.trim() === '') return usage('the SQL statement is empty: give one SELECT statement (`virtualeyes tables` lists the tables)');
  if (sql.length > MAX_SQL_CHARS) return usage(`the SQL statement is ${sql.length} characters long; at most ${MAX_SQL_CHARS} are taken`);
  const base = { sql, stalenessMs: Math.round(staleness.value), timeoutMs, maxRows: maxRows.value };
  if (options.step !== undefined && options.from === undefined) return usage(options.at === undefined ? '--step needs --from' : '--step buckets a range: use --from/--to, not --at');
  if (options.at !== undefined) {
    if (options.from !== undefined || options.to !== undefined) return usage('use either --at or --from/--to, not both');
    const at = parseTime(options.at, now);
    return at.ok ? { ok: true, value: { ...base, at: at.value } } : at;
  }
  if (options.to !== undefined && options.from === undefined) return usage('--to needs --from');
  if (options.from !== undefined) {
    const from = parseTime(options.from, now);
    if (!from.ok) return from;
    const to = parseTime(options.to ?? 'now', now);
    if (!to.ok) return to;
    if (to.value < from.value) return usage('--to is before --from');
    const step = options.step === undefined ? undefined : parseDuration(options.step);
    if (step !== undefined && !step.ok) return step;
    if (step !== undefined && !(step.value >= MIN_STEP_MS)) return usage(`--step must be at least 1s, got '${options.step ?? ''}'`);
    return { ok: true, value: { ...base, from: from.value, to: to.value, ...(step === undefined ? {} : { stepMs: Math.round(step.value) }) } };
  }
  return { ok: true, value: base };
}

/** The row cap that cut a truncated result: the one the store reports, else the row count (a store fills up to its cap before cutting). */
function appliedRowCap(result: QueryResult): number {
  return result.maxRows ?? result.rows.length;
}

function positiveInt(text: string, name: string): Result<number> {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? { ok: true, value } : usage(`${name} must be a positive integer, got '${text}'`);
}

function usage(message: string): Result<never> {
  return { ok: false, status: { code: StatusCode.INVALID_ARGUMENT, message, retryable: false } };
}

function codeFor(status: Status): number {
  return status.code === StatusCode.INVALID_ARGUMENT || status.code === StatusCode.INVALID_CONFIG ? ExitCode.USAGE : ExitCode.FAILURE;
}

function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    now: () => Date.now(),
    terminal: () => process.stdin.isTTY === true && process.stdout.isTTY === true,
    columns: () => (process.stdout.isTTY === true ? process.stdout.columns : undefined),
  };
}
