/**
 * Rows of the host-wide tables (system_info, cpu, memory, load) from already parsed files.
 * Pure functions: the collector reads the files once per collection and hands the parsed
 * values to whichever of these builders are due.
 */
import type { Row } from '@virtualeyes/core';
import { ticksToMs, type Count } from '@virtualeyes/linux';
import type { CpuInfo } from '../parse/cpuinfo.js';
import type { LoadAvg } from '../parse/loadavg.js';
import type { ProcStat } from '../parse/proc-stat.js';
import { MEMINFO_FIELDS } from '../tables.js';

/** What system_info is built from; optional sources are null when unavailable. */
export interface SystemSources {
  readonly hostname: string;
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly arch: string | null;
  readonly osRelease: ReadonlyMap<string, string> | null;
  readonly machineId: string | null;
  readonly bootId: string | null;
  readonly stat: ProcStat;
  /** Boot time, epoch milliseconds, as the probe first read it (so it agrees with start times). */
  readonly bootMs: number;
  readonly meminfo: ReadonlyMap<string, Count>;
  readonly cpuinfo: CpuInfo | null;
  readonly numaNodes: number | null;
}

/** The one system_info row. */
export function systemInfoRow(s: SystemSources): Row {
  return {
    hostname: s.hostname,
    kernel: s.kernel,
    kernel_version: s.kernelVersion,
    arch: s.arch,
    os: s.osRelease?.get('PRETTY_NAME') ?? null,
    os_id: s.osRelease?.get('ID') ?? null,
    os_version: s.osRelease?.get('VERSION_ID') ?? null,
    machine_id: s.machineId,
    boot_id: s.bootId,
    boot_time: s.bootMs,
    cpu_model: s.cpuinfo?.model ?? null,
    cpu_vendor: s.cpuinfo?.vendor ?? null,
    cpu_count: s.stat.cpus.length - 1,
    cpu_cores: s.cpuinfo?.cores ?? null,
    cpu_sockets: s.cpuinfo?.sockets ?? null,
    numa_nodes: s.numaNodes,
    memory_total: s.meminfo.get('MemTotal') ?? 0,
  };
}

/** One cpu row per line of /proc/stat, times in milliseconds. */
export function cpuRows(stat: ProcStat, userHz: number): Row[] {
  const ms = (ticks: number): number => ticksToMs(ticks, userHz);
  const msOrNull = (ticks: number | null): number | null => (ticks === null ? null : ticksToMs(ticks, userHz));
  return stat.cpus.map((cpu) => ({
    cpu: cpu.cpu,
    user: ms(cpu.user),
    nice: ms(cpu.nice),
    system: ms(cpu.system),
    idle: ms(cpu.idle),
    iowait: ms(cpu.iowait),
    irq: ms(cpu.irq),
    softirq: ms(cpu.softirq),
    steal: msOrNull(cpu.steal),
    guest: msOrNull(cpu.guest),
    guest_nice: msOrNull(cpu.guestNice),
  }));
}

/** The memory row: every declared meminfo field, null where the kernel has none. */
export function memoryRow(meminfo: ReadonlyMap<string, Count>): Row {
  const row: Record<string, Count | null> = {};
  for (const [column, key] of MEMINFO_FIELDS) row[column] = meminfo.get(key) ?? null;
  return row;
}

/** The load row from /proc/loadavg and the counters of /proc/stat. */
export function loadRow(loadavg: LoadAvg, stat: ProcStat): Row {
  return {
    load1: loadavg.load1,
    load5: loadavg.load5,
    load15: loadavg.load15,
    procs_running: stat.procsRunning,
    procs_blocked: stat.procsBlocked,
    tasks: loadavg.total,
    context_switches: stat.ctxt,
    forks: stat.processes,
    interrupts: stat.intr,
    softirqs: stat.softirq,
  };
}

/** NUMA nodes among the entries of /sys/devices/system/node (`node0`, `node1`…). */
export function countNodes(entries: readonly string[]): number {
  let nodes = 0;
  for (const entry of entries) {
    if (entry.length > 4 && entry.startsWith('node') && /^\d+$/.test(entry.slice(4))) nodes += 1;
  }
  return nodes;
}
