/**
 * The tables this probe produces, declared once: names, kinds, keys, typed columns with
 * units and default intervals. The manifest lists them, the collectors fill them, and the
 * README's tables block is generated from them. Column names are a public contract.
 */
import { column, type TableSchema } from '@virtualeyes/core';
import { DETAIL_TABLES } from './detail/tables.js';
import { EVENTS_TABLES } from './events/tables.js';
import { PROCESS_KEY } from './process-key.js';
import { SYSTEM_TABLES } from './system/tables.js';

/** Names of the tables this probe produces. */
export const Table = {
  SYSTEM_INFO: 'system_info',
  CPU: 'cpu',
  MEMORY: 'memory',
  LOAD: 'load',
  PROCESSES: 'processes',
  PROCESS_STATS: 'process_stats',
  PROCESS_SCHED: 'process_sched',
} as const;

/** One of the {@link Table} names. */
export type Table = (typeof Table)[keyof typeof Table];

/** The host's identity and hardware: one row, a new version whenever something changes. */
export const SYSTEM_INFO_TABLE: TableSchema = {
  name: Table.SYSTEM_INFO,
  kind: 'state',
  description: 'The host: name, kernel, OS release, boot, CPUs, NUMA nodes and memory size.',
  key: [],
  defaultIntervalMs: 60_000,
  columns: [
    column.text('hostname', 'Host name (/proc/sys/kernel/hostname).'),
    column.text('kernel', 'Kernel release, as `uname -r` prints it.'),
    column.text('kernel_version', 'Kernel build string, as `uname -v` prints it.'),
    column.text('arch', 'Machine architecture, as `uname -m` prints it (kernels before 6.1 have no /proc/sys/kernel/arch).', { nullable: true }),
    column.text('os', 'PRETTY_NAME from /etc/os-release.', { nullable: true }),
    column.text('os_id', 'ID from /etc/os-release (debian, rhel, alpine…).', { nullable: true }),
    column.text('os_version', 'VERSION_ID from /etc/os-release.', { nullable: true }),
    column.text('machine_id', 'Contents of /etc/machine-id: stable across boots and renames.', { nullable: true }),
    column.text('boot_id', 'Random id the kernel picks at each boot.', { nullable: true }),
    column.timestamp('boot_time', 'When the host booted (btime in /proc/stat).'),
    column.text('cpu_model', 'CPU model name from /proc/cpuinfo.', { nullable: true }),
    column.text('cpu_vendor', 'CPU vendor id from /proc/cpuinfo.', { nullable: true }),
    column.int32('cpu_count', 'Online logical CPUs.', { unit: 'count' }),
    column.int32('cpu_cores', 'Online physical cores (distinct socket and core ids).', { unit: 'count', nullable: true }),
    column.int32('cpu_sockets', 'CPU packages (distinct physical ids).', { unit: 'count', nullable: true }),
    column.int32('numa_nodes', 'NUMA nodes (1 on kernels built without NUMA).', { unit: 'count' }),
    column.int64('memory_total', 'Usable physical memory (MemTotal).', { unit: 'bytes' }),
  ],
};

const CPU_TIMES: readonly (readonly [string, string, boolean])[] = [
  ['user', 'Time in user mode, guest time included.', false],
  ['nice', 'Time in user mode at a positive nice value, guest_nice included.', false],
  ['system', 'Time in kernel mode.', false],
  ['idle', 'Idle time.', false],
  ['iowait', 'Idle time with I/O outstanding.', false],
  ['irq', 'Time servicing hardware interrupts.', false],
  ['softirq', 'Time servicing soft interrupts.', false],
  ['steal', 'Time stolen by the hypervisor for other guests.', true],
  ['guest', 'Time running a guest vCPU (also counted in user).', true],
  ['guest_nice', 'Time running a niced guest vCPU (also counted in nice).', true],
];

/** Cumulative CPU time per logical CPU and for all of them. */
export const CPU_TABLE: TableSchema = {
  name: Table.CPU,
  kind: 'metric',
  description: 'Cumulative CPU time per logical CPU, and summed over all of them (cpu = all).',
  key: ['cpu'],
  defaultIntervalMs: 1000,
  columns: [
    column.text('cpu', "Logical CPU number ('0', '1'…), or 'all' for the sum."),
    ...CPU_TIMES.map(([name, description, nullable]) => column.int64(name, `${description} Cumulative since boot.`, { unit: 'ms', nullable, counter: true })),
  ],
};

/** /proc/meminfo fields: column, meminfo key, unit, description. kB values are stored in bytes. */
export const MEMINFO_FIELDS: readonly (readonly [column: string, key: string, unit: 'bytes' | 'count', description: string])[] = [
  ['mem_total', 'MemTotal', 'bytes', 'Usable physical memory.'],
  ['mem_free', 'MemFree', 'bytes', 'Memory not used at all.'],
  ['mem_available', 'MemAvailable', 'bytes', 'Estimate of memory available to start new programs without swapping.'],
  ['buffers', 'Buffers', 'bytes', 'Block device buffers.'],
  ['cached', 'Cached', 'bytes', 'Page cache, excluding swap cache.'],
  ['swap_cached', 'SwapCached', 'bytes', 'Swapped-out memory also still in RAM.'],
  ['active', 'Active', 'bytes', 'Recently used memory, not reclaimed unless needed.'],
  ['inactive', 'Inactive', 'bytes', 'Less recently used memory, first to be reclaimed.'],
  ['active_anon', 'Active(anon)', 'bytes', 'Active anonymous and shmem memory.'],
  ['inactive_anon', 'Inactive(anon)', 'bytes', 'Inactive anonymous and shmem memory.'],
  ['active_file', 'Active(file)', 'bytes', 'Active file-backed memory.'],
  ['inactive_file', 'Inactive(file)', 'bytes', 'Inactive file-backed memory.'],
  ['unevictable', 'Unevictable', 'bytes', 'Memory that cannot be reclaimed (mlocked, ramfs…).'],
  ['mlocked', 'Mlocked', 'bytes', 'Memory locked with mlock().'],
  ['swap_total', 'SwapTotal', 'bytes', 'Swap space.'],
  ['swap_free', 'SwapFree', 'bytes', 'Unused swap space.'],
  ['zswap', 'Zswap', 'bytes', 'Memory used by the zswap compressed cache.'],
  ['zswapped', 'Zswapped', 'bytes', 'Anonymous memory held compressed in zswap.'],
  ['dirty', 'Dirty', 'bytes', 'Memory waiting to be written back to disk.'],
  ['writeback', 'Writeback', 'bytes', 'Memory being written back to disk.'],
  ['writeback_tmp', 'WritebackTmp', 'bytes', 'Memory used by FUSE for temporary writeback buffers.'],
  ['nfs_unstable', 'NFS_Unstable', 'bytes', 'NFS pages sent to the server but not yet committed (always 0 since 5.8).'],
  ['bounce', 'Bounce', 'bytes', 'Memory used for block device bounce buffers.'],
  ['anon_pages', 'AnonPages', 'bytes', 'Anonymous memory mapped into user page tables.'],
  ['mapped', 'Mapped', 'bytes', 'Files mapped into memory (libraries, mmap).'],
  ['shmem', 'Shmem', 'bytes', 'Shared memory and tmpfs.'],
  ['kreclaimable', 'KReclaimable', 'bytes', 'Kernel memory the kernel can reclaim under pressure.'],
  ['slab', 'Slab', 'bytes', 'Kernel slab allocations.'],
  ['sreclaimable', 'SReclaimable', 'bytes', 'Reclaimable part of slab (caches).'],
  ['sunreclaim', 'SUnreclaim', 'bytes', 'Unreclaimable part of slab.'],
  ['kernel_stack', 'KernelStack', 'bytes', 'Kernel stacks of all tasks.'],
  ['page_tables', 'PageTables', 'bytes', 'Page tables.'],
  ['sec_page_tables', 'SecPageTables', 'bytes', 'Secondary page tables (KVM, IOMMU) (6.0+).'],
  ['commit_limit', 'CommitLimit', 'bytes', 'Most memory that can be committed under strict overcommit.'],
  ['committed_as', 'Committed_AS', 'bytes', 'Memory committed by all processes (allocated, not necessarily used).'],
  ['vmalloc_used', 'VmallocUsed', 'bytes', 'vmalloc area in use.'],
  ['vmalloc_total', 'VmallocTotal', 'bytes', 'Size of the vmalloc address space.'],
  ['vmalloc_chunk', 'VmallocChunk', 'bytes', 'Largest free block of vmalloc space (0 since 4.4).'],
  ['percpu', 'Percpu', 'bytes', 'Per-CPU allocations.'],
  ['hardware_corrupted', 'HardwareCorrupted', 'bytes', 'Memory the kernel took out of use after hardware errors.'],
  ['anon_huge_pages', 'AnonHugePages', 'bytes', 'Anonymous memory backed by transparent huge pages.'],
  ['shmem_huge_pages', 'ShmemHugePages', 'bytes', 'Shared memory backed by transparent huge pages.'],
  ['shmem_pmd_mapped', 'ShmemPmdMapped', 'bytes', 'Shared memory mapped into user space with huge pages.'],
  ['file_huge_pages', 'FileHugePages', 'bytes', 'Page cache backed by transparent huge pages.'],
  ['file_pmd_mapped', 'FilePmdMapped', 'bytes', 'Page cache mapped into user space with huge pages.'],
  ['hugepages_total', 'HugePages_Total', 'count', 'Size of the hugetlb pool, in huge pages.'],
  ['hugepages_free', 'HugePages_Free', 'count', 'Huge pages of the pool not yet allocated.'],
  ['hugepages_rsvd', 'HugePages_Rsvd', 'count', 'Huge pages reserved but not yet allocated.'],
  ['hugepages_surp', 'HugePages_Surp', 'count', 'Huge pages above the configured pool size.'],
  ['hugepage_size', 'Hugepagesize', 'bytes', 'Default huge page size.'],
  ['hugetlb', 'Hugetlb', 'bytes', 'Memory used by huge pages of all sizes.'],
  ['cma_total', 'CmaTotal', 'bytes', 'Memory reserved for the contiguous memory allocator.'],
  ['cma_free', 'CmaFree', 'bytes', 'Free CMA memory.'],
  ['balloon', 'Balloon', 'bytes', 'Memory a virtio balloon driver took back for the hypervisor (6.12+).'],
  ['unaccepted', 'Unaccepted', 'bytes', 'Memory a confidential VM (TDX, SEV-SNP) has not accepted yet (6.5+).'],
  ['direct_map_4k', 'DirectMap4k', 'bytes', 'Kernel direct map backed by 4 KiB pages (x86).'],
  ['direct_map_2m', 'DirectMap2M', 'bytes', 'Kernel direct map backed by 2 MiB pages (x86-64).'],
  ['direct_map_4m', 'DirectMap4M', 'bytes', 'Kernel direct map backed by 4 MiB pages (32-bit x86 without PAE).'],
  ['direct_map_1g', 'DirectMap1G', 'bytes', 'Kernel direct map backed by 1 GiB pages (x86-64).'],
];

/** meminfo keys a valid /proc/meminfo always has; their columns are not nullable. */
export const REQUIRED_MEMINFO: readonly string[] = ['MemTotal', 'MemFree'];

/** Memory use from /proc/meminfo. */
export const MEMORY_TABLE: TableSchema = {
  name: Table.MEMORY,
  kind: 'metric',
  description: 'System memory use from /proc/meminfo, in bytes; fields the kernel lacks are null.',
  key: [],
  defaultIntervalMs: 1000,
  columns: MEMINFO_FIELDS.map(([name, key, unit, description]) =>
    column.int64(name, `${description} (${key})`, { unit, nullable: !REQUIRED_MEMINFO.includes(key) }),
  ),
};

/** Load averages and system-wide activity counters. */
export const LOAD_TABLE: TableSchema = {
  name: Table.LOAD,
  kind: 'metric',
  description: 'Load averages, runnable and blocked tasks, and cumulative scheduler and interrupt counters.',
  key: [],
  defaultIntervalMs: 1000,
  columns: [
    column.float64('load1', 'Load average over 1 minute.', { unit: 'count' }),
    column.float64('load5', 'Load average over 5 minutes.', { unit: 'count' }),
    column.float64('load15', 'Load average over 15 minutes.', { unit: 'count' }),
    column.int32('procs_running', 'Tasks runnable now (procs_running).', { unit: 'count' }),
    column.int32('procs_blocked', 'Tasks blocked on I/O now (procs_blocked).', { unit: 'count' }),
    column.int32('tasks', 'Tasks (threads) that exist now, from /proc/loadavg.', { unit: 'count' }),
    column.int64('context_switches', 'Context switches since boot (ctxt).', { unit: 'count', counter: true }),
    column.int64('forks', 'Tasks created since boot (processes).', { unit: 'count', counter: true }),
    column.int64('interrupts', 'Hardware interrupts serviced since boot (intr).', { unit: 'count', counter: true }),
    column.int64('softirqs', 'Soft interrupts serviced since boot (softirq).', { unit: 'count', nullable: true, counter: true }),
  ],
};


/** Processes and their identity: a new version when one starts, changes or exits. */
export const PROCESSES_TABLE: TableSchema = {
  name: Table.PROCESSES,
  kind: 'state',
  description: 'Processes: identity, parentage, owner and command line; versions when they start, change or exit (what flips every sample, such as the run state, is in process_stats).',
  key: ['pid', 'start_time'],
  defaultIntervalMs: 5000,
  columns: [
    ...PROCESS_KEY,
    column.int32('ppid', 'Parent process id (0 for init and kthreadd).'),
    column.int32('pgid', 'Process group id.'),
    column.int32('sid', 'Session id.'),
    column.int64('uid', 'Effective user id.'),
    column.int64('gid', 'Effective group id.'),
    column.text('user', 'Name of the effective user from /etc/passwd, or the uid as text.'),
    column.text('comm', 'Command name (the kernel keeps its first 15 bytes).'),
    column.text('cmdline', 'Arguments joined by spaces; empty for kernel threads and zombies.'),
    column.text('exe', 'Path of the executable; null when unreadable (kernel threads, zombies, no privilege).', { nullable: true }),
    column.int32('tty_nr', 'Controlling terminal as a device number; 0 when none.'),
    column.bool('kernel_thread', 'Whether this is a kernel thread.'),
  ],
};

/** Per-process resource use, sampled. */
export const PROCESS_STATS_TABLE: TableSchema = {
  name: Table.PROCESS_STATS,
  kind: 'metric',
  description: 'Per-process CPU time, memory, threads, run state, nice value, faults, I/O and context switches; counters cumulative.',
  key: ['pid', 'start_time'],
  defaultIntervalMs: 5000,
  columns: [
    ...PROCESS_KEY,
    column.int64('utime', 'CPU time in user mode since the process started.', { unit: 'ms', counter: true }),
    column.int64('stime', 'CPU time in kernel mode since the process started.', { unit: 'ms', counter: true }),
    column.int64('rss', 'Resident memory (VmRSS); 0 for kernel threads and zombies.', { unit: 'bytes' }),
    column.int64('vsize', 'Virtual memory size.', { unit: 'bytes' }),
    column.int32('threads', 'Threads in the process.', { unit: 'count' }),
    column.text('state', 'One-letter state: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle…'),
    column.int32('nice', 'Nice value, -20 (favoured) to 19.'),
    column.int64('minflt', 'Minor page faults (no disk read) since start.', { unit: 'count', counter: true }),
    column.int64('majflt', 'Major page faults (disk read) since start.', { unit: 'count', counter: true }),
    column.int64('read_bytes', 'Bytes the process caused to be read from storage; null when /proc/PID/io is unreadable.', { unit: 'bytes', nullable: true, counter: true }),
    column.int64('write_bytes', 'Bytes the process caused to be written to storage; null when /proc/PID/io is unreadable.', { unit: 'bytes', nullable: true, counter: true }),
    column.int64('read_chars', 'Bytes read through read() and similar calls, page cache hits included (rchar).', { unit: 'bytes', nullable: true, counter: true }),
    column.int64('write_chars', 'Bytes written through write() and similar calls (wchar).', { unit: 'bytes', nullable: true, counter: true }),
    column.int64('voluntary_ctxt_switches', 'Context switches where the process gave up the CPU (waiting).', { unit: 'count', counter: true }),
    column.int64('nonvoluntary_ctxt_switches', 'Context switches where the process was preempted.', { unit: 'count', counter: true }),
  ],
};

/** How the scheduler treated each process, sampled. */
export const PROCESS_SCHED_TABLE: TableSchema = {
  name: Table.PROCESS_SCHED,
  kind: 'metric',
  description:
    'Per-process scheduling: time on the CPU and waiting for it, and timeslices, summed over its threads (schedstat); context switches of its main thread; last CPU, priority, nice and policy.',
  key: ['pid', 'start_time'],
  defaultIntervalMs: 10_000,
  columns: [
    ...PROCESS_KEY,
    column.int64('run_time', 'Time its threads spent on a CPU since they started (schedstat, summed over live threads).', { unit: 'ms', nullable: true, counter: true }),
    column.int64('wait_time', 'Time its threads were runnable but waiting for a CPU (run delay, summed over live threads).', { unit: 'ms', nullable: true, counter: true }),
    column.int64('timeslices', 'Times its threads were scheduled onto a CPU (summed over live threads).', { unit: 'count', nullable: true, counter: true }),
    column.int64('voluntary_ctxt_switches', 'Context switches where the main thread gave up the CPU, as pidstat -w counts them.', { unit: 'count', counter: true }),
    column.int64('nonvoluntary_ctxt_switches', 'Context switches where the main thread was preempted.', { unit: 'count', counter: true }),
    column.int32('processor', 'CPU the main thread last ran on.', { nullable: true }),
    column.int32('priority', 'Kernel priority of the main thread: 20 + nice for normal policies, -2 to -100 for real-time ones (stat field 18).', { nullable: true }),
    column.int32('nice', 'Nice value, -20 (favoured) to 19.'),
    column.int32('rt_priority', 'Real-time priority, 1 to 99 under fifo and rr, else 0.', { nullable: true }),
    column.text('policy', 'Scheduling policy: other, fifo, rr, batch, idle, deadline, ext.', { nullable: true }),
  ],
};

/** The tables the core collector fills (platform/linux.ts), in the order batches are produced. */
export const CORE_TABLES: readonly TableSchema[] = [
  SYSTEM_INFO_TABLE,
  CPU_TABLE,
  MEMORY_TABLE,
  LOAD_TABLE,
  PROCESSES_TABLE,
  PROCESS_STATS_TABLE,
  PROCESS_SCHED_TABLE,
];

/** Every table: the core ones, then each group's (system/, detail/, events/). */
export const TABLES: readonly TableSchema[] = [...CORE_TABLES, ...SYSTEM_TABLES, ...DETAIL_TABLES, ...EVENTS_TABLES];
