/**
 * What one frame of `virtualeyes top` shows, loaded from the store as of an instant: the
 * process list of `ps` (all of it: top sorts and filters it itself, so a key press needs no
 * new question) and a header from the system tables' last two samples (CPU busy, memory and
 * swap, load, PSI, disk and network rates). Only the store reader's `samples` question is
 * asked, so it works the same against the daemon, an offline store or an imported slice; a
 * table the store does not hold leaves its part of the header out.
 */
import { ok, StatusCode, type Cell, type Result, type StoreReader } from '@virtualeyes/core';
import { formatDuration, rowObjects } from '../format.js';
import { psRows, type PsRecord } from '../ps.js';

/** One CPU's (or all CPUs', `cpu` = 'all') share of time between two samples, in percent. */
export interface CpuBusy {
  readonly cpu: string;
  readonly busy: number;
  readonly user: number;
  readonly system: number;
  readonly iowait: number;
  readonly steal: number;
}

/** Memory and swap at the sample, in bytes. */
export interface MemoryLine {
  readonly total: number;
  readonly available: number;
  readonly cached: number;
  readonly swapTotal: number;
  readonly swapFree: number;
}

/** Load averages and task counts at the sample. */
export interface LoadLine {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly running: number | null;
  readonly blocked: number | null;
}

/** A frame's data. */
export interface TopFrame {
  /** The host shown. */
  readonly host: string;
  /** Every host with a process sample at the instant. */
  readonly hosts: readonly string[];
  /** The instant asked about (epoch milliseconds). */
  readonly at: number;
  /** When the process sample shown was taken. */
  readonly sampledAt: number;
  /** Milliseconds from the sample before it, when there is one. */
  readonly intervalMs: number | null;
  /** `all` first, then each CPU by number; empty without the cpu table. */
  readonly cpus: readonly CpuBusy[];
  readonly memory?: MemoryLine;
  readonly load?: LoadLine;
  /** PSI `some` avg10 per resource (cpu, io, memory), percent. */
  readonly pressure?: Readonly<Record<string, number>>;
  /** Bytes per second over whole disks (partitions left out, as they repeat their disk). */
  readonly disk?: { readonly read: number; readonly write: number };
  /** Bytes per second over every interface but loopback. */
  readonly net?: { readonly rx: number; readonly tx: number };
  /** Every process of the host at the sample, unsorted. */
  readonly processes: readonly PsRecord[];
  /** Whether the store cut an answer short. */
  readonly truncated: boolean;
}

/** What {@link loadFrame} asks. */
export interface FrameRequest {
  readonly at: number;
  readonly stalenessMs: number;
  /** The host to show; default the one with the newest sample. */
  readonly host?: string;
  readonly timeoutMs?: number;
}

type Rec = Record<string, Cell>;

const num = (cell: Cell | undefined): number => (typeof cell === 'number' ? cell : typeof cell === 'string' ? Number(cell) : Number.NaN);
const msOf = (cell: Cell | undefined): number => (typeof cell === 'string' ? Date.parse(cell) : Number.NaN);

/**
 * Loads the frame at `request.at`. NOT_FOUND when no process sample lies within the staleness
 * window before it (or none of `request.host`'s).
 */
export async function loadFrame(reader: StoreReader, request: FrameRequest): Promise<Result<TopFrame>> {
  const timeouts = request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
  const ps = await psRows(reader, { at: request.at, stalenessMs: request.stalenessMs, sort: 'pid', ...timeouts });
  if (!ps.ok) return ps;
  const hosts = [...ps.value.sampledAt.keys()].sort();
  const host = request.host ?? [...ps.value.sampledAt].sort((a, b) => b[1] - a[1])[0]?.[0];
  const sampledAt = host === undefined ? undefined : ps.value.sampledAt.get(host);
  if (host === undefined || sampledAt === undefined) {
    const which = request.host === undefined ? 'no process sample' : `no process sample of host ${request.host}`;
    return { ok: false, status: { code: StatusCode.NOT_FOUND, message: `${which} in the ${formatDuration(request.stalenessMs)} up to ${new Date(request.at).toISOString()}`, retryable: false } };
  }
  const processes = rowObjects(ps.value).filter((row) => row['host'] === host);
  let truncated = ps.value.truncated;

  /** The host's current and previous rows of a metric table; undefined when the store holds no such table. */
  const sampled = async (table: string): Promise<Result<{ current: Rec[]; previous: Rec[] } | undefined>> => {
    const got = await reader.samples({ table, at: request.at, stalenessMs: request.stalenessMs, ...timeouts });
    if (!got.ok) return got.status.code === StatusCode.INVALID_ARGUMENT ? ok(undefined) : got;
    truncated ||= got.value.current.truncated || got.value.previous.truncated;
    const mine = (rows: Rec[]): Rec[] => rows.filter((row) => row['host'] === host);
    return ok({ current: mine(rowObjects(got.value.current)), previous: mine(rowObjects(got.value.previous)) });
  };

  const [cpu, memory, load, pressure, disk, net] = await Promise.all(['cpu', 'memory', 'load', 'pressure', 'disk_io', 'net_dev'].map(sampled));
  for (const part of [cpu, memory, load, pressure, disk, net]) if (!part!.ok) return part as Result<never>;
  const value = <T>(part: Result<T> | undefined): T | undefined => (part !== undefined && part.ok ? part.value : undefined);

  const previousAt = ps.value.previousAt.get(host);
  return ok({
    host,
    hosts,
    at: request.at,
    sampledAt,
    intervalMs: previousAt === undefined ? null : sampledAt - previousAt,
    cpus: cpuLines(value(cpu)),
    ...optional('memory', memoryLine(value(memory)?.current[0])),
    ...optional('load', loadLine(value(load)?.current[0])),
    ...optional('pressure', pressureLine(value(pressure)?.current)),
    ...optional('disk', rates(value(disk), 'name', 'read_bytes', 'write_bytes', (names) => wholeDisks(names))),
    ...optional('net', renamed(rates(value(net), 'interface', 'rx_bytes', 'tx_bytes', (names) => new Set([...names].filter((name) => name !== 'lo'))))),
    processes,
    truncated,
  });
}

/** `{ [key]: value }`, or nothing when value is undefined (the frame's optional parts). */
function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

function cpuLines(part: { current: Rec[]; previous: Rec[] } | undefined): CpuBusy[] {
  if (part === undefined) return [];
  const before = new Map(part.previous.map((row) => [String(row['cpu']), row]));
  const lines: CpuBusy[] = [];
  for (const row of part.current) {
    const prev = before.get(String(row['cpu']));
    if (prev === undefined) continue;
    const delta = Object.fromEntries(CPU_FIELDS.map((field) => [field, Math.max(0, num(row[field]) - num(prev[field]))])) as Record<(typeof CPU_FIELDS)[number], number>;
    const total = CPU_FIELDS.reduce((sum, field) => sum + (Number.isFinite(delta[field]) ? delta[field] : 0), 0);
    if (!(total > 0)) continue;
    const pct = (ms: number): number => (Number.isFinite(ms) ? (100 * ms) / total : 0);
    lines.push({
      cpu: String(row['cpu']),
      busy: 100 - pct(delta.idle) - pct(delta.iowait),
      user: pct(delta.user) + pct(delta.nice),
      system: pct(delta.system) + pct(delta.irq) + pct(delta.softirq),
      iowait: pct(delta.iowait),
      steal: pct(delta.steal),
    });
  }
  return lines.sort((a, b) => (a.cpu === 'all' ? -1 : b.cpu === 'all' ? 1 : num(a.cpu) - num(b.cpu)));
}

function memoryLine(row: Rec | undefined): MemoryLine | undefined {
  if (row === undefined) return undefined;
  const line = { total: num(row['mem_total']), available: num(row['mem_available']), cached: num(row['cached']), swapTotal: num(row['swap_total']), swapFree: num(row['swap_free']) };
  return Number.isFinite(line.total) ? line : undefined;
}

function loadLine(row: Rec | undefined): LoadLine | undefined {
  if (row === undefined) return undefined;
  const count = (cell: Cell | undefined): number | null => (Number.isFinite(num(cell)) ? num(cell) : null);
  return { load1: num(row['load1']), load5: num(row['load5']), load15: num(row['load15']), running: count(row['procs_running']), blocked: count(row['procs_blocked']) };
}

function pressureLine(rows: Rec[] | undefined): Record<string, number> | undefined {
  const some = (rows ?? []).filter((row) => row['kind'] === 'some' && Number.isFinite(num(row['avg10'])));
  return some.length === 0 ? undefined : Object.fromEntries(some.map((row) => [String(row['resource']), num(row['avg10'])]));
}

/**
 * Per second, summed over the rows `keep` selects: the two counters' change between each key's
 * current and previous rows (a counter that went back, as after a device came back, counts 0).
 */
function rates(
  part: { current: Rec[]; previous: Rec[] } | undefined,
  key: string,
  first: string,
  second: string,
  keep: (names: ReadonlySet<string>) => ReadonlySet<string>,
): { read: number; write: number } | undefined {
  if (part === undefined || part.current.length === 0) return undefined;
  const before = new Map(part.previous.map((row) => [String(row[key]), row]));
  const kept = keep(new Set(part.current.map((row) => String(row[key]))));
  let [a, b, seconds] = [0, 0, 0];
  for (const row of part.current) {
    const prev = before.get(String(row[key]));
    if (prev === undefined || !kept.has(String(row[key]))) continue;
    const elapsed = (msOf(row['ts']) - msOf(prev['ts'])) / 1000;
    if (!(elapsed > 0)) continue;
    a += Math.max(0, num(row[first]) - num(prev[first]) || 0) / elapsed;
    b += Math.max(0, num(row[second]) - num(prev[second]) || 0) / elapsed;
    seconds = elapsed;
  }
  return seconds === 0 ? undefined : { read: a, write: b };
}

function renamed(value: { read: number; write: number } | undefined): { rx: number; tx: number } | undefined {
  return value === undefined ? undefined : { rx: value.read, tx: value.write };
}

/**
 * The names of whole disks among /proc/diskstats names: a partition is a name that another name
 * starts (vda1 of vda, nvme0n1p1 of nvme0n1, mmcblk0p1 of mmcblk0); loop and ram devices are
 * left out as they repeat the IO of the files and memory behind them.
 */
export function wholeDisks(names: ReadonlySet<string>): ReadonlySet<string> {
  const kept = new Set<string>();
  for (const name of names) {
    if (/^(loop|ram|zram)\d+$/.test(name)) continue;
    const partitionOf = [...names].some((other) => other !== name && name.startsWith(other) && /^p?\d+$/.test(name.slice(other.length)));
    if (!partitionOf) kept.add(name);
  }
  return kept;
}
