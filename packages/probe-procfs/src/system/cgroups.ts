/**
 * The cgroups table: a breadth-first walk of the cgroup v2 hierarchy and of the v1 cpu,
 * cpuacct, memory, pids and blkio hierarchies where they are mounted (hybrid hosts have both),
 * bounded by depth, count and the table's budget. One row per path: on hybrid hosts v2 values
 * win and v1 fills what v2 lacks (v2 without controllers has only cpu.stat's usage).
 */
import type { Batch, Result } from '@virtualeyes/core';
import { toCount, type Count } from '@virtualeyes/linux';
import type { Budget } from '../group.js';
import { missingSource, type Io } from './io.js';
import { parseBlkio, parseIoStat, parseLimit } from './parse/cgroup.js';
import { parseKeyed } from './parse/keyed.js';
import { SystemTable } from './tables.js';

const ROOT = '/sys/fs/cgroup';
/** v1 controllers read, and what each gives. */
const V1_CONTROLLERS = ['cpuacct', 'cpu', 'memory', 'pids', 'blkio'] as const;
type Controller = (typeof V1_CONTROLLERS)[number];
/** v1's "no limit": PAGE_COUNTER_MAX pages in bytes is just under 2^63; anything from 2^62 up is no real limit. */
const V1_UNLIMITED = 2n ** 62n;
/** Interface files of both versions are `<controller>.<name>`; these prefixes (and v1's plain files) are never child cgroups. */
const FILE_PREFIXES: ReadonlySet<string> = new Set([
  'cgroup', 'cpu', 'cpuacct', 'cpuset', 'memory', 'io', 'blkio', 'pids', 'hugetlb', 'rdma', 'misc', 'devices', 'freezer', 'net_cls', 'net_prio', 'perf_event', 'irq', 'memory_recursiveprot',
]);
const V1_FILES: ReadonlySet<string> = new Set(['tasks', 'notify_on_release', 'release_agent']);
const NS_PER_US = 1000n;
const US_PER_S = 1_000_000;

/** A hierarchy to walk. */
interface Hierarchy {
  readonly dir: string;
  /** undefined for v2. */
  readonly controller: Controller | undefined;
}

/** What bounds the walk. */
export interface CgroupLimits {
  readonly maxDepth: number;
  readonly maxCount: number;
  /** USER_HZ, for v1 cpuacct.stat. */
  readonly userHz: number;
}

/** The hierarchies mounted under /sys/fs/cgroup: v2 alone (unified), or v2 at unified/ beside v1 controllers (hybrid), or v1 alone. */
function hierarchies(io: Io): Hierarchy[] {
  if (io.files.readText(`${ROOT}/cgroup.controllers`).ok) return [{ dir: ROOT, controller: undefined }];
  const found: Hierarchy[] = [];
  if (io.files.readText(`${ROOT}/unified/cgroup.controllers`).ok) found.push({ dir: `${ROOT}/unified`, controller: undefined });
  for (const controller of V1_CONTROLLERS) {
    // cgroup.clone_children exists only in v1 and is one byte; cgroup.procs would list every pid.
    if (io.files.readText(`${ROOT}/${controller}/cgroup.clone_children`).ok) found.push({ dir: `${ROOT}/${controller}`, controller });
  }
  return found;
}

/** cgroups rows. */
export function collectCgroups(io: Io, budget: Budget, limits: CgroupLimits): Batch | undefined {
  const ts = io.clock.now();
  const found = hierarchies(io);
  if (found.length === 0) {
    io.once('cgroup', missingSource(SystemTable.CGROUPS, `no cgroup hierarchy under ${ROOT} (not mounted, or not shared with this container)`));
    return undefined;
  }
  const rows = new Map<string, Record<string, Count | string | null>>();
  let visited = 0;
  for (const hierarchy of found) {
    const queue: { path: string; depth: number }[] = [{ path: '/', depth: 0 }];
    for (let next = 0; next < queue.length; next += 1) {
      if (budget.expired()) {
        io.errors.push(budget.cutShort(SystemTable.CGROUPS, visited, visited + queue.length - next));
        return { table: SystemTable.CGROUPS, ts, rows: [...rows.values()], snapshot: false };
      }
      const { path, depth } = queue[next]!;
      const dir = path === '/' ? hierarchy.dir : `${hierarchy.dir}${path}`;
      const entries = io.files.readDir(dir);
      // A cgroup removed since its parent was listed, or an entry that is a file after all.
      if (!entries.ok) continue;
      let row = rows.get(path);
      if (row === undefined) {
        if (rows.size >= limits.maxCount) {
          io.once('cgroup-count', missingSource(SystemTable.CGROUPS, `more than cgroupMaxCount (${limits.maxCount}) cgroups; the walk stops there (raise cgroupMaxCount or lower cgroupMaxDepth)`));
          continue;
        }
        row = emptyRow(path);
        rows.set(path, row);
      }
      visited += 1;
      fill(io, row, dir, hierarchy.controller, limits.userHz);
      if (depth >= limits.maxDepth) continue;
      for (const name of entries.value.sort()) {
        if (V1_FILES.has(name) || FILE_PREFIXES.has(name.slice(0, name.indexOf('.')))) continue;
        queue.push({ path: path === '/' ? `/${name}` : `${path}/${name}`, depth: depth + 1 });
      }
    }
  }
  return { table: SystemTable.CGROUPS, ts, rows: [...rows.values()], snapshot: true };
}

const VALUE_COLUMNS = [
  'cpu_usage', 'cpu_user', 'cpu_system', 'nr_periods', 'nr_throttled', 'throttled_time', 'memory_current', 'memory_max',
  'memory_high_events', 'memory_max_events', 'oom', 'oom_kill', 'io_read_bytes', 'io_write_bytes', 'io_reads', 'io_writes', 'pids_current', 'pids_max',
] as const;

function emptyRow(path: string): Record<string, Count | string | null> {
  const row: Record<string, Count | string | null> = { path, version: '' };
  for (const name of VALUE_COLUMNS) row[name] = null;
  return row;
}

/** Fills the columns still null in `row` from one hierarchy's files in `dir`. */
function fill(io: Io, row: Record<string, Count | string | null>, dir: string, controller: Controller | undefined, userHz: number): void {
  const version = controller === undefined ? 'v2' : 'v1';
  if (row.version === '') row.version = version;
  else if (row.version !== version) row.version = 'v1+v2';
  const set = (name: (typeof VALUE_COLUMNS)[number], value: Count | null | undefined): void => {
    if (row[name] === null && value !== undefined) row[name] = value;
  };
  const keyed = (file: string): ReadonlyMap<string, Count> | undefined => {
    const text = io.files.readText(`${dir}/${file}`);
    if (!text.ok) return undefined;
    const parsed = parseKeyed(text.value, `${dir}/${file}`);
    if (!parsed.ok) io.errors.push(parsed.status);
    return parsed.ok ? parsed.value : undefined;
  };
  const limit = (file: string, unlimitedFrom?: bigint): Count | null | undefined => {
    const text = io.files.readText(`${dir}/${file}`);
    if (!text.ok) return undefined;
    const parsed = parseLimit(text.value, `${dir}/${file}`, unlimitedFrom);
    if (!parsed.ok) io.errors.push(parsed.status);
    return parsed.ok ? parsed.value : undefined;
  };
  const totals = <T>(file: string, parse: (text: string, source: string) => Result<T>): T | undefined => {
    const text = io.files.readText(`${dir}/${file}`);
    if (!text.ok) return undefined;
    const parsed = parse(text.value, `${dir}/${file}`);
    if (!parsed.ok) io.errors.push(parsed.status);
    return parsed.ok ? parsed.value : undefined;
  };
  switch (controller) {
    case undefined: {
      const cpu = keyed('cpu.stat');
      set('cpu_usage', cpu?.get('usage_usec'));
      set('cpu_user', cpu?.get('user_usec'));
      set('cpu_system', cpu?.get('system_usec'));
      set('nr_periods', cpu?.get('nr_periods'));
      set('nr_throttled', cpu?.get('nr_throttled'));
      set('throttled_time', cpu?.get('throttled_usec'));
      set('memory_current', limit('memory.current'));
      setLimit(row, 'memory_max', limit('memory.max'));
      const events = keyed('memory.events');
      set('memory_high_events', events?.get('high'));
      set('memory_max_events', events?.get('max'));
      set('oom', events?.get('oom'));
      set('oom_kill', events?.get('oom_kill'));
      const ioStat = totals('io.stat', parseIoStat);
      set('io_read_bytes', ioStat === undefined ? undefined : toCount(ioStat.rbytes));
      set('io_write_bytes', ioStat === undefined ? undefined : toCount(ioStat.wbytes));
      set('io_reads', ioStat === undefined ? undefined : toCount(ioStat.rios));
      set('io_writes', ioStat === undefined ? undefined : toCount(ioStat.wios));
      set('pids_current', limit('pids.current'));
      setLimit(row, 'pids_max', limit('pids.max'));
      break;
    }
    case 'cpuacct': {
      const usage = limit('cpuacct.usage');
      set('cpu_usage', usage === undefined || usage === null ? undefined : toCount(BigInt(usage) / NS_PER_US));
      const stat = keyed('cpuacct.stat');
      const us = (ticks: Count | undefined): Count | undefined => (ticks === undefined ? undefined : toCount((BigInt(ticks) * BigInt(US_PER_S)) / BigInt(userHz)));
      set('cpu_user', us(stat?.get('user')));
      set('cpu_system', us(stat?.get('system')));
      break;
    }
    case 'cpu': {
      const stat = keyed('cpu.stat');
      set('nr_periods', stat?.get('nr_periods'));
      set('nr_throttled', stat?.get('nr_throttled'));
      const ns = stat?.get('throttled_time');
      set('throttled_time', ns === undefined ? undefined : toCount(BigInt(ns) / NS_PER_US));
      break;
    }
    case 'memory': {
      set('memory_current', limit('memory.usage_in_bytes'));
      setLimit(row, 'memory_max', limit('memory.limit_in_bytes', V1_UNLIMITED));
      set('memory_max_events', limit('memory.failcnt'));
      set('oom_kill', keyed('memory.oom_control')?.get('oom_kill'));
      break;
    }
    case 'pids': {
      set('pids_current', limit('pids.current'));
      setLimit(row, 'pids_max', limit('pids.max'));
      break;
    }
    case 'blkio': {
      const bytes = totals('blkio.throttle.io_service_bytes_recursive', parseBlkio);
      const ops = totals('blkio.throttle.io_serviced_recursive', parseBlkio);
      set('io_read_bytes', bytes === undefined ? undefined : toCount(bytes.read));
      set('io_write_bytes', bytes === undefined ? undefined : toCount(bytes.write));
      set('io_reads', ops === undefined ? undefined : toCount(ops.read));
      set('io_writes', ops === undefined ? undefined : toCount(ops.write));
      break;
    }
  }
}

/** A limit column: the number, or null for unlimited (already null, so nothing to set). */
function setLimit(row: Record<string, Count | string | null>, name: 'memory_max' | 'pids_max', value: Count | null | undefined): void {
  if (row[name] === null && value !== undefined && value !== null) row[name] = value;
}
