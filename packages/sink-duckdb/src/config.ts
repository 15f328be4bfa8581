/**
 * Options of the DuckDB store: where the file lives, how much memory and how many threads
 * DuckDB may use, and the limits and time-travel defaults of queries. The JSON Schema is
 * the single source of validation and defaults (and of the README's generated block).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { validateOptions, type JsonSchema, type Result } from '@virtualeyes/core';

/** The store's options, after defaults. */
export interface DuckDbConfig {
  /** Store file; '' means `vwatchd.db` in the agent's data directory, relative paths resolve there. */
  readonly path: string;
  /** DuckDB memory limit (`1GB`, `512MB`, `50%`). */
  readonly memoryLimit: string;
  /** DuckDB worker threads. */
  readonly threads: number;
  /** Longest a query may run, milliseconds; requests may ask for less. */
  readonly queryTimeoutMs: number;
  /** Most rows a query returns; requests may ask for fewer. */
  readonly maxRows: number;
  /** How far before an instant the last metric sample or an event may be and still count. */
  readonly stalenessMs: number;
}

/** Defaults of every option. */
export const DEFAULT_CONFIG: DuckDbConfig = Object.freeze({
  path: '',
  memoryLimit: '1GB',
  threads: 2,
  queryTimeoutMs: 30_000,
  maxRows: 100_000,
  stalenessMs: 300_000,
});

/** File name used when `path` is empty. */
export const DEFAULT_FILE_NAME = 'vwatchd.db';

/** JSON Schema of the options; ajv fills the defaults. */
export const CONFIG_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      default: DEFAULT_CONFIG.path,
      description: "Store file. Empty means vwatchd.db in the agent's data directory; a relative path resolves there.",
    },
    memoryLimit: {
      type: 'string',
      pattern: '^\\s*\\d+(\\.\\d+)?\\s*([KMGT]i?B|B|%)\\s*$',
      default: DEFAULT_CONFIG.memoryLimit,
      description: 'Most memory DuckDB may use (writes and queries together), e.g. 1GB, 512MiB or 50%.',
    },
    threads: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: DEFAULT_CONFIG.threads,
      description: 'DuckDB worker threads.',
    },
    queryTimeoutMs: {
      type: 'integer',
      minimum: 1,
      default: DEFAULT_CONFIG.queryTimeoutMs,
      description: 'Longest a query may run, in milliseconds; a request may ask for less.',
    },
    maxRows: {
      type: 'integer',
      minimum: 1,
      default: DEFAULT_CONFIG.maxRows,
      description: 'Most rows a query returns (the result says when it was cut); a request may ask for fewer.',
    },
    stalenessMs: {
      type: 'integer',
      minimum: 0,
      default: DEFAULT_CONFIG.stalenessMs,
      description: 'How far before an instant the last metric sample (or an event) may be and still count.',
    },
  },
});

/** Validates raw options and fills defaults; INVALID_CONFIG names the JSON path of a bad value. */
export function parseConfig(raw: unknown): Result<DuckDbConfig> {
  return validateOptions<DuckDbConfig>(CONFIG_SCHEMA, raw);
}

/** The store file's absolute path for `config` in `dataDir`. */
export function storePath(config: Pick<DuckDbConfig, 'path'>, dataDir: string): string {
  if (config.path === '') return join(dataDir, DEFAULT_FILE_NAME);
  return isAbsolute(config.path) ? config.path : resolve(dataDir, config.path);
}
