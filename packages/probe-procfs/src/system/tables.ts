/**
 * The system group's tables, declared once (src/tables.ts lists them after the core tables), and
 * each one's default time budget. State tables hold what changes rarely (a new version means
 * something changed: a CPU came online, an address moved, a disk was attached); everything that
 * moves every second is in the metric tables beside them.
 */
import { column, type ColumnDef, type TableSchema } from '@virtualeyes/core';
import { NET_DEV_FIELDS } from './parse/net.js';

/** Names of the system group's tables. */
export const SystemTable = {
  CPU_INFO: 'cpu_info',
  NUMA_NODES: 'numa_nodes',
  NUMA_STATS: 'numa_stats',
  INTERFACES: 'interfaces',
  NET_DEV: 'net_dev',
  DISKS: 'disks',
  DISK_IO: 'disk_io',
  MOUNTS: 'mounts',
  FILESYSTEM_USAGE: 'filesystem_usage',
  VMSTAT: 'vmstat',
  PRESSURE: 'pressure',
  CGROUPS: 'cgroups',
} as const;

/** One of the {@link SystemTable} names. */
export type SystemTable = (typeof SystemTable)[keyof typeof SystemTable];

const counter = (name: string, description: string, unit = 'count'): ColumnDef => column.int64(name, description, { unit, counter: true });
const optionalCounter = (name: string, description: string, unit = 'count'): ColumnDef => column.int64(name, description, { unit, nullable: true, counter: true });

/** One row per online logical CPU: topology, caches, model and flags; frequency limits only (the current one changes every second). */
export const CPU_INFO_TABLE: TableSchema = {
  name: SystemTable.CPU_INFO,
  kind: 'state',
  description: 'Online logical CPUs: package, core, NUMA node, caches, model, microcode, flags and frequency limits.',
  key: ['cpu'],
  defaultIntervalMs: 60_000,
  columns: [
    column.int32('cpu', 'Logical CPU number.'),
    column.int32('package', 'Physical package (socket) id (topology/physical_package_id).', { nullable: true }),
    column.int32('core', 'Core id within the package (topology/core_id).', { nullable: true }),
    column.int32('numa_node', 'NUMA node the CPU belongs to; null on kernels without NUMA.', { nullable: true }),
    column.text('model', 'Model name from /proc/cpuinfo.', { nullable: true }),
    column.text('manufacturer', 'Vendor id from /proc/cpuinfo (GenuineIntel, AuthenticAMD…).', { nullable: true }),
    column.text('microcode', 'Microcode revision from /proc/cpuinfo; a change after an update is worth a version.', { nullable: true }),
    column.int64('l1d_cache', 'Level 1 data cache size (cache/index*/size).', { unit: 'bytes', nullable: true }),
    column.int64('l1i_cache', 'Level 1 instruction cache size.', { unit: 'bytes', nullable: true }),
    column.int64('l2_cache', 'Level 2 cache size.', { unit: 'bytes', nullable: true }),
    column.int64('l3_cache', 'Level 3 cache size (shared: the size of the whole cache this CPU uses).', { unit: 'bytes', nullable: true }),
    column.int32('flags_count', 'Number of CPU flags (x86 flags, arm64 Features).', { unit: 'count', nullable: true }),
    column.text('flags_hash', 'FNV-1a hash (8 hex digits) of the full flag list: CPUs of one model share it, and it changes when a flag appears or goes (microcode, hypervisor).', { nullable: true }),
    column.textList('notable_flags', 'The flags an operator checks among aes, avx, avx2, avx512f, sha_ni, sse4_2, vmx, svm, hypervisor, rdrand, nx, ht, constant_tsc, nonstop_tsc, (arm64) asimd, sve, sve2, aes, sha2, atomics — present ones, in that order.', { nullable: true }),
    column.int32('max_clock_speed', 'Highest frequency the CPU may run at (cpufreq/cpuinfo_max_freq); null without cpufreq.', { unit: 'MHz', nullable: true }),
    column.int32('min_clock_speed', 'Lowest frequency (cpufreq/cpuinfo_min_freq); null without cpufreq.', { unit: 'MHz', nullable: true }),
  ],
};

/** One row per NUMA node. */
export const NUMA_NODES_TABLE: TableSchema = {
  name: SystemTable.NUMA_NODES,
  kind: 'state',
  description: 'NUMA nodes: their memory and CPUs (/sys/devices/system/node).',
  key: ['node'],
  defaultIntervalMs: 60_000,
  columns: [
    column.int32('node', 'Node number.'),
    column.int64('mem_total', 'Memory of the node (MemTotal of nodeN/meminfo).', { unit: 'bytes' }),
    column.text('cpulist', 'CPUs of the node as sysfs lists them (`0-3,8`); empty for a memory-only node.'),
    column.int32('cpu_count', 'Number of CPUs in cpulist.', { unit: 'count' }),
  ],
};

/** Free memory and allocation locality per NUMA node. */
export const NUMA_STATS_TABLE: TableSchema = {
  name: SystemTable.NUMA_STATS,
  kind: 'metric',
  description: 'Per NUMA node: free and used memory, and page allocation counters (numastat).',
  key: ['node'],
  defaultIntervalMs: 10_000,
  columns: [
    column.int32('node', 'Node number.'),
    column.int64('mem_free', 'Free memory of the node (MemFree).', { unit: 'bytes' }),
    column.int64('mem_used', 'Used memory of the node (MemUsed).', { unit: 'bytes', nullable: true }),
    counter('numa_hit', 'Pages allocated on this node as intended.'),
    counter('numa_miss', 'Pages allocated here although another node was preferred (it was full).'),
    counter('numa_foreign', 'Pages intended for this node but allocated elsewhere.'),
    counter('interleave_hit', 'Interleaved-policy pages allocated here as intended.'),
    counter('local_node', 'Pages allocated here by a process running on this node.'),
    counter('other_node', 'Pages allocated here by a process running on another node.'),
  ],
};

/** One row per network interface. */
export const INTERFACES_TABLE: TableSchema = {
  name: SystemTable.INTERFACES,
  kind: 'state',
  description: 'Network interfaces: index, MAC, MTU, state, speed, type, flags and addresses (/sys/class/net, /proc/net).',
  key: ['interface'],
  defaultIntervalMs: 30_000,
  columns: [
    column.text('interface', 'Interface name.'),
    column.int32('ifindex', 'Interface index.', { nullable: true }),
    column.text('mac', 'Hardware address; null when the interface has none (tunnels).', { nullable: true }),
    column.int32('mtu', 'MTU.', { unit: 'bytes', nullable: true }),
    column.text('operstate', 'RFC 2863 operational state: up, down, dormant, unknown…', { nullable: true }),
    column.int64('link_speed', 'Link speed; null when the interface is down or has no speed (virtual).', { unit: 'Mbit/s', nullable: true }),
    column.int32('type', 'ARPHRD type (1 ethernet, 772 loopback, 65534 none…).', { nullable: true }),
    column.int32('flags', 'IFF_* flags (IFF_UP 0x1, IFF_LOOPBACK 0x8, IFF_RUNNING 0x40…).', { nullable: true }),
    column.textList('addresses', 'Addresses as address/prefix: IPv4 first in numeric order (local addresses of fib_trie matched to directly connected routes), then IPv6 sorted (if_inet6).'),
  ],
};

const NET_DEV_DESCRIPTIONS: Readonly<Record<(typeof NET_DEV_FIELDS)[number], string>> = {
  rx_bytes: 'Bytes received.',
  rx_packets: 'Packets received.',
  rx_errors: 'Receive errors (all kinds).',
  rx_dropped: 'Received packets dropped (no buffer, filtered, unknown protocol).',
  rx_fifo: 'Receive FIFO overruns.',
  rx_frame: 'Receive framing and alignment errors.',
  rx_compressed: 'Compressed packets received.',
  rx_multicast: 'Multicast packets received.',
  tx_bytes: 'Bytes sent.',
  tx_packets: 'Packets sent.',
  tx_errors: 'Transmit errors (all kinds).',
  tx_dropped: 'Packets dropped before sending.',
  tx_fifo: 'Transmit FIFO underruns.',
  tx_collisions: 'Collisions.',
  tx_carrier: 'Carrier losses while sending.',
  tx_compressed: 'Compressed packets sent.',
};

/** Per-interface counters from /proc/net/dev. */
export const NET_DEV_TABLE: TableSchema = {
  name: SystemTable.NET_DEV,
  kind: 'metric',
  description: 'Per-interface traffic and error counters since the interface appeared (/proc/net/dev, 64-bit).',
  key: ['interface'],
  defaultIntervalMs: 1000,
  columns: [
    column.text('interface', 'Interface name.'),
    ...NET_DEV_FIELDS.map((name) => counter(name, NET_DEV_DESCRIPTIONS[name], name.endsWith('_bytes') ? 'bytes' : 'count')),
  ],
};

/** One row per block device and partition. */
export const DISKS_TABLE: TableSchema = {
  name: SystemTable.DISKS,
  kind: 'state',
  description: 'Block devices and their partitions: size, rotational, removable, read-only, block sizes, model, vendor, serial (/sys/block).',
  key: ['name'],
  defaultIntervalMs: 60_000,
  columns: [
    column.text('name', 'Kernel name (sda, nvme0n1, vda1).'),
    column.text('parent', 'Disk a partition belongs to; null for a whole disk.', { nullable: true }),
    column.text('device', 'major:minor.', { nullable: true }),
    column.int64('size', 'Size.', { unit: 'bytes', nullable: true }),
    column.bool('rotational', 'Whether the kernel takes it for spinning media (queue/rotational).', { nullable: true }),
    column.bool('removable', 'Whether the medium is removable.', { nullable: true }),
    column.bool('read_only', 'Whether the device is read-only (ro).', { nullable: true }),
    column.int32('logical_block_size', 'Smallest addressable unit (queue/logical_block_size).', { unit: 'bytes', nullable: true }),
    column.int32('physical_block_size', 'Smallest unit written without read-modify-write (queue/physical_block_size).', { unit: 'bytes', nullable: true }),
    column.text('model', 'Model (device/model); null where the driver gives none (virtio).', { nullable: true }),
    column.text('vendor', 'Vendor (device/vendor); null where the driver gives none.', { nullable: true }),
    column.text('serial', 'Serial number (serial or device/serial); null where the driver gives none (SCSI keeps it in VPD pages).', { nullable: true }),
  ],
};

/** Per-device I/O counters from /proc/diskstats. */
export const DISK_IO_TABLE: TableSchema = {
  name: SystemTable.DISK_IO,
  kind: 'metric',
  description: 'Per block device and partition: every /proc/diskstats field, sectors as bytes, times in ms; discards need 4.18, flushes 5.5.',
  key: ['name'],
  defaultIntervalMs: 1000,
  columns: [
    column.text('name', 'Kernel name of the device.'),
    counter('reads_completed', 'Reads completed.'),
    counter('reads_merged', 'Adjacent reads merged into one.'),
    counter('read_bytes', 'Bytes read (sectors × 512).', 'bytes'),
    counter('read_time', 'Time spent on reads, summed over requests.', 'ms'),
    counter('writes_completed', 'Writes completed.'),
    counter('writes_merged', 'Adjacent writes merged into one.'),
    counter('write_bytes', 'Bytes written (sectors × 512).', 'bytes'),
    counter('write_time', 'Time spent on writes, summed over requests.', 'ms'),
    column.int64('in_flight', 'Requests issued to the driver and not yet completed, now.', { unit: 'count' }),
    counter('io_time', 'Time the device had at least one request in flight (its delta over elapsed time is %util).', 'ms'),
    counter('weighted_io_time', 'Time in flight weighted by the number of requests (its delta is the average queue size × elapsed).', 'ms'),
    optionalCounter('discards_completed', 'Discards completed.'),
    optionalCounter('discards_merged', 'Adjacent discards merged.'),
    optionalCounter('discard_bytes', 'Bytes discarded (sectors × 512).', 'bytes'),
    optionalCounter('discard_time', 'Time spent on discards.', 'ms'),
    optionalCounter('flushes_completed', 'Cache flushes completed.'),
    optionalCounter('flush_time', 'Time spent on flushes.', 'ms'),
  ],
};

/** One row per mount of the agent's mount namespace. */
export const MOUNTS_TABLE: TableSchema = {
  name: SystemTable.MOUNTS,
  kind: 'state',
  description: 'Mounts as /proc/self/mountinfo lists them: ids, device, root, mount point, type, source and options.',
  key: ['mount_id'],
  defaultIntervalMs: 10_000,
  columns: [
    column.int32('mount_id', 'Unique id of the mount (reused after unmount).'),
    column.int32('parent_id', 'Id of the parent mount (itself for the namespace root).'),
    column.text('major_minor', 'major:minor of st_dev of files on this mount.'),
    column.text('root', 'Directory of the filesystem mounted here (not / for bind mounts and subvolumes).'),
    column.text('path', 'Mount point.'),
    column.text('type', 'Filesystem type (ext4, nfs4, fuse.sshfs…).'),
    column.text('device', 'Mount source (/dev/vda1, server:/export, tmpfs).'),
    column.text('flags', 'Per-mount options (rw, nosuid, relatime…).'),
    column.text('super_options', 'Per-superblock options.'),
    column.text('propagation', 'Optional fields: shared:N, master:N, propagate_from:N, unbindable; empty when private.'),
  ],
};

/** statfs of every mount point that is not a pseudo filesystem. */
export const FILESYSTEM_USAGE_TABLE: TableSchema = {
  name: SystemTable.FILESYSTEM_USAGE,
  kind: 'metric',
  description: 'Space and inodes per mounted filesystem (statfs with a timeout; pseudo filesystems skipped, see fsSkipTypes).',
  key: ['mount_id'],
  defaultIntervalMs: 10_000,
  columns: [
    column.int32('mount_id', 'Mount id, as in mounts (the topmost mount when several share a mount point).'),
    column.text('path', 'Mount point.'),
    column.text('type', 'Filesystem type.'),
    column.int64('block_size', 'Block size the counts below are in (f_bsize).', { unit: 'bytes' }),
    column.int64('size', 'Total size (f_blocks × f_bsize).', { unit: 'bytes' }),
    column.int64('used', 'Used space (f_blocks − f_bfree), as df counts it.', { unit: 'bytes' }),
    column.int64('free', 'Free space, root-reserved blocks included (f_bfree).', { unit: 'bytes' }),
    column.int64('available', 'Space available to unprivileged users (f_bavail).', { unit: 'bytes' }),
    column.int64('inodes', 'Inodes in total; 0 where the filesystem has no fixed count (btrfs).', { unit: 'count' }),
    column.int64('inodes_free', 'Free inodes.', { unit: 'count' }),
  ],
};

/** The /proc/vmstat counters kept: name, description. See {@link VMSTAT_TABLE}. */
export const VMSTAT_FIELDS: readonly (readonly [name: string, description: string])[] = [
  ['pgpgin', 'KiB paged in from block devices (kernel unit: KiB).'],
  ['pgpgout', 'KiB paged out to block devices (kernel unit: KiB).'],
  ['pswpin', 'Pages swapped in: sustained non-zero rates mean memory shortage.'],
  ['pswpout', 'Pages swapped out.'],
  ['pgfault', 'Page faults, minor and major.'],
  ['pgmajfault', 'Major page faults (needed a disk read).'],
  ['pgfree', 'Pages freed.'],
  ['pgactivate', 'Pages moved to the active LRU lists.'],
  ['pgdeactivate', 'Pages moved to the inactive LRU lists.'],
  ['pgscan_kswapd', 'Pages scanned by kswapd (background reclaim).'],
  ['pgscan_direct', 'Pages scanned by direct reclaim (allocating tasks stalled).'],
  ['pgsteal_kswapd', 'Pages reclaimed by kswapd.'],
  ['pgsteal_direct', 'Pages reclaimed by direct reclaim.'],
  ['pgscan_direct_throttle', 'Direct reclaimers throttled.'],
  ['allocstall', 'Direct reclaim stalls (the allocstall_* zones summed; allocstall itself on kernels before 4.10).'],
  ['oom_kill', 'Processes killed by the OOM killer (4.13+).'],
  ['numa_hit', 'Pages allocated on the intended node.'],
  ['numa_miss', 'Pages allocated on a node other than the intended one.'],
  ['numa_foreign', 'Pages intended for a node but allocated elsewhere.'],
  ['numa_interleave', 'Interleaved-policy pages allocated on the intended node.'],
  ['numa_local', 'Pages allocated on the node the task ran on.'],
  ['numa_other', 'Pages allocated on a node other than the one the task ran on.'],
  ['numa_pages_migrated', 'Pages migrated by automatic NUMA balancing.'],
  ['numa_hint_faults', 'NUMA hinting faults (automatic NUMA balancing).'],
  ['numa_hint_faults_local', 'NUMA hinting faults on pages already local.'],
  ['pgmigrate_success', 'Pages migrated (compaction, NUMA, hotplug).'],
  ['pgmigrate_fail', 'Page migrations that failed.'],
  ['compact_stall', 'Direct compaction stalls (high-order allocations waiting).'],
  ['compact_fail', 'Direct compactions that failed.'],
  ['compact_success', 'Direct compactions that succeeded.'],
  ['compact_migrate_scanned', 'Pages scanned for migration by compaction.'],
  ['compact_free_scanned', 'Pages scanned for free targets by compaction.'],
  ['thp_fault_alloc', 'Transparent huge pages allocated at fault.'],
  ['thp_fault_fallback', 'THP faults that fell back to small pages.'],
  ['thp_collapse_alloc', 'Huge pages khugepaged collapsed.'],
  ['thp_split_page', 'Huge pages split.'],
  ['workingset_refault_anon', 'Anonymous pages faulted back soon after eviction (thrashing) (5.9+).'],
  ['workingset_refault_file', 'File pages faulted back soon after eviction (thrashing) (5.9+).'],
  ['workingset_refault', 'Pages faulted back soon after eviction, kernels before 5.9.'],
  ['slabs_scanned', 'Slab objects scanned by the shrinkers.'],
  ['drop_pagecache', 'Writes of 1 or 3 to drop_caches (someone dropping the page cache).'],
  ['drop_slab', 'Writes of 2 or 3 to drop_caches.'],
  ['swap_ra', 'Swap readahead pages.'],
  ['swap_ra_hit', 'Swap readahead pages that were used.'],
  ['zswpin', 'Pages loaded from zswap.'],
  ['zswpout', 'Pages stored into zswap.'],
];

/** Selected /proc/vmstat counters. */
export const VMSTAT_TABLE: TableSchema = {
  name: SystemTable.VMSTAT,
  kind: 'metric',
  description: 'Selected /proc/vmstat counters an SRE reads: paging, swapping, faults, reclaim, OOM kills, NUMA, compaction, THP, refaults; null where the kernel lacks one.',
  key: [],
  defaultIntervalMs: 1000,
  columns: VMSTAT_FIELDS.map(([name, description]) => optionalCounter(name, description, name.startsWith('pgpg') ? 'KiB' : 'count')),
};

/** PSI: stall averages and totals. */
export const PRESSURE_TABLE: TableSchema = {
  name: SystemTable.PRESSURE,
  kind: 'metric',
  description: 'Pressure stall information (/proc/pressure): share of time some or all non-idle tasks stalled on cpu, io, memory or irq.',
  key: ['resource', 'kind'],
  defaultIntervalMs: 1000,
  columns: [
    column.text('resource', 'cpu, io, memory or irq.'),
    column.text('kind', 'some (at least one task stalled) or full (all non-idle tasks stalled).'),
    column.float64('avg10', 'Share of the last 10 s stalled.', { unit: 'percent' }),
    column.float64('avg60', 'Share of the last 60 s stalled.', { unit: 'percent' }),
    column.float64('avg300', 'Share of the last 300 s stalled.', { unit: 'percent' }),
    counter('total', 'Stall time since boot.', 'us'),
  ],
};

/** Per-cgroup resource use. */
export const CGROUPS_TABLE: TableSchema = {
  name: SystemTable.CGROUPS,
  kind: 'metric',
  description: 'Per cgroup (v2, and v1 hierarchies where mounted; walk bounded by cgroupMaxDepth and cgroupMaxCount): CPU, throttling, memory, OOM events, I/O and pids.',
  key: ['path'],
  defaultIntervalMs: 10_000,
  columns: [
    column.text('path', "Path below the hierarchy root ('/' for the root), as /proc/PID/cgroup names it."),
    column.text('version', "Where the values come from: 'v2', 'v1', or 'v1+v2' (hybrid hosts; v2 values win)."),
    optionalCounter('cpu_usage', 'CPU time used (cpu.stat usage_usec; v1 cpuacct.usage).', 'us'),
    optionalCounter('cpu_user', 'CPU time in user mode (user_usec; v1 cpuacct.stat user).', 'us'),
    optionalCounter('cpu_system', 'CPU time in kernel mode (system_usec; v1 cpuacct.stat system).', 'us'),
    optionalCounter('nr_periods', 'CFS bandwidth periods elapsed (with a CPU limit).'),
    optionalCounter('nr_throttled', 'Periods in which the cgroup was throttled.'),
    optionalCounter('throttled_time', 'Time throttled (throttled_usec; v1 throttled_time).', 'us'),
    column.int64('memory_current', 'Memory charged now (memory.current; v1 memory.usage_in_bytes).', { unit: 'bytes', nullable: true }),
    column.int64('memory_max', 'Memory limit (memory.max; v1 memory.limit_in_bytes); null when unlimited.', { unit: 'bytes', nullable: true }),
    optionalCounter('memory_high_events', 'Times usage went over memory.high (memory.events high; v2 only).'),
    optionalCounter('memory_max_events', 'Times usage hit memory.max (memory.events max; v1 memory.failcnt).'),
    optionalCounter('oom', 'Times the cgroup ran out of memory (memory.events oom; v2 only).'),
    optionalCounter('oom_kill', 'Processes killed by the OOM killer in the cgroup (memory.events oom_kill; v1 memory.oom_control).'),
    optionalCounter('io_read_bytes', 'Bytes read, summed over devices (io.stat rbytes; v1 blkio.throttle.io_service_bytes_recursive).', 'bytes'),
    optionalCounter('io_write_bytes', 'Bytes written, summed over devices (io.stat wbytes).', 'bytes'),
    optionalCounter('io_reads', 'Read operations, summed over devices (io.stat rios; v1 io_serviced_recursive).'),
    optionalCounter('io_writes', 'Write operations, summed over devices (io.stat wios).'),
    column.int64('pids_current', 'Tasks in the cgroup now (pids.current).', { unit: 'count', nullable: true }),
    column.int64('pids_max', 'Task limit (pids.max); null when unlimited.', { unit: 'count', nullable: true }),
  ],
};

/** The group's tables. */
export const SYSTEM_TABLES: readonly TableSchema[] = [
  CPU_INFO_TABLE,
  NUMA_NODES_TABLE,
  NUMA_STATS_TABLE,
  INTERFACES_TABLE,
  NET_DEV_TABLE,
  DISKS_TABLE,
  DISK_IO_TABLE,
  MOUNTS_TABLE,
  FILESYSTEM_USAGE_TABLE,
  VMSTAT_TABLE,
  PRESSURE_TABLE,
  CGROUPS_TABLE,
];

/** Default budget per table, milliseconds: a few times what one collection costs on a busy host. */
export const SYSTEM_BUDGET_MS: Readonly<Record<string, number>> = {
  [SystemTable.CPU_INFO]: 1000,
  [SystemTable.NUMA_NODES]: 500,
  [SystemTable.NUMA_STATS]: 500,
  [SystemTable.INTERFACES]: 1000,
  [SystemTable.NET_DEV]: 200,
  [SystemTable.DISKS]: 1000,
  [SystemTable.DISK_IO]: 200,
  [SystemTable.MOUNTS]: 500,
  // Also how long statfs calls are waited for: a mount not answering by then is a TIMEOUT.
  [SystemTable.FILESYSTEM_USAGE]: 2000,
  [SystemTable.VMSTAT]: 200,
  [SystemTable.PRESSURE]: 200,
  [SystemTable.CGROUPS]: 2000,
};
