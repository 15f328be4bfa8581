/**
 * The detail group's tables, declared once (src/tables.ts lists them after the core tables), and
 * each one's default time budget. Column names follow osquery's where it has the same table
 * (process_memory_map, process_open_sockets), so queries port over.
 */
import { column, type TableSchema } from '@virtualeyes/core';
import { PROCESS_KEY } from '../process-key.js';

/** Names of the detail tables. */
export const DetailTable = {
  MAPS: 'process_maps',
  MEMORY: 'process_memory',
  NUMA: 'process_numa',
  FDS: 'process_fds',
  SOCKETS: 'process_sockets',
} as const;

/** One of the {@link DetailTable} names. */
export type DetailTable = (typeof DetailTable)[keyof typeof DetailTable];

/** Every detail table name, in the order the collector fills them. */
export const DETAIL_TABLE_NAMES: readonly DetailTable[] = Object.values(DetailTable);

/** Memory mappings of the selected processes, from /proc/PID/maps. */
export const PROCESS_MAPS_TABLE: TableSchema = {
  name: DetailTable.MAPS,
  kind: 'state',
  description:
    'Memory mappings of the selected processes (/proc/PID/maps, osquery process_memory_map); addresses are 0x-prefixed 16-digit hex text, so they sort and compare as numbers do.',
  key: ['pid', 'start_time', 'start'],
  defaultIntervalMs: 60_000,
  columns: [
    ...PROCESS_KEY,
    column.text('start', 'First address of the mapping: 0x and 16 lower-case hex digits (text, because [vsyscall] lies above 2^63).'),
    column.text('end', 'Address just past the mapping, in the same form as start.'),
    column.int64('size', 'end - start.', { unit: 'bytes' }),
    column.text('permissions', 'r, w, x, then p (private) or s (shared), with - for each one absent.'),
    column.int64('offset', 'Offset of the mapping in its file (page offset for anonymous ones).', { unit: 'bytes' }),
    column.text('device', 'Device of the file as major:minor in hex (00:00 when anonymous).'),
    column.int64('inode', 'Inode of the file; 0 when anonymous.'),
    column.text('path', "File path, or a pseudo-path such as [heap], [stack], [vdso]; empty when anonymous; a ' (deleted)' suffix when the file was removed."),
    column.bool('pseudo', 'Whether the path names no file: inode 0 and a path such as [heap].'),
  ],
};

/** smaps_rollup fields: column, smaps key, required, description. Values are stored in bytes. */
export const ROLLUP_FIELDS: readonly (readonly [column: string, key: string, required: boolean, description: string])[] = [
  ['rss', 'Rss', true, 'Resident memory.'],
  ['pss', 'Pss', true, 'Proportional set size: private pages plus each shared page divided by its sharers.'],
  ['pss_anon', 'Pss_Anon', false, 'PSS of anonymous memory (kernel 5.10+).'],
  ['pss_file', 'Pss_File', false, 'PSS of file-backed memory (kernel 5.10+).'],
  ['pss_shmem', 'Pss_Shmem', false, 'PSS of shared memory, tmpfs included (kernel 5.10+).'],
  ['shared_clean', 'Shared_Clean', true, 'Clean pages also mapped by other processes.'],
  ['shared_dirty', 'Shared_Dirty', true, 'Dirty pages also mapped by other processes.'],
  ['private_clean', 'Private_Clean', true, 'Clean pages mapped by this process only.'],
  ['private_dirty', 'Private_Dirty', true, 'Dirty pages mapped by this process only (what it would free on exit).'],
  ['referenced', 'Referenced', true, 'Pages referenced since their flags were last cleared.'],
  ['anonymous', 'Anonymous', true, 'Anonymous pages (no file behind them).'],
  ['swap', 'Swap', true, 'Anonymous memory swapped out.'],
  ['swap_pss', 'SwapPss', false, 'Proportional share of swapped-out memory.'],
  ['locked', 'Locked', true, 'Memory locked with mlock().'],
];

/** Per-process memory from /proc/PID/smaps_rollup. */
export const PROCESS_MEMORY_TABLE: TableSchema = {
  name: DetailTable.MEMORY,
  kind: 'metric',
  description: 'Memory of the selected processes from /proc/PID/smaps_rollup: RSS, PSS and its split, shared and private pages, swap; bytes.',
  key: ['pid', 'start_time'],
  defaultIntervalMs: 30_000,
  columns: [
    ...PROCESS_KEY,
    ...ROLLUP_FIELDS.map(([name, key, required, description]) => column.int64(name, `${description} (${key})`, { unit: 'bytes', nullable: !required })),
  ],
};

/** Per-process NUMA placement from /proc/PID/numa_maps. */
export const PROCESS_NUMA_TABLE: TableSchema = {
  name: DetailTable.NUMA,
  kind: 'metric',
  description: "Memory of the selected processes per NUMA node and memory policy (/proc/PID/numa_maps), split by the kind of mapping the pages belong to; bytes.",
  key: ['pid', 'start_time', 'node', 'policy'],
  defaultIntervalMs: 60_000,
  columns: [
    ...PROCESS_KEY,
    column.int32('node', 'NUMA node the pages are on.'),
    column.text('policy', "Memory policy of the mappings, as numa_maps prints it: default, bind:0-1, interleave:0-3, prefer:1, local…"),
    column.int64('total', 'Pages on this node under this policy, all kinds.', { unit: 'bytes' }),
    column.int64('anon', 'Pages of anonymous mappings other than heap and stack.', { unit: 'bytes' }),
    column.int64('file', 'Pages of file mappings (their copy-on-write pages included).', { unit: 'bytes' }),
    column.int64('heap', 'Pages of the [heap] mapping.', { unit: 'bytes' }),
    column.int64('stack', 'Pages of the main [stack] mapping.', { unit: 'bytes' }),
    column.int64('huge', 'Pages of hugetlbfs mappings.', { unit: 'bytes' }),
  ],
};

/** Open file descriptors from /proc/PID/fd and /proc/PID/fdinfo. */
export const PROCESS_FDS_TABLE: TableSchema = {
  name: DetailTable.FDS,
  kind: 'state',
  description:
    'Open file descriptors of the selected processes: what each one refers to (readlink of /proc/PID/fd/N) and its open flags (fdinfo); a new version when one opens, closes or changes.',
  key: ['pid', 'start_time', 'fd'],
  defaultIntervalMs: 60_000,
  columns: [
    ...PROCESS_KEY,
    column.int32('fd', 'File descriptor number.'),
    column.text('kind', 'file, device (under /dev), socket, pipe, anon_inode (eventfd, epoll, timerfd…), namespace (net:[…] and such), or other.'),
    column.text('target', 'Target of the /proc/PID/fd/N link: a path, socket:[inode], pipe:[inode], anon_inode:[eventpoll]…'),
    column.int64('inode', 'Inode from a socket:[N], pipe:[N] or namespace target; null for paths and anon inodes.', { nullable: true }),
    column.int64('flags', 'Open flags (O_RDWR, O_NONBLOCK, O_CLOEXEC… as a number) from /proc/PID/fdinfo/N; null when fdInfo is off or it was unreadable.', { nullable: true }),
    column.int64('pos', "File position from fdinfo; null unless fdInfo is 'position' (it changes with every read, and each change is a new version).", { unit: 'bytes', nullable: true }),
  ],
};

/** Open sockets joined with each process's own network namespace tables. */
export const PROCESS_SOCKETS_TABLE: TableSchema = {
  name: DetailTable.SOCKETS,
  kind: 'state',
  description:
    "Sockets the selected processes hold open (osquery process_open_sockets): TCP, UDP and Unix sockets of /proc/PID/fd joined with the process's own network namespace's /proc/PID/net tables.",
  key: ['pid', 'start_time', 'fd'],
  defaultIntervalMs: 30_000,
  columns: [
    ...PROCESS_KEY,
    column.int32('fd', 'File descriptor number.'),
    column.int64('socket', 'Socket inode (the N of socket:[N]).'),
    column.int32('family', 'Address family: 1 AF_UNIX, 2 AF_INET, 10 AF_INET6.'),
    column.int32('protocol', 'IP protocol: 6 TCP, 17 UDP; 0 for Unix sockets.'),
    column.text('local_address', 'Local IP address (IPv6 in RFC 5952 form); null for Unix sockets.', { nullable: true }),
    column.int32('local_port', 'Local port; null for Unix sockets.', { nullable: true }),
    column.text('remote_address', 'Remote IP address; 0.0.0.0 or :: when unconnected; null for Unix sockets.', { nullable: true }),
    column.int32('remote_port', 'Remote port; 0 when unconnected; null for Unix sockets.', { nullable: true }),
    column.text('state', 'TCP state as the kernel names it (LISTEN, ESTABLISHED, TIME_WAIT, CLOSE…; UDP: CLOSE or ESTABLISHED when connected); Unix: LISTEN, UNCONNECTED, CONNECTING, CONNECTED, DISCONNECTING.'),
    column.text('path', "Unix socket path ('@name' for abstract ones); null for unnamed and IP sockets.", { nullable: true }),
    column.int64('net_namespace', 'Inode of the network namespace the socket was found in (/proc/PID/ns/net).'),
  ],
};

/** The group's tables. */
export const DETAIL_TABLES: readonly TableSchema[] = [PROCESS_MAPS_TABLE, PROCESS_MEMORY_TABLE, PROCESS_NUMA_TABLE, PROCESS_FDS_TABLE, PROCESS_SOCKETS_TABLE];

/**
 * Default budget per table, milliseconds. Measured on a 520-process host, reading every process:
 * maps 45-66 ms, smaps_rollup 46-51, numa_maps 86-104, fd links 54-92 and fdinfo as much again;
 * at their default top 50/100 the first three take about a tenth of that. So maps, memory and numa
 * have ample room, and fds and sockets (every process) finish on a host ten times larger.
 */
export const DETAIL_BUDGET_MS: Readonly<Record<string, number>> = {
  [DetailTable.MAPS]: 1000,
  [DetailTable.MEMORY]: 1000,
  [DetailTable.NUMA]: 1000,
  [DetailTable.FDS]: 4000,
  [DetailTable.SOCKETS]: 3000,
};
