/**
 * `virtualeyes ps`: the process list as it was at an instant. It asks the store for each
 * host's last process_stats sample at or before the instant and the one before it (for CPU%),
 * and for the process identities valid at that sample: questions every store answers, so no
 * SQL dialect or storage layout is known here. Command lines are anyone's to choose, so the
 * table shows them escaped (renderTable) and cuts them by escaped width.
 */
import { ok, type Cell, type QueryResult, type Result, type StoreReader } from '@virtualeyes/core';
import { truncateText } from './escape.js';
import { cellText, formatBytes, renderTable, rowObjects } from './format.js';

/** Orders `ps` can sort by. */
export const PsSort = { CPU: 'cpu', RSS: 'rss', PID: 'pid', START: 'start' } as const;

/** One of the {@link PsSort} strings. */
export type PsSort = (typeof PsSort)[keyof typeof PsSort];

/** What `ps` asks. */
export interface PsRequest {
  /** The instant, epoch milliseconds. */
  readonly at: number;
  /** How old the last sample may be, and the one before it relative to it. */
  readonly stalenessMs: number;
  /** Sort order. */
  readonly sort: PsSort;
  /** At most this many processes. */
  readonly limit?: number;
  /** Time limit of each question to the store. */
  readonly timeoutMs?: number;
}

/** The `ps` answer: one row per process, and whether the store cut a result short. */
export interface PsResult extends QueryResult {
  /** Per host, when its sample was taken (epoch milliseconds). */
  readonly sampledAt: ReadonlyMap<string, number>;
}

/** The columns of a `ps` row, in output order; `--format json/csv` shows them under these names. */
const COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  { name: 'host', type: 'VARCHAR' },
  { name: 'pid', type: 'INTEGER' },
  { name: 'user', type: 'VARCHAR' },
  { name: 'cpu_pct', type: 'DOUBLE' },
  { name: 'rss', type: 'BIGINT' },
  { name: 'vsize', type: 'BIGINT' },
  { name: 'threads', type: 'INTEGER' },
  { name: 'state', type: 'VARCHAR' },
  { name: 'start_time', type: 'TIMESTAMP WITH TIME ZONE' },
  { name: 'ppid', type: 'INTEGER' },
  { name: 'comm', type: 'VARCHAR' },
  { name: 'cmdline', type: 'VARCHAR' },
  { name: 'sampled_at', type: 'TIMESTAMP WITH TIME ZONE' },
];

type Rec = Record<string, Cell>;

/** A process's identity across tables: host, pid and start time (the pid alone is reused). */
const keyOf = (row: Rec): string => JSON.stringify([row['host'], row['pid'], row['start_time']]);

/** Milliseconds of a time cell (an ISO string), NaN when it is not one. */
const msOf = (cell: Cell | undefined): number => (typeof cell === 'string' ? Date.parse(cell) : Number.NaN);

/** A counter cell as a number (counters past 2^53 arrive as strings). */
const numberOf = (cell: Cell | undefined): number => (typeof cell === 'number' ? cell : typeof cell === 'string' ? Number(cell) : Number.NaN);

/**
 * Asks `reader` for the process list at `request.at`. CPU% is the CPU time between a
 * process's two samples over their wall-time distance (100 = one CPU); for a process with no
 * earlier sample in the same recording, its average since it started.
 */
export async function psRows(reader: StoreReader, request: PsRequest): Promise<Result<PsResult>> {
  const started = performance.now();
  const timeouts = request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
  const samples = await reader.samples({ table: 'process_stats', at: request.at, stalenessMs: request.stalenessMs, ...timeouts });
  if (!samples.ok) return samples;
  const current = rowObjects(samples.value.current);
  const previous = new Map(rowObjects(samples.value.previous).map((row) => [keyOf(row), row]));
  const sampledAt = new Map<string, number>();
  for (const row of current) sampledAt.set(String(row['host']), msOf(row['ts']));
  let truncated = samples.value.current.truncated || samples.value.previous.truncated;
  const identities = new Map<string, Rec>();
  for (const [host, ts] of sampledAt) {
    // The identity valid when the sample was taken, which may differ from the one at the instant.
    const states = await reader.states({ table: 'processes', at: ts, host, ...timeouts });
    if (!states.ok) return states;
    truncated ||= states.value.truncated;
    for (const row of rowObjects(states.value)) identities.set(keyOf(row), row);
  }
  const rows = current.map((sample): Rec => {
    const identity = identities.get(keyOf(sample)) ?? {};
    const before = previous.get(keyOf(sample));
    const ts = msOf(sample['ts']);
    const cpu = numberOf(sample['utime']) + numberOf(sample['stime']);
    let cpuPct: number | null = null;
    if (before !== undefined && ts > msOf(before['ts'])) {
      cpuPct = (100 * (cpu - numberOf(before['utime']) - numberOf(before['stime']))) / (ts - msOf(before['ts']));
    } else if (ts > msOf(sample['start_time'])) {
      cpuPct = (100 * cpu) / (ts - msOf(sample['start_time']));
    }
    return {
      host: sample['host'] ?? null,
      pid: sample['pid'] ?? null,
      user: identity['user'] ?? null,
      cpu_pct: cpuPct === null || !Number.isFinite(cpuPct) ? null : Math.round(cpuPct * 10) / 10,
      rss: sample['rss'] ?? null,
      vsize: sample['vsize'] ?? null,
      threads: sample['threads'] ?? null,
      state: sample['state'] ?? null,
      start_time: sample['start_time'] ?? null,
      ppid: identity['ppid'] ?? null,
      comm: identity['comm'] ?? null,
      cmdline: identity['cmdline'] ?? null,
      sampled_at: sample['ts'] ?? null,
    };
  });
  rows.sort(ORDER[request.sort]);
  const shown = request.limit === undefined ? rows : rows.slice(0, request.limit);
  const result: PsResult = {
    columns: COLUMNS,
    rows: shown.map((row) => COLUMNS.map((column) => row[column.name] ?? null)),
    truncated,
    elapsedMs: performance.now() - started,
    sampledAt,
  };
  return ok(result);
}

/** Larger first, nulls last. */
const descending = (name: string) => (a: Rec, b: Rec): number => {
  const [x, y] = [a[name], b[name]];
  if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
  if (y === null || y === undefined) return -1;
  return typeof x === 'string' || typeof y === 'string' ? String(y).localeCompare(String(x)) : Number(y) - Number(x);
};
const byPid = (a: Rec, b: Rec): number => numberOf(a['pid']) - numberOf(b['pid']) || String(a['host']).localeCompare(String(b['host']));
const then = (...orders: ((a: Rec, b: Rec) => number)[]) => (a: Rec, b: Rec): number => {
  for (const order of orders) {
    const d = order(a, b);
    if (d !== 0) return d;
  }
  return 0;
};

const ORDER: Readonly<Record<PsSort, (a: Rec, b: Rec) => number>> = {
  cpu: then(descending('cpu_pct'), descending('rss'), byPid),
  rss: then(descending('rss'), byPid),
  pid: byPid,
  // ISO times in UTC sort as text.
  start: then(descending('start_time'), byPid),
};

/** Renders the `ps` table: PID USER %CPU RSS VSZ THR S STARTED COMMAND, the command at most `commandWidth` characters as shown. */
export function renderPs(result: QueryResult, commandWidth = 120): string {
  const rows = rowObjects(result);
  const hosts = new Set(rows.map((row) => row['host']));
  const headers = [...(hosts.size > 1 ? ['HOST'] : []), 'PID', 'USER', '%CPU', 'RSS', 'VSZ', 'THR', 'S', 'STARTED', 'COMMAND'];
  const body: Cell[][] = rows.map((row) => {
    const cmdline = cellText(row['cmdline'] ?? null);
    const command = cmdline === '' ? `[${cellText(row['comm'] ?? null)}]` : cmdline;
    const cpu = row['cpu_pct'];
    return [
      ...(hosts.size > 1 ? [row['host'] ?? null] : []),
      row['pid'] ?? null,
      row['user'] ?? null,
      typeof cpu === 'number' ? cpu.toFixed(1) : '-',
      typeof row['rss'] === 'number' ? formatBytes(row['rss']) : '-',
      typeof row['vsize'] === 'number' ? formatBytes(row['vsize']) : '-',
      row['threads'] ?? null,
      row['state'] ?? null,
      startedText(row['start_time'] ?? null),
      truncateText(command, commandWidth),
    ];
  });
  const numeric = headers.map((header) => ['PID', '%CPU', 'RSS', 'VSZ', 'THR'].includes(header));
  return renderTable(headers, body, numeric);
}

function startedText(cell: Cell): string {
  if (typeof cell !== 'string') return '';
  // ISO time in UTC; show the time of day when it is today, else the date.
  const iso = cell.replace(' ', 'T');
  return iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? iso.slice(11, 19) : iso.slice(0, 10);
}
