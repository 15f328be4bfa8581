/**
 * cpu_info, numa_nodes and numa_stats: /proc/cpuinfo for the model and flags, sysfs
 * (/sys/devices/system/{cpu,node}) for topology, caches, frequency limits and per-node memory.
 */
import { StatusCode, type Batch, type Row } from '@virtualeyes/core';
import type { Count } from '@virtualeyes/linux';
import type { Budget } from '../group.js';
import { isMissing, missingSource, type Io } from './io.js';
import { parseCacheSize, parseCpuEntries, parseCpuList, type CpuEntry } from './parse/cpus.js';
import { parseKeyed, parseNodeMeminfo } from './parse/keyed.js';
import { SystemTable } from './tables.js';

const CPU_DIR = '/sys/devices/system/cpu';
const NODE_DIR = '/sys/devices/system/node';
/** Flags worth a column of their own, in the order notable_flags lists them. */
export const NOTABLE_FLAGS: readonly string[] = [
  'aes',
  'avx',
  'avx2',
  'avx512f',
  'sha_ni',
  'sse4_2',
  'vmx',
  'svm',
  'hypervisor',
  'rdrand',
  'nx',
  'ht',
  'constant_tsc',
  'nonstop_tsc',
  'asimd',
  'sve',
  'sve2',
  'sha2',
  'atomics',
];
const KHZ_PER_MHZ = 1000;

/** cpu_info rows: one per processor of /proc/cpuinfo, with sysfs topology, caches and cpufreq limits. */
export function collectCpuInfo(io: Io, budget: Budget): Batch | undefined {
  const ts = io.clock.now();
  const text = io.host('/proc/cpuinfo');
  const parsed = text.ok ? parseCpuEntries(text.value) : text;
  if (!parsed.ok) {
    io.errors.push(parsed.status);
    return undefined;
  }
  const rows: Row[] = [];
  for (const entry of parsed.value) {
    if (budget.expired()) {
      io.errors.push(budget.cutShort(SystemTable.CPU_INFO, rows.length, parsed.value.length));
      return { table: SystemTable.CPU_INFO, ts, rows, snapshot: false };
    }
    rows.push(cpuRow(io, entry));
  }
  return { table: SystemTable.CPU_INFO, ts, rows, snapshot: true };
}

function cpuRow(io: Io, entry: CpuEntry): Row {
  const dir = `${CPU_DIR}/cpu${entry.cpu}`;
  const int = (path: string): number | null => {
    const text = io.attribute(path);
    return text !== null && /^\d{1,9}$/.test(text) ? Number(text) : null;
  };
  const caches = cacheSizes(io, dir);
  const listing = io.files.readDir(dir);
  const nodeEntry = listing.ok ? listing.value.find((name) => /^node\d+$/.test(name)) : undefined;
  const maxKhz = int(`${dir}/cpufreq/cpuinfo_max_freq`);
  const minKhz = int(`${dir}/cpufreq/cpuinfo_min_freq`);
  const flags = entry.flags;
  return {
    cpu: entry.cpu,
    package: int(`${dir}/topology/physical_package_id`) ?? entry.physicalId,
    core: int(`${dir}/topology/core_id`) ?? entry.coreId,
    numa_node: nodeEntry === undefined ? null : Number(nodeEntry.slice(4)),
    model: entry.model,
    manufacturer: entry.vendor,
    microcode: entry.microcode,
    l1d_cache: caches.get('1 Data') ?? null,
    l1i_cache: caches.get('1 Instruction') ?? null,
    l2_cache: caches.get('2 Unified') ?? null,
    l3_cache: caches.get('3 Unified') ?? null,
    flags_count: flags === null ? null : flags.length,
    flags_hash: flags === null ? null : fnv1a(flags.join(' ')),
    notable_flags: flags === null ? null : NOTABLE_FLAGS.filter((flag) => flags.includes(flag)),
    max_clock_speed: maxKhz === null ? null : Math.round(maxKhz / KHZ_PER_MHZ),
    min_clock_speed: minKhz === null ? null : Math.round(minKhz / KHZ_PER_MHZ),
  };
}

/** `level type` (`1 Data`, `2 Unified`) → size in bytes, from cache/index*; empty when sysfs has no cache folder (many VMs). */
function cacheSizes(io: Io, dir: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const indexes = io.files.readDir(`${dir}/cache`);
  if (!indexes.ok) return sizes;
  for (const index of indexes.value) {
    if (!index.startsWith('index')) continue;
    const level = io.attribute(`${dir}/cache/${index}/level`);
    const type = io.attribute(`${dir}/cache/${index}/type`);
    const sizeText = io.attribute(`${dir}/cache/${index}/size`);
    if (level === null || type === null || sizeText === null) continue;
    const size = parseCacheSize(sizeText, `${dir}/cache/${index}/size`);
    if (size.ok) sizes.set(`${level} ${type}`, size.value);
  }
  return sizes;
}

/** FNV-1a, 32 bits, as 8 hex digits: short, stable across runs and platforms. */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The node numbers under /sys/devices/system/node, or undefined (reported once) when the kernel has no NUMA folder. */
function nodes(io: Io, table: string): number[] | undefined {
  const listing = io.files.readDir(NODE_DIR);
  if (!listing.ok) {
    if (isMissing(listing.status)) io.once('numa', missingSource(table, `no ${NODE_DIR} (a kernel without NUMA, or sysfs not mounted); numa_nodes and numa_stats stay empty`));
    else io.errors.push(listing.status);
    return undefined;
  }
  return listing.value
    .filter((name) => /^node\d+$/.test(name))
    .map((name) => Number(name.slice(4)))
    .sort((a, b) => a - b);
}

/** numa_nodes rows: memory size and CPU list per node. */
export function collectNumaNodes(io: Io, budget: Budget): Batch | undefined {
  const ts = io.clock.now();
  const found = nodes(io, SystemTable.NUMA_NODES);
  if (found === undefined) return undefined;
  const rows: Row[] = [];
  let complete = true;
  for (const node of found) {
    if (budget.expired()) {
      io.errors.push(budget.cutShort(SystemTable.NUMA_NODES, rows.length, found.length));
      return { table: SystemTable.NUMA_NODES, ts, rows, snapshot: false };
    }
    const meminfo = readNodeMeminfo(io, node);
    const cpulistPath = `${NODE_DIR}/node${node}/cpulist`;
    const cpulist = io.attribute(cpulistPath) ?? '';
    const cpus = parseCpuList(cpulist, cpulistPath);
    if (!cpus.ok) io.errors.push(cpus.status);
    if (meminfo === undefined) {
      complete = false;
      continue;
    }
    rows.push({ node, mem_total: meminfo.get('MemTotal') ?? 0, cpulist: cpulist.trim(), cpu_count: cpus.ok ? cpus.value.length : 0 });
  }
  return { table: SystemTable.NUMA_NODES, ts, rows, snapshot: complete };
}

/** numa_stats rows: free memory and numastat counters per node. */
export function collectNumaStats(io: Io, budget: Budget): Batch | undefined {
  const ts = io.clock.now();
  const found = nodes(io, SystemTable.NUMA_STATS);
  if (found === undefined) return undefined;
  const rows: Row[] = [];
  for (const node of found) {
    if (budget.expired()) {
      io.errors.push(budget.cutShort(SystemTable.NUMA_STATS, rows.length, found.length));
      break;
    }
    const meminfo = readNodeMeminfo(io, node);
    const path = `${NODE_DIR}/node${node}/numastat`;
    const text = io.files.readText(path);
    const stat = text.ok ? parseKeyed(text.value, path) : text;
    if (!stat.ok) {
      if (!isMissing(stat.status)) io.errors.push(stat.status);
      continue;
    }
    if (meminfo === undefined) continue;
    const value = (key: string): Count => stat.value.get(key) ?? 0;
    rows.push({
      node,
      mem_free: meminfo.get('MemFree') ?? 0,
      mem_used: meminfo.get('MemUsed') ?? null,
      numa_hit: value('numa_hit'),
      numa_miss: value('numa_miss'),
      numa_foreign: value('numa_foreign'),
      interleave_hit: value('interleave_hit'),
      local_node: value('local_node'),
      other_node: value('other_node'),
    });
  }
  return { table: SystemTable.NUMA_STATS, ts, rows, snapshot: true };
}

function readNodeMeminfo(io: Io, node: number): ReadonlyMap<string, Count> | undefined {
  const path = `${NODE_DIR}/node${node}/meminfo`;
  const text = io.files.readText(path);
  const parsed = text.ok ? parseNodeMeminfo(text.value, path) : text;
  if (parsed.ok) return parsed.value;
  // A node going offline between the listing and the read is not an error.
  if (parsed.status.code !== StatusCode.NOT_FOUND) io.errors.push(parsed.status);
  return undefined;
}
