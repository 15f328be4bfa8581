/**
 * `virtualeyes ps`: the process list as it was at an instant. It asks the store for each
 * host's last process_stats sample at or before the instant and the one before it (for CPU%),
 * and for the process identities valid at that sample: questions every store answers, so no
 * SQL dialect or storage layout is known here. Command lines are anyone's to choose, so the
 * table shows them escaped (renderTable) and cuts them by escaped width.
 */
import { ok, type Cell, type QueryResult, type Result, type StoreReader } from '@virtualeyes/core';
import { truncateText } from './escape.js';
import { cellText, clockText, formatBytes, renderTable, rowObjects, type TimeDisplay } from './format.js';

/** Orders `ps` can sort by: `io` is bytes read plus written per second. */
export const PsSort = { CPU: 'cpu', RSS: 'rss', IO: 'io', PID: 'pid', START: 'start' } as const;

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
  /** Only the processes it matches (before the limit); see {@link psFilter}. */
  readonly filter?: PsFilter;
  /** List children under their parents, indented; siblings in the sort order. */
  readonly tree?: boolean;
  /** Time limit of each question to the store. */
  readonly timeoutMs?: number;
}

/** The `ps` answer: one row per process, and whether the store cut a result short. */
export interface PsResult extends QueryResult {
  /** Per host, when its sample was taken (epoch milliseconds). */
  readonly sampledAt: ReadonlyMap<string, number>;
  /** Per host, when the sample before it was taken, where the store holds one. */
  readonly previousAt: ReadonlyMap<string, number>;
}

/** The columns of a `ps` row, in output order; `--format json/csv` shows them under these names. */
export const PS_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
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
  { name: 'read_bytes_rate', type: 'DOUBLE' },
  { name: 'write_bytes_rate', type: 'DOUBLE' },
  { name: 'sampled_at', type: 'TIMESTAMP WITH TIME ZONE' },
];

/** With `tree`: how deep each row sits (0 for a process whose parent is not listed). */
const DEPTH_COLUMN = { name: 'depth', type: 'INTEGER' } as const;

/** One process of a `ps` answer, by column name. */
export type PsRecord = Record<string, Cell>;
type Rec = PsRecord;

/** Which processes `ps` lists; every field given must match. */
export interface PsFilter {
  /** Only these process ids. */
  readonly pids?: readonly number[];
  /** Only this user's processes: a user name, or a numeric uid. */
  readonly user?: string;
  /** Only processes whose name (comm) matches: a glob (`*`, `?`) matching the whole name, or, without a wildcard, a part of it. */
  readonly comm?: string;
  /** Only processes whose name, command line or user holds this text (any case): top's `/`. */
  readonly text?: string;
}

/** The predicate of `filter` over `ps` records (with `uid` taken from the identity). */
export function psFilter(filter: PsFilter): (row: PsRecord) => boolean {
  const pids = filter.pids === undefined ? undefined : new Set(filter.pids);
  const comm = filter.comm === undefined ? undefined : commMatcher(filter.comm);
  const text = filter.text?.toLowerCase();
  return (row) => {
    if (pids !== undefined && !pids.has(numberOf(row['pid']))) return false;
    if (filter.user !== undefined && row['user'] !== filter.user && !(/^\d+$/.test(filter.user) && String(row['uid']) === filter.user)) return false;
    if (comm !== undefined && !comm(cellText(row['comm'] ?? null))) return false;
    if (text !== undefined && text !== '' && ![row['comm'], row['cmdline'], row['user']].some((cell) => typeof cell === 'string' && cell.toLowerCase().includes(text))) return false;
    return true;
  };
}

/** A glob over the whole name when `pattern` has a wildcard, else a substring test. */
function commMatcher(pattern: string): (comm: string) => boolean {
  if (!/[*?]/.test(pattern)) return (comm) => comm.includes(pattern);
  const source = [...pattern].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  const regex = new RegExp(`^${source}$`, 'su');
  return (comm) => regex.test(comm);
}

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
  const previousAt = new Map<string, number>();
  for (const row of previous.values()) previousAt.set(String(row['host']), Math.max(previousAt.get(String(row['host'])) ?? -Infinity, msOf(row['ts'])));
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
    // Bytes per second between the two samples, or since the start for a process with one.
    let rate = (_column: string): number | null => null;
    if (before !== undefined && ts > msOf(before['ts'])) {
      const elapsed = ts - msOf(before['ts']);
      cpuPct = (100 * (cpu - numberOf(before['utime']) - numberOf(before['stime']))) / elapsed;
      rate = (column) => ratePerSecond(numberOf(sample[column]) - numberOf(before[column]), elapsed);
    } else if (ts > msOf(sample['start_time'])) {
      const elapsed = ts - msOf(sample['start_time']);
      cpuPct = (100 * cpu) / elapsed;
      rate = (column) => ratePerSecond(numberOf(sample[column]), elapsed);
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
      read_bytes_rate: rate('read_bytes'),
      write_bytes_rate: rate('write_bytes'),
      sampled_at: sample['ts'] ?? null,
      uid: identity['uid'] ?? null,
    };
  });
  const matching = request.filter === undefined ? rows : rows.filter(psFilter(request.filter));
  const ordered = request.tree === true ? treeOrder(matching, request.sort) : sortRecords(matching, request.sort);
  const shown = request.limit === undefined ? ordered : ordered.slice(0, request.limit);
  const columns = request.tree === true ? [...PS_COLUMNS, DEPTH_COLUMN] : PS_COLUMNS;
  const result: PsResult = {
    columns,
    rows: shown.map((row) => columns.map((column) => row[column.name] ?? null)),
    truncated,
    elapsedMs: performance.now() - started,
    sampledAt,
    previousAt,
  };
  return ok(result);
}

/** A counter's change over `elapsedMs` per second; null when unknown, or negative (the counter restarted). */
function ratePerSecond(delta: number, elapsedMs: number): number | null {
  return Number.isFinite(delta) && delta >= 0 ? (delta * 1000) / elapsedMs : null;
}

/** `rows` in `sort` order (a new array). */
export function sortRecords(rows: readonly PsRecord[], sort: PsSort): PsRecord[] {
  return [...rows].sort(ORDER[sort]);
}

/**
 * `rows` as a process tree, depth first: each process after its parent, its siblings in `sort`
 * order; a process whose parent is not among the rows (filtered out, or gone) is a root. Each
 * row gets a `depth` column. Rows of several hosts form one tree per host.
 */
export function treeOrder(rows: readonly PsRecord[], sort: PsSort): PsRecord[] {
  const byKey = new Map(rows.map((row) => [JSON.stringify([row['host'], row['pid']]), row]));
  const children = new Map<PsRecord, PsRecord[]>();
  const roots: PsRecord[] = [];
  for (const row of rows) {
    const parent = row['ppid'] === row['pid'] ? undefined : byKey.get(JSON.stringify([row['host'], row['ppid']]));
    if (parent === undefined) roots.push(row);
    else children.set(parent, [...(children.get(parent) ?? []), row]);
  }
  const out: PsRecord[] = [];
  const seen = new Set<PsRecord>();
  // An explicit stack: a deep chain of processes must not overflow the call stack.
  const stack: [PsRecord, number][] = sortRecords(roots, sort).reverse().map((row) => [row, 0]);
  while (stack.length > 0) {
    const [row, depth] = stack.pop()!;
    if (seen.has(row)) continue;
    seen.add(row);
    out.push({ ...row, depth });
    for (const child of sortRecords(children.get(row) ?? [], sort).reverse()) stack.push([child, depth + 1]);
  }
  // A parent cycle (pid reuse within one sample) leaves rows no root reaches: list them as roots.
  for (const row of sortRecords(rows, sort)) if (!seen.has(row)) out.push({ ...row, depth: 0 });
  return out;
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

/** Bytes read and written per second; null when neither is known. */
const ioRate = (row: Rec): number | null => {
  const [read, write] = [row['read_bytes_rate'], row['write_bytes_rate']];
  return typeof read !== 'number' && typeof write !== 'number' ? null : (typeof read === 'number' ? read : 0) + (typeof write === 'number' ? write : 0);
};
const byIo = (a: Rec, b: Rec): number => {
  const [x, y] = [ioRate(a), ioRate(b)];
  return x === null ? (y === null ? 0 : 1) : y === null ? -1 : y - x;
};

const ORDER: Readonly<Record<PsSort, (a: Rec, b: Rec) => number>> = {
  cpu: then(descending('cpu_pct'), descending('rss'), byPid),
  rss: then(descending('rss'), byPid),
  io: then(byIo, descending('cpu_pct'), byPid),
  pid: byPid,
  // ISO times in UTC sort as text.
  start: then(descending('start_time'), byPid),
};

/** How {@link renderPs} lays out the table. */
export interface PsDisplay extends TimeDisplay {
  /** The command at most this many characters as shown. */
  readonly commandWidth?: number;
  /** The wall clock, to show a start time of today as a time of day (epoch milliseconds). */
  readonly now?: number;
}

/**
 * Renders the `ps` table: PID USER %CPU RSS VSZ THR S READ/s WRITE/s STARTED COMMAND, with the
 * start in local time (or UTC) as a time of day when it is today, else as a date; a tree's
 * commands indented under their parents.
 */
export function renderPs(result: QueryResult, display: PsDisplay = { utc: false }): string {
  const rows = rowObjects(result);
  const hosts = new Set(rows.map((row) => row['host']));
  const headers = [...(hosts.size > 1 ? ['HOST'] : []), 'PID', 'USER', '%CPU', 'RSS', 'VSZ', 'THR', 'S', 'READ/s', 'WRITE/s', 'STARTED', 'COMMAND'];
  const today = clockText(display.now ?? Date.now(), display, 'date');
  const body: Cell[][] = rows.map((row) => {
    const cpu = row['cpu_pct'];
    const start = msOf(row['start_time']);
    return [
      ...(hosts.size > 1 ? [row['host'] ?? null] : []),
      row['pid'] ?? null,
      row['user'] ?? null,
      typeof cpu === 'number' ? cpu.toFixed(1) : '-',
      typeof row['rss'] === 'number' ? formatBytes(row['rss']) : '-',
      typeof row['vsize'] === 'number' ? formatBytes(row['vsize']) : '-',
      row['threads'] ?? null,
      row['state'] ?? null,
      rateText(row['read_bytes_rate']),
      rateText(row['write_bytes_rate']),
      Number.isNaN(start) ? '' : clockText(start, display, clockText(start, display, 'date') === today ? 'time' : 'date'),
      truncateText(treePrefix(row) + commandOf(row), display.commandWidth ?? 120),
    ];
  });
  const numeric = headers.map((header) => ['PID', '%CPU', 'RSS', 'VSZ', 'THR', 'READ/s', 'WRITE/s'].includes(header));
  return renderTable(headers, body, numeric);
}

/** What a process list shows as its command: the command line, or `[comm]` for a kernel thread or zombie. */
export function commandOf(row: PsRecord): string {
  const cmdline = cellText(row['cmdline'] ?? null);
  return cmdline === '' ? `[${cellText(row['comm'] ?? null)}]` : cmdline;
}

/** The indentation of a tree row's command: nothing at the top, `└─ ` under a parent. */
export function treePrefix(row: PsRecord): string {
  const depth = typeof row['depth'] === 'number' ? row['depth'] : 0;
  return depth === 0 ? '' : `${'  '.repeat(depth - 1)}└─ `;
}

/** Bytes per second for people: `-` when unknown. */
export function rateText(cell: Cell | undefined): string {
  return typeof cell === 'number' ? (cell === 0 ? '0' : formatBytes(Math.round(cell))) : '-';
}
