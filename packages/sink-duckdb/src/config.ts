/**
 * Options of the DuckDB store: where the file lives, how much memory and how many threads
 * DuckDB may use, the limits of queries (time, rows, bytes, how many at once), the
 * time-travel defaults, and how long data is kept (retention, downsampled tiers). The JSON
 * Schema is the single source of shapes and defaults (and of the README's generated block);
 * {@link checkConfig} then reads the durations and sizes it holds as text.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fail, jsonPath, OK, StatusCode, validateOptions, type JsonSchema, type Result, type Status } from '@virtualeyes/core';

/** How long one table's data is kept, or the default of every table: text as written in the config. */
export interface RetentionLimits {
  /** Oldest data kept: a duration (`7d`, `12h`, `1y`) or `forever`. */
  readonly maxAge: string;
  /** Most bytes one table's rows may take: a size (`2GB`, `512MiB`) or `unlimited`. */
  readonly maxBytes: string;
}

/** Retention: the default of every table and per-table overrides (a field left out takes the default). */
export interface RetentionConfig extends RetentionLimits {
  /** Per-table overrides, by table name. */
  readonly tables: Readonly<Record<string, Partial<RetentionLimits>>>;
}

/** One downsampled tier of every metric table: its bucket and how long its rows are kept. */
export interface TierConfig {
  /** Bucket width, a duration of whole seconds (`1m`, `1h`). */
  readonly step: string;
  /** How long the tier's rows are kept: a duration or `forever`. */
  readonly keep: string;
}

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
  /** How long raw rows are kept, per table. */
  readonly retention: RetentionConfig;
  /** Downsampled tiers of metric tables, finest first. */
  readonly tiers: readonly TierConfig[];
  /** When raw buckets are rolled into the first tier: just before retention deletes them, or as soon as they are complete. */
  readonly rollup: Rollup;
  /** Least time between two runs of the writer's rollup and retention, milliseconds (0: never). */
  readonly maintenanceIntervalMs: number;
}

/** When the first tier rolls up the raw rows ({@link DuckDbConfig.rollup}). */
export const Rollup = {
  /** Buckets are rolled shortly before retention deletes their raw rows: until then the raw rows answer every query, and the tier costs nothing. */
  BEFORE_RETENTION: 'before-retention',
  /** Buckets are rolled as soon as they are complete. */
  IMMEDIATE: 'immediate',
} as const;

/** One of the {@link Rollup} strings. */
export type Rollup = (typeof Rollup)[keyof typeof Rollup];

/** Milliseconds per duration unit. A year is 365 days. */
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** How a duration is written, for descriptions and refusals. */
const DURATION_TEXT = 'a whole number and a unit (ms, s, m, h, d, w, y; a year is 365 days), e.g. 90s, 12h, 7d, 1y';

/** The word for "no age limit" in maxAge and keep. */
export const FOREVER = 'forever';

/** The word for "no size limit" in maxBytes. */
export const UNLIMITED = 'unlimited';

/** Bytes per size unit (DuckDB's reading: KB = 1000, KiB = 1024). */
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };

/** Longest duration accepted (100 years): beyond it, epoch arithmetic leaves DuckDB's time range. */
const MAX_DURATION_MS = 100 * 31_536_000_000;

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
  retention: Object.freeze({ maxAge: '7d', maxBytes: 'unlimited', tables: Object.freeze({}) }),
  tiers: Object.freeze([Object.freeze({ step: '1m', keep: '30d' }), Object.freeze({ step: '1h', keep: '1y' })]),
  rollup: Rollup.BEFORE_RETENTION,
  maintenanceIntervalMs: 60_000,
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
    retention: {
      type: 'object',
      additionalProperties: false,
      default: { maxAge: DEFAULT_CONFIG.retention.maxAge, maxBytes: DEFAULT_CONFIG.retention.maxBytes, tables: {} },
      description:
        'How long raw rows are kept (history tables and the sample log); metric tables stay readable past it from their tiers. The writer deletes older rows continuously.',
      properties: {
        maxAge: {
          type: 'string',
          default: DEFAULT_CONFIG.retention.maxAge,
          description: `Oldest raw data kept, for every table without its own: ${DURATION_TEXT}, or "forever".`,
        },
        maxBytes: {
          type: 'string',
          default: DEFAULT_CONFIG.retention.maxBytes,
          description:
            'Most bytes the raw rows of each table may take (each table on its own; tiers not counted): a size such as 2GB or 512MiB, or "unlimited". Past it the oldest rows go.',
        },
        tables: {
          type: 'object',
          default: {},
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { maxAge: { type: 'string' }, maxBytes: { type: 'string' } },
          },
          description: 'Per-table maxAge and maxBytes, by table name, e.g. {"process_stats": {"maxAge": "2d"}}; what a table leaves out takes the defaults above.',
        },
      },
    },
    tiers: {
      type: 'array',
      maxItems: 8,
      default: DEFAULT_CONFIG.tiers.map((tier) => ({ ...tier })),
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['step', 'keep'],
        properties: { step: { type: 'string' }, keep: { type: 'string' } },
      },
      description:
        'Downsampled tiers of every metric table, finest first: {"step": bucket width in whole seconds, a multiple of the previous step, "keep": how long, or "forever"}. Each holds per entity and bucket the min, avg, max and last value (rates of counters) in vw_tiers.<table>_<seconds>s; [] turns them off.',
    },
    rollup: {
      type: 'string',
      enum: [Rollup.BEFORE_RETENTION, Rollup.IMMEDIATE],
      default: DEFAULT_CONFIG.rollup,
      description:
        'When raw buckets go into the first tier: "before-retention" rolls them shortly before retention deletes their raw rows (queries read the raw rows until then, so the tier takes no space while it would answer nothing), "immediate" as soon as a bucket is complete.',
    },
    maintenanceIntervalMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: DEFAULT_CONFIG.maintenanceIntervalMs,
      description: 'Least time between two runs of the rollup into the tiers and of retention, which run in the writer after a write; 0 turns both off.',
    },
  },
});

/** Validates raw options and fills defaults; INVALID_CONFIG names the JSON path of a bad value. */
export function parseConfig(raw: unknown): Result<DuckDbConfig> {
  const parsed = validateOptions<DuckDbConfig>(CONFIG_SCHEMA, raw);
  if (!parsed.ok) return parsed;
  const checked = checkConfig(parsed.value);
  return checked.code === StatusCode.OK ? parsed : { ok: false, status: checked };
}

/** A duration in milliseconds (`7d` → 604 800 000), Infinity for `forever`, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === FOREVER) return Number.POSITIVE_INFINITY;
  const match = /^(\d+)\s*(ms|s|m|h|d|w|y)$/.exec(trimmed);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? Number.NaN);
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** A size in bytes (`2GB` → 2e9, `512MiB` → 536 870 912), Infinity for `unlimited`, or undefined when the text is not one. */
export function parseSize(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === UNLIMITED) return Number.POSITIVE_INFINITY;
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)$/i.exec(trimmed);
  if (match === null) return undefined;
  const bytes = Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toUpperCase()] ?? Number.NaN));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A table name as core allows it (snake_case). */
const TABLE_NAME = /^[a-z][a-z0-9_]*$/;

/** Finest bucket a tier may have: the tier table's name counts whole seconds. */
const MIN_STEP_MS = 1000;

/**
 * Checks what the schema holds as text: every duration and size, and that each tier's step is
 * whole seconds, longer than and a multiple of the previous one (so every bucket lies in one
 * bucket of the next tier). INVALID_CONFIG names the JSON path of the first bad value.
 */
export function checkConfig(config: Pick<DuckDbConfig, 'retention' | 'tiers'>): Status {
  const bad = (path: string, message: string): Status => fail(StatusCode.INVALID_CONFIG, `${path}: ${message}`, { op: 'validate config', retryable: false });
  const duration = (path: string, text: string, forever: boolean): Status | undefined => {
    const ms = parseDuration(text);
    if (ms === undefined) return bad(path, `${JSON.stringify(text)} is not a duration: write ${DURATION_TEXT}${forever ? ', or "forever"' : ''}`);
    if (!forever && !Number.isFinite(ms)) return bad(path, 'must be a finite duration');
    if (ms === 0) return bad(path, `must be longer than 0${forever ? '; "forever" keeps everything' : ''}`);
    return undefined;
  };
  const size = (path: string, text: string): Status | undefined => {
    const bytes = parseSize(text);
    if (bytes === undefined) return bad(path, `${JSON.stringify(text)} is not a size: write a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 2GB or 512MiB, or "unlimited"`);
    return bytes < 65_536 ? bad(path, 'must be at least 64KiB (one block of the store)') : undefined;
  };
  const { retention, tiers } = config;
  const limits: [string, Partial<RetentionLimits>][] = [
    ['$.retention', retention],
    ...Object.entries(retention.tables).map(([name, table]): [string, Partial<RetentionLimits>] => [jsonPath('$.retention.tables', '', name), table]),
  ];
  for (const name of Object.keys(retention.tables)) {
    if (!TABLE_NAME.test(name)) return bad(jsonPath('$.retention.tables', '', name), 'is not a table name (lower case letters, digits and _, starting with a letter)');
  }
  for (const [path, table] of limits) {
    const problem = (table.maxAge === undefined ? undefined : duration(`${path}.maxAge`, table.maxAge, true)) ?? (table.maxBytes === undefined ? undefined : size(`${path}.maxBytes`, table.maxBytes));
    if (problem !== undefined) return problem;
  }
  let previous: { readonly ms: number; readonly text: string } | undefined;
  for (const [index, tier] of tiers.entries()) {
    const path = `$.tiers[${index}]`;
    const problem = duration(`${path}.step`, tier.step, false) ?? duration(`${path}.keep`, tier.keep, true);
    if (problem !== undefined) return problem;
    const ms = parseDuration(tier.step) ?? 0;
    if (ms < MIN_STEP_MS || ms % MIN_STEP_MS !== 0) return bad(`${path}.step`, `${JSON.stringify(tier.step)} is not a whole number of seconds (at least 1s)`);
    if (previous !== undefined && (ms <= previous.ms || ms % previous.ms !== 0)) {
      return bad(`${path}.step`, `${JSON.stringify(tier.step)} must be longer than and a multiple of the previous tier's step ${JSON.stringify(previous.text)}: tiers go finest first, each rolled up from the one before`);
    }
    previous = { ms, text: tier.step };
  }
  return OK;
}

/** The store file's absolute path for `config` in `dataDir`. */
export function storePath(config: Pick<DuckDbConfig, 'path'>, dataDir: string): string {
  if (config.path === '') return join(dataDir, DEFAULT_FILE_NAME);
  return isAbsolute(config.path) ? config.path : resolve(dataDir, config.path);
}
