/**
 * The probe's options: their JSON Schema (the single source of defaults, also used by the
 * loader and the generated README block), the typed config, and parseConfig for callers
 * that build a probe in code without the loader.
 */
import { validateOptions, type JsonSchema, type Result } from '@virtualeyes/core';
import { DEFAULT_USER_HZ } from '@virtualeyes/linux';

/** Options of the procfs probe, after defaults. */
export interface ProcfsConfig {
  /** Clock ticks per second of /proc times (USER_HZ, `getconf CLK_TCK`). */
  readonly userHz: number;
  /** Whether to read /proc/PID/io for read_bytes and write_bytes. */
  readonly readIo: boolean;
  /** Longest command line kept, in characters; 0 keeps them whole. */
  readonly maxCmdlineChars: number;
  /** Processes read between two yields to the event loop. */
  readonly scanChunk: number;
}

/** Options as a config file or a caller writes them: any subset, which parseConfig (or the loader) defaults. */
export type ProcfsOptions = Partial<ProcfsConfig>;

/** Every option at its default. */
export const DEFAULT_CONFIG: ProcfsConfig = Object.freeze({
  userHz: DEFAULT_USER_HZ,
  readIo: true,
  maxCmdlineChars: 4096,
  scanChunk: 64,
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
  },
});

/** Validates raw options and fills defaults, giving what createProbe takes; INVALID_CONFIG names the JSON path of a bad value. */
export function parseConfig(raw: unknown): Result<ProcfsConfig> {
  return validateOptions<ProcfsConfig>(CONFIG_SCHEMA, raw);
}
