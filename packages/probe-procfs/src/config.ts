/**
 * The probe's options: their JSON Schema (the single source of defaults, also used by the
 * loader and the generated README block), the typed config, and parseConfig for callers
 * that build a probe in code without the loader.
 */
import { validateOptions, type JsonSchema, type Result } from '@virtualeyes/core';
import { DEFAULT_USER_HZ } from '@virtualeyes/linux';
import { DETAIL_DEFAULTS, DETAIL_OPTIONS, type DetailOptions } from './detail/options.js';
import { EVENTS_DEFAULTS, EVENTS_OPTIONS, type EventsOptions } from './events/options.js';
import { SYSTEM_DEFAULTS, SYSTEM_OPTIONS, type SystemOptions } from './system/options.js';
import { TABLES } from './tables.js';

/** Options of the procfs probe, after defaults: the core collector's, then each table group's. */
export interface ProcfsConfig extends SystemOptions, DetailOptions, EventsOptions {
  /** Clock ticks per second of /proc times (USER_HZ, `getconf CLK_TCK`). */
  readonly userHz: number;
  /** Whether to read /proc/PID/io for read_bytes and write_bytes. */
  readonly readIo: boolean;
  /** Longest command line kept, in characters; 0 keeps them whole. */
  readonly maxCmdlineChars: number;
  /** Processes read between two yields to the event loop. */
  readonly scanChunk: number;
  /** Most /proc files held open between scans (three per process: stat, schedstat, io); 0 holds none. */
  readonly maxHeldFiles: number;
  /** Whether the scan learns from the kernel's context-switch records which processes ran, and skips reading the others. */
  readonly switchRecords: boolean;
  /** Time budget per table in milliseconds, overriding the table's default; a collection over it stops with TIMEOUT. */
  readonly budgets: Readonly<Record<string, number>>;
}

/** Options as a config file or a caller writes them: any subset, which parseConfig (or the loader) defaults. */
export type ProcfsOptions = Partial<ProcfsConfig>;

/** Every option at its default. */
export const DEFAULT_CONFIG: ProcfsConfig = Object.freeze({
  userHz: DEFAULT_USER_HZ,
  readIo: true,
  maxCmdlineChars: 4096,
  scanChunk: 64,
  maxHeldFiles: 8192,
  switchRecords: true,
  budgets: {},
  ...SYSTEM_DEFAULTS,
  ...DETAIL_DEFAULTS,
  ...EVENTS_DEFAULTS,
});

/** JSON Schema of {@link ProcfsConfig}; applying it fills every default. */
export const CONFIG_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  properties: {
    userHz: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: DEFAULT_CONFIG.userHz,
      description: 'Clock ticks per second of /proc CPU times (getconf CLK_TCK); 100 on every mainstream Linux.',
    },
    readIo: {
      type: 'boolean',
      default: DEFAULT_CONFIG.readIo,
      description: "Read /proc/PID/io for read_bytes and write_bytes (other users' processes need root or CAP_SYS_PTRACE).",
    },
    maxCmdlineChars: {
      type: 'integer',
      minimum: 0,
      default: DEFAULT_CONFIG.maxCmdlineChars,
      description: 'Longest command line kept, in characters (longer ones are cut); 0 keeps them whole.',
    },
    scanChunk: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: DEFAULT_CONFIG.scanChunk,
      description: 'Processes read between two yields to the event loop during a process scan.',
    },
    maxHeldFiles: {
      type: 'integer',
      minimum: 0,
      maximum: 1048576,
      default: DEFAULT_CONFIG.maxHeldFiles,
      description:
        "Most /proc files held open between scans, three per process (stat, schedstat, io), so an idle process costs three reads and no open or close; beyond it processes are read by opening their files. Keep it under the daemon's open-file limit (ulimit -n); 0 holds none.",
    },
    switchRecords: {
      type: 'boolean',
      default: DEFAULT_CONFIG.switchRecords,
      description:
        "Learn which processes ran from the kernel's context-switch records (perf_event_open, one small ring per CPU; needs root, CAP_PERFMON or kernel.perf_event_paranoid <= 0, x86-64), so a process that was not scheduled since the last scan costs no read at all. Without them, or when a ring overflows, every process's stat and schedstat are read each scan.",
    },
    budgets: {
      type: 'object',
      propertyNames: { enum: TABLES.map((table) => table.name) },
      additionalProperties: { type: 'integer', minimum: 1, maximum: 600000 },
      default: DEFAULT_CONFIG.budgets,
      description: "Time budget per table in milliseconds (e.g. { \"process_maps\": 500 }), overriding the table's default; a collection over it stops with TIMEOUT and keeps what it read.",
    },
    ...SYSTEM_OPTIONS,
    ...DETAIL_OPTIONS,
    ...EVENTS_OPTIONS,
  },
});

/** Validates raw options and fills defaults, giving what createProbe takes; INVALID_CONFIG names the JSON path of a bad value. */
export function parseConfig(raw: unknown): Result<ProcfsConfig> {
  return validateOptions<ProcfsConfig>(CONFIG_SCHEMA, raw);
}
