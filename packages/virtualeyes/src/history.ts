/**
 * `virtualeyes history PID`: the life of the processes that had a pid in a range. For each
 * (host, pid, start time) it shows the versions of `processes` (a command line that changed at
 * exec, a new parent), the exit with its code or signal from `process_events` when that table
 * was recorded, and its CPU%, RSS and IO rates between consecutive `process_stats` samples, as
 * sparklines for people and as a series in JSON and CSV (per bucket of `query --step`: at most
 * 240 buckets of whole seconds over the process's life). The pid is an integer checked before it
 * is written into the SQL; the rest are range questions the query surface answers.
 */
import { ok, StatusCode, type Cell, type QueryResult, type Result, type StoreReader } from '@virtualeyes/core';
import { escapeText, jsonText, truncateText } from './escape.js';
import { clockText, Format, formatBytes, formatResult, renderTable, rowObjects, zoneText, type TimeDisplay } from './format.js';

/** What `history` asks. */
export interface HistoryRequest {
  readonly pid: number;
  readonly from: number;
  readonly to: number;
  readonly timeoutMs?: number;
  /** Row cap of each question. */
  readonly maxRows?: number;
}

/** One point of a process's series: a bucket of whole seconds starting at `ts`. */
export interface HistoryPoint {
  readonly ts: string;
  readonly cpu_pct: number | null;
  readonly rss: number | null;
  readonly read_bytes_rate: number | null;
  readonly write_bytes_rate: number | null;
}

/** How a process ended, when it did in the range. */
export interface HistoryEnd {
  /** When it exited (from process_events), or when the recording last saw it. */
  readonly at: string;
  readonly exit_code: number | null;
  readonly signal: number | null;
  /** Whether the exit was recorded (process_events), rather than inferred from the last version's end. */
  readonly recorded: boolean;
}

/** One process (host, pid, start time) in the range. */
export interface ProcessHistory {
  readonly host: string;
  readonly pid: number;
  readonly start_time: string | null;
  readonly versions: readonly Record<string, Cell>[];
  readonly end: HistoryEnd | null;
  readonly series: readonly HistoryPoint[];
}

/** The answer, and whether the store cut any of it short. */
export interface HistoryResult {
  readonly processes: readonly ProcessHistory[];
  readonly truncated: boolean;
  /** Whether the store holds process_events rows (without them, exit codes are unknown). */
  readonly events: boolean;
}

type Rec = Record<string, Cell>;

const num = (cell: Cell | undefined): number => (typeof cell === 'number' ? cell : typeof cell === 'string' ? Number(cell) : Number.NaN);
const msOf = (cell: Cell | undefined): number => (typeof cell === 'string' ? Date.parse(cell) : Number.NaN);
const keyOf = (row: Rec): string => JSON.stringify([row['host'], row['start_time']]);

/** Asks the store for the processes that had `request.pid` in [from, to]. */
export async function processHistory(reader: StoreReader, request: HistoryRequest): Promise<Result<HistoryResult>> {
  if (!Number.isSafeInteger(request.pid) || request.pid < 0) return { ok: false, status: { code: StatusCode.INVALID_ARGUMENT, message: `not a pid: ${request.pid}`, retryable: false } };
  // The staleness bounds how far back a bucket's counter rate may look for the sample before it.
  const base = { from: request.from, to: request.to, stalenessMs: 300_000, timeoutMs: request.timeoutMs ?? 60_000, maxRows: request.maxRows ?? 100_000 };
  const ask = (sql: string): Promise<Result<QueryResult>> => reader.query({ ...base, sql });
  const tables = await reader.tables();
  if (!tables.ok) return tables;
  // A probe declares process_events even with processEvents off: it counts once it holds rows.
  const events = tables.value.some((table) => table.name === 'process_events' && table.rows > 0);
  const pid = String(request.pid);
  const versions = await ask(`select * from processes where pid = ${pid} order by host, start_time, valid_from`);
  if (!versions.ok) return versions;
  const exits = events ? await ask(`select host, ts, start_time, exit_code, signal from process_events where pid = ${pid} and event = 'exit' order by host, ts`) : undefined;
  if (exits !== undefined && !exits.ok) return exits;
  let truncated = versions.value.truncated || (exits?.ok === true && exits.value.truncated);

  const byProcess = new Map<string, { host: string; start: Cell; versions: Rec[]; samples: Rec[]; exit?: Rec }>();
  const entry = (row: Rec) => {
    const key = keyOf(row);
    let found = byProcess.get(key);
    if (found === undefined) {
      found = { host: String(row['host']), start: row['start_time'] ?? null, versions: [], samples: [] };
      byProcess.set(key, found);
    }
    return found;
  };
  for (const row of rowObjects(versions.value)) entry(row).versions.push(row);
  if (exits?.ok === true) {
    for (const row of rowObjects(exits.value)) {
      // An exit recorded without a start time (its fork unseen) belongs to the version it ends.
      const match = byProcess.get(keyOf(row)) ?? [...byProcess.values()].find((p) => p.host === row['host'] && p.versions.some((v) => Math.abs(msOf(v['valid_to']) - msOf(row['ts'])) < 2000));
      if (match !== undefined) match.exit = row;
    }
  }
  // Each process's series over its life within the range, in at most SERIES_POINTS buckets of
  // whole seconds: a change-only store keeps a row only when a value changed, and buckets give
  // every second its values and its counters' rates whatever was stored.
  for (const p of byProcess.values()) {
    const first = Math.max(request.from, msOf(p.versions[0]?.['valid_from']));
    const endCell = p.versions.at(-1)?.['valid_to'];
    const last = Math.min(request.to, typeof endCell === 'string' ? msOf(endCell) : request.to);
    if (!(last >= first)) continue;
    const stepMs = Math.max(1000, Math.ceil((last - first) / SERIES_POINTS / 1000) * 1000);
    const stepped = await reader.query({ ...base, from: first, to: last, stepMs, sql: `select * from process_stats where pid = ${pid} order by host, start_time, ts` });
    if (!stepped.ok) return stepped;
    truncated ||= stepped.value.truncated;
    p.samples.push(...rowObjects(stepped.value).filter((row) => keyOf(row) === keyOf({ host: p.host, start_time: p.start })));
  }
  const processes = [...byProcess.values()]
    .sort((a, b) => a.host.localeCompare(b.host) || msOf(a.start) - msOf(b.start))
    .map((p): ProcessHistory => {
      const last = p.versions.at(-1);
      const lastEnd = last?.['valid_to'];
      const end: HistoryEnd | null =
        p.exit !== undefined
          ? { at: String(p.exit['ts']), exit_code: nullableNumber(p.exit['exit_code']), signal: nullableNumber(p.exit['signal']), recorded: true }
          : typeof lastEnd === 'string' && msOf(lastEnd) <= request.to
            ? { at: lastEnd, exit_code: null, signal: null, recorded: false }
            : null;
      return { host: p.host, pid: request.pid, start_time: typeof p.start === 'string' ? p.start : null, versions: p.versions, end, series: seriesOf(p.samples) };
    });
  return ok({ processes, truncated, events });
}

function nullableNumber(cell: Cell | undefined): number | null {
  return Number.isFinite(num(cell)) ? num(cell) : null;
}

/** Buckets of a process's series at most. */
const SERIES_POINTS = 240;

/** A point per bucket: CPU% from the CPU time's rate, the largest RSS, the IO counters' rates. */
function seriesOf(buckets: readonly Rec[]): HistoryPoint[] {
  return buckets.map((bucket): HistoryPoint => {
    const cpu = num(bucket['utime_rate']) + num(bucket['stime_rate']);
    return {
      ts: String(bucket['ts']),
      // ms of CPU per second of wall time, over 10: percent of one CPU.
      cpu_pct: Number.isFinite(cpu) ? Math.round(cpu) / 10 : null,
      rss: nullableNumber(bucket['rss_max'] ?? bucket['rss']),
      read_bytes_rate: nullableNumber(bucket['read_bytes_rate']),
      write_bytes_rate: nullableNumber(bucket['write_bytes_rate']),
    };
  });
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * `values` as a sparkline of at most `width` bars: each bar the largest value of its share of the
 * points, scaled from 0 to the largest of all (a flat line of ▁ when all are 0); a gap (null) is a space.
 */
export function sparkline(values: readonly (number | null)[], width: number): string {
  if (values.length === 0) return '';
  const columns = Math.max(1, Math.min(width, values.length));
  const buckets: (number | null)[] = [];
  for (let column = 0; column < columns; column += 1) {
    const slice = values.slice(Math.floor((column * values.length) / columns), Math.floor(((column + 1) * values.length) / columns));
    const known = slice.filter((value): value is number => value !== null && Number.isFinite(value));
    buckets.push(known.length === 0 ? null : Math.max(...known));
  }
  const top = Math.max(0, ...buckets.filter((value): value is number => value !== null));
  return buckets.map((value) => (value === null ? ' ' : BARS[top === 0 ? 0 : Math.min(7, Math.round((Math.max(0, value) / top) * 7))]!)).join('');
}

/** The answer for people: per process a title line, its versions, its end, and a sparkline per measure. */
export function renderHistory(result: HistoryResult, display: TimeDisplay & { readonly width: number }): string {
  const when = (cell: Cell | undefined): string => (typeof cell === 'string' ? clockText(msOf(cell), display, 'datetime', true) : '');
  const out: string[] = [];
  for (const p of result.processes) {
    const comm = p.versions.at(-1)?.['comm'];
    out.push(escapeText(`pid ${p.pid}${typeof comm === 'string' ? ` (${comm})` : ''}${p.host === '' ? '' : ` on ${p.host}`}, started ${when(p.start_time) || 'before the range'} ${zoneText(display)}`));
    out.push(escapeText(`  ${endText(p, result.events, when)}`));
    if (p.versions.length > 0) {
      const rows = p.versions.map((v) => [when(v['valid_from']), when(v['valid_to']) || 'now', v['user'] ?? null, v['ppid'] ?? null, commandText(v)]);
      out.push(indent(renderTable(['FROM', 'TO', 'USER', 'PPID', 'COMMAND'], rows, [false, false, false, true])));
    }
    if (p.series.length > 0) {
      const width = Math.max(10, display.width - 36);
      const first = p.series[0]!.ts;
      const last = p.series.at(-1)!.ts;
      const step = p.series.length > 1 ? Math.round((msOf(p.series[1]!.ts) - msOf(first)) / 1000) : 1;
      out.push(`  ${when(first)} to ${when(last)}, ${p.series.length} points of ${step} s (max per point):`);
      const measures: [string, (point: HistoryPoint) => number | null, (value: number) => string][] = [
        ['CPU%', (point) => point.cpu_pct, (value) => value.toFixed(1)],
        ['RSS', (point) => point.rss, (value) => formatBytes(value)],
        ['READ/s', (point) => point.read_bytes_rate, (value) => formatBytes(Math.round(value))],
        ['WRITE/s', (point) => point.write_bytes_rate, (value) => formatBytes(Math.round(value))],
      ];
      for (const [name, pick, format] of measures) {
        const values = p.series.map(pick);
        const known = values.filter((value): value is number => value !== null);
        const summary = known.length === 0 ? 'not recorded' : `max ${format(Math.max(...known))}, last ${values.at(-1) === null ? '-' : format(values.at(-1)!)}`;
        out.push(`  ${name.padEnd(8)}${sparkline(values, width)}  ${summary}`);
      }
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function endText(p: ProcessHistory, events: boolean, when: (cell: Cell | undefined) => string): string {
  if (p.end === null) return 'still running at the end of the range';
  const how = p.end.recorded
    ? p.end.signal !== null
      ? `killed by signal ${p.end.signal}`
      : `exit code ${p.end.exit_code ?? 'unknown'}`
    : events
      ? 'exit code unknown (its exit event was not recorded)'
      : 'exit code unknown (process_events is not recorded: enable the probe\'s processEvents)';
  // Without its exit event, the end is when a scan found the process gone: it exited before that.
  return p.end.recorded ? `exited ${when(p.end.at)}: ${how}` : `gone by ${when(p.end.at)}: ${how}`;
}

function commandText(version: Rec): string {
  const cmdline = typeof version['cmdline'] === 'string' ? version['cmdline'] : '';
  return truncateText(cmdline === '' ? `[${String(version['comm'] ?? '')}]` : cmdline, 100);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** JSON: an array of processes, each with versions, end and series (instants ISO-8601 UTC). */
export function historyJson(result: HistoryResult): string {
  return jsonText(result.processes);
}

/** CSV: the series, one row per process sample. */
export function historyCsv(result: HistoryResult): string {
  const columns = ['host', 'pid', 'start_time', 'ts', 'cpu_pct', 'rss', 'read_bytes_rate', 'write_bytes_rate'].map((name) => ({ name, type: 'VARCHAR' }));
  const rows = result.processes.flatMap((p) => p.series.map((point) => [p.host, p.pid, p.start_time, point.ts, point.cpu_pct, point.rss, point.read_bytes_rate, point.write_bytes_rate]));
  return formatResult({ columns, rows, truncated: false, elapsedMs: 0 }, Format.CSV);
}
