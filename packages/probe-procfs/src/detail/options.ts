/**
 * The detail group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig). `detail` picks the
 * processes every detail table reads (PCP hotproc's idea); `detailTables` overrides it per table,
 * field by field, and by default narrows the costly map and memory tables to the largest processes.
 */
import type { JsonSchema } from '@virtualeyes/core';
import { GLOB_PATTERN } from './glob.js';
import { DETAIL_TABLE_NAMES, DetailTable } from './tables.js';

/** What "top N" ranks processes by. */
export const TopBy = {
  /** CPU time since the scan before (cpuRecentMs), then total CPU time. */
  CPU: 'cpu',
  /** Resident memory. */
  RSS: 'rss',
} as const;

/** One of the {@link TopBy} strings. */
export type TopBy = (typeof TopBy)[keyof typeof TopBy];

/** Which processes a detail table reads: all of the lists that are not empty must match, then the top N are kept. */
export interface DetailFilter {
  /** Globs on the command name; any may match. Empty: every command. */
  readonly comm: readonly string[];
  /** User names or numeric uids; any may match. Empty: every user. */
  readonly user: readonly string[];
  /** Globs on a cgroup path of /proc/PID/cgroup (any line); any may match. Empty: every cgroup (and the file is not read). */
  readonly cgroup: readonly string[];
  /** Keep only the first N matching processes by `topBy`; 0 keeps them all. */
  readonly top: number;
  readonly topBy: TopBy;
}

/** What fdinfo is read for in process_fds. */
export const FdInfo = {
  /** fdinfo is not read: flags and pos are null, and process_fds costs half as much. */
  OFF: 'off',
  /** flags are read; pos stays null, so a state version means an fd opened, closed or changed. */
  FLAGS: 'flags',
  /** flags and pos: every read or write moves pos and makes a new version. */
  POSITION: 'position',
} as const;

/** One of the {@link FdInfo} strings. */
export type FdInfo = (typeof FdInfo)[keyof typeof FdInfo];

/** The detail group's options, after defaults. */
export interface DetailOptions {
  /** The filter every detail table applies unless `detailTables` overrides a field. */
  readonly detail: DetailFilter;
  /** Per-table overrides of `detail`, field by field. */
  readonly detailTables: Readonly<Record<DetailTable, Partial<DetailFilter>>>;
  /** What process_fds reads from /proc/PID/fdinfo/N. */
  readonly fdInfo: FdInfo;
}

/** Default of `detail`: every process (kernel threads and zombies have none of these files and are always skipped). */
const EVERY_PROCESS: DetailFilter = { comm: [], user: [], cgroup: [], top: 0, topBy: TopBy.CPU };

/** Largest processes kept by default for the tables whose files grow with the process (maps, smaps_rollup, numa_maps). */
const TOP_BY_RSS = { top: 50, topBy: TopBy.RSS } as const;

/** Defaults of {@link DetailOptions}. */
export const DETAIL_DEFAULTS: DetailOptions = {
  detail: EVERY_PROCESS,
  detailTables: {
    [DetailTable.MAPS]: TOP_BY_RSS,
    [DetailTable.MEMORY]: { top: 100, topBy: TopBy.RSS },
    [DetailTable.NUMA]: TOP_BY_RSS,
    [DetailTable.FDS]: {},
    [DetailTable.SOCKETS]: {},
  },
  fdInfo: FdInfo.FLAGS,
};

const GLOB: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  pattern: GLOB_PATTERN,
  description: 'A glob matching the whole text: * ? [abc] [a-z] [!abc], \\ escapes; every [ must be closed.',
};

/** The filter's properties; `withDefaults` gives each its default (for `detail`, not for the per-table overrides). */
function filterProperties(withDefaults: boolean): Record<string, JsonSchema> {
  const d = (value: unknown): { default?: unknown } => (withDefaults ? { default: value } : {});
  return {
    comm: { type: 'array', items: GLOB, ...d(EVERY_PROCESS.comm), description: 'Globs on the command name (comm, 15 bytes at most), e.g. ["postgres*", "nginx"]; empty matches every command.' },
    user: { type: 'array', items: { type: 'string', minLength: 1 }, ...d(EVERY_PROCESS.user), description: 'User names or numeric uids owning the process; empty matches every user.' },
    cgroup: { type: 'array', items: GLOB, ...d(EVERY_PROCESS.cgroup), description: 'Globs on a cgroup path from /proc/PID/cgroup, e.g. ["/system.slice/docker-*"]; empty matches every cgroup.' },
    top: { type: 'integer', minimum: 0, maximum: 1_000_000, ...d(EVERY_PROCESS.top), description: 'Keep only the N matching processes ranking first by topBy; 0 keeps every match.' },
    topBy: { enum: Object.values(TopBy), ...d(EVERY_PROCESS.topBy), description: "What top ranks by: 'cpu' (CPU time since the scan before) or 'rss' (resident memory)." },
  };
}

/** JSON Schema properties of {@link DetailOptions}. */
export const DETAIL_OPTIONS: Readonly<Record<string, JsonSchema>> = {
  detail: {
    type: 'object',
    additionalProperties: false,
    properties: filterProperties(true),
    default: DETAIL_DEFAULTS.detail,
    description:
      'Which processes the detail tables (process_maps, process_memory, process_numa, process_fds, process_sockets) read: every non-empty list must match, then top keeps the N first by topBy. Kernel threads and zombies are always left out; a process leaving the selection ends its state rows.',
  },
  detailTables: {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      DETAIL_TABLE_NAMES.map((table) => [
        table,
        { type: 'object', additionalProperties: false, properties: filterProperties(false), default: DETAIL_DEFAULTS.detailTables[table], description: `Overrides of detail for ${table}.` },
      ]),
    ),
    default: DETAIL_DEFAULTS.detailTables,
    description:
      'Per-table overrides of detail, field by field (a field given here wins over detail; a table given here replaces its default override, so give topBy again with top). By default process_maps and process_numa read the 50 largest processes by RSS and process_memory the 100 largest; process_fds and process_sockets read every process.',
  },
  fdInfo: {
    enum: Object.values(FdInfo),
    default: DETAIL_DEFAULTS.fdInfo,
    description:
      "What process_fds reads from /proc/PID/fdinfo/N: 'flags' (open flags), 'position' (flags and the file position, which moves with every read and makes a new version each time), or 'off' (half the cost; both null).",
  },
};
