/**
 * Options of the DuckDB store: where the file lives, how much memory and how many threads
 * DuckDB may use, the limits of queries (time, rows, bytes, how many at once) and the
 * time-travel defaults. The JSON Schema is the single source of validation and defaults
 * (and of the README's generated block).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { validateOptions, type JsonSchema, type Result } from '@virtualeyes/core';

/** The store's options, after defaults. */
export interface DuckDbConfig {
  /** Store file; '' means `vwatchd.db` in the agent's data directory, relative paths resolve there. */
  readonly path: string;
  /** DuckDB memory limit (`64MB`, `1GB`, `50%`): its buffer pool and each query's working memory. */
  readonly memoryLimit: string;
  /** DuckDB worker threads. */
  readonly threads: number;
  /** Most disk that queries over `memoryLimit` may spill to, in `<store file>.tmp` (`1GB`, `512MiB`). */
  readonly maxTempDirectorySize: string;
  /** Longest a query may run, milliseconds; requests may ask for less. */
  readonly queryTimeoutMs: number;
  /** Most rows a query returns; requests may ask for fewer. */
  readonly maxRows: number;
  /** How far before an instant the last metric sample or an event may be and still count. */
  readonly stalenessMs: number;
  /** Longest a metric entity goes without a stored row while it does not change (a keyframe bounds as-of reads). */
  readonly keyframeMs: number;
  /** Rows after which a metric table's newest rows are rewritten in entity order (0: never). */
  readonly sortRows: number;
  /** Most bytes (estimated as converted) a query result may hold; past it the query fails. */
  readonly maxResultBytes: number;
  /** Most queries, table listings and info calls that run at once on one store. */
  readonly maxConcurrentQueries: number;
  /** Most calls waiting for a free slot; beyond it a call is refused at once. */
  readonly maxQueuedQueries: number;
  /** Longest a call waits for a free slot before it is refused, milliseconds. */
  readonly queueWaitMs: number;
}

/** Defaults of every option. */
export const DEFAULT_CONFIG: DuckDbConfig = Object.freeze({
  path: '',
  memoryLimit: '64MB',
  threads: 2,
  maxTempDirectorySize: '1GB',
  queryTimeoutMs: 30_000,
  maxRows: 100_000,
  stalenessMs: 300_000,
  keyframeMs: 300_000,
  sortRows: 122_880,
  maxResultBytes: 16 * 1024 * 1024,
  maxConcurrentQueries: 2,
  maxQueuedQueries: 16,
  queueWaitMs: 750,
});

/** Ceiling of `maxResultBytes`: a whole result is held in memory and sent as one JSON answer. */
const MAX_RESULT_BYTES_CEILING = 256 * 1024 * 1024;

/** A byte size as DuckDB reads it: `1GB`, `512MiB`, `64 KB`. */
const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([KMGT]i?B|B)\\s*$';

/** The store's name in its manifest, and the Status source where no instance name is known (the offline reader). */
export const STORE_NAME = 'duckdb';

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
      description:
        'Most memory DuckDB may use (writes and queries together), e.g. 64MB, 1GB or 50%. Its cache of store blocks grows up to it and stays, so it sets how far the daemon grows after queries; a query needing more spills to <store file>.tmp.',
    },
    threads: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: DEFAULT_CONFIG.threads,
      description: 'DuckDB worker threads.',
    },
    maxTempDirectorySize: {
      type: 'string',
      pattern: SIZE_PATTERN,
      default: DEFAULT_CONFIG.maxTempDirectorySize,
      description: 'Most disk that queries needing more than memoryLimit may spill to, in <store file>.tmp; past it they fail. E.g. 1GB or 512MiB.',
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
    keyframeMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: DEFAULT_CONFIG.keyframeMs,
      description:
        'Metric tables store a row only when an entity appears or changes, and at least once per keyframeMs while it does not; an as-of read looks back this far. 0 stores every row of every sample.',
    },
    sortRows: {
      type: 'integer',
      minimum: 0,
      maximum: 1_228_800,
      default: DEFAULT_CONFIG.sortRows,
      description:
        "Rows after which the rows a metric table got since its last sort are rewritten ordered by entity and time, so each entity's values lie together and compress better; 0 keeps time order. The default is one DuckDB row group.",
    },
    maxResultBytes: {
      type: 'integer',
      minimum: 65_536,
      maximum: MAX_RESULT_BYTES_CEILING,
      default: DEFAULT_CONFIG.maxResultBytes,
      description:
        'Most bytes a query result may hold (text and blob lengths plus 16 per value, counted while fetching); a larger result fails with INVALID_ARGUMENT instead of being cut. At most 256 MiB.',
    },
    maxConcurrentQueries: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: DEFAULT_CONFIG.maxConcurrentQueries,
      description:
        "Most queries, table listings and info calls running at once; each holds one of Node's libuv threads (UV_THREADPOOL_SIZE), which the writer needs too.",
    },
    maxQueuedQueries: {
      type: 'integer',
      minimum: 0,
      maximum: 1024,
      default: DEFAULT_CONFIG.maxQueuedQueries,
      description: 'Most calls waiting (first come, first served) while all slots are taken; more are refused with UNAVAILABLE at once.',
    },
    queueWaitMs: {
      type: 'integer',
      minimum: 0,
      maximum: 60_000,
      default: DEFAULT_CONFIG.queueWaitMs,
      description: 'Longest a call waits for a slot before it is refused with UNAVAILABLE (retryable, with retryAfterMs).',
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
