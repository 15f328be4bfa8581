/**
 * The local API contract shared by the daemon (server) and the CLI (client): routes, the
 * JSON shapes they exchange, and how Status codes map to HTTP statuses. HTTP over a Unix
 * socket, or over TCP with `Authorization: Bearer <token>` when the daemon's config turns its
 * TCP listener on; every error body is `{ "status": Status }`.
 */
import type { AgentStatus } from '@virtualeyes/agent';
import type { JsonSchema, StatusCode, StoreInfo } from '@virtualeyes/core';

/** API routes, versioned. */
export const ApiRoute = {
  /** GET: `{ ok: true, pid, version }` when the daemon is up. */
  HEALTH: '/v1/health',
  /** GET: {@link DaemonStatus}. */
  STATUS: '/v1/status',
  /** GET: `{ tables: StoredTable[] }`. */
  TABLES: '/v1/tables',
  /** POST a QueryRequest: a QueryResult. */
  QUERY: '/v1/query',
  /** POST a SamplesRequest: Samples (each host's last two samples of a metric table at or before an instant). */
  SAMPLES: '/v1/samples',
  /** POST a StatesRequest: a QueryResult (the rows of a state table valid at an instant). */
  STATES: '/v1/states',
  /** POST a VersionsRequest: a QueryResult (the versions of a state table valid at some time in a range). */
  VERSIONS: '/v1/versions',
  /** POST a SlicePlanRequest: a SlicePlan (what a slice of a range holds, part by part). */
  SLICE_PLAN: '/v1/slice/plan',
  /** POST a SliceRequest: a SlicePage (one page of one part; at most the store's maxRows rows and about its maxResultBytes). */
  SLICE: '/v1/slice',
} as const;

/** What GET /v1/status returns. */
export interface DaemonStatus {
  /** Daemon version. */
  readonly version: string;
  /** Daemon process id. */
  readonly pid: number;
  /** Where the config came from (a path or 'defaults'). */
  readonly configSource: string;
  /** Data directory. */
  readonly dataDir: string;
  /** API socket path. */
  readonly socket: string;
  /** `host:port` the TCP listener is bound to (`[::1]:port` for IPv6), when it is on. */
  readonly tcp?: string;
  /** The agent's counters. */
  readonly agent: AgentStatus;
  /** Facts about the store, if a queryable sink runs. */
  readonly store: StoreInfo | null;
  /** The daemon's own memory, bytes: resident set, and the JS heap within it (absent from older daemons). */
  readonly memory?: DaemonMemory;
}

/** A daemon's memory use, from `process.memoryUsage()`. */
export interface DaemonMemory {
  /** Resident set of the whole process (code mapped from disk included). */
  readonly rss: number;
  /** V8 heap reserved. */
  readonly heapTotal: number;
  /** V8 heap in use. */
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JS objects (DuckDB's result buffers among them). */
  readonly external: number;
}

/** The limits every reading request may ask for: a time limit (at most 10 minutes) and a row cap; the store caps both again. */
const LIMITS = {
  timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
  maxRows: { type: 'integer', minimum: 1 },
} as const;

/** An instant, epoch milliseconds; the store checks its range. */
const INSTANT: JsonSchema = { type: 'number' };

/** A table name as a request may give it: an identifier, which the store still looks up in its catalogue. */
const TABLE_NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' };

/** A host name to filter by. */
const HOST: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };

/** How far back a sample may be. */
const STALENESS: JsonSchema = { type: 'integer', minimum: 0 };

/** A closed request schema: the given properties, `required` among them, nothing else. */
function request(required: readonly string[], properties: Record<string, JsonSchema>): JsonSchema {
  return Object.freeze({ type: 'object', additionalProperties: false, required, properties: { ...properties, ...LIMITS } });
}

/** JSON Schema of a QueryRequest body. */
export const QUERY_REQUEST_SCHEMA: JsonSchema = request(['sql'], {
  sql: { type: 'string', minLength: 1, maxLength: 100_000 },
  at: INSTANT,
  from: INSTANT,
  to: INSTANT,
  stalenessMs: STALENESS,
  // Buckets of a range, milliseconds; the store checks it further (with from and to, at most 10 000 buckets).
  stepMs: { type: 'integer', minimum: 1000 },
});

/** JSON Schema of a SamplesRequest body. */
export const SAMPLES_REQUEST_SCHEMA: JsonSchema = request(['table', 'at'], { table: TABLE_NAME, at: INSTANT, stalenessMs: STALENESS });

/** JSON Schema of a StatesRequest body. */
export const STATES_REQUEST_SCHEMA: JsonSchema = request(['table', 'at'], { table: TABLE_NAME, at: INSTANT, host: HOST });

/** JSON Schema of a VersionsRequest body. */
export const VERSIONS_REQUEST_SCHEMA: JsonSchema = request(['table', 'from', 'to'], { table: TABLE_NAME, from: INSTANT, to: INSTANT, host: HOST });

/** The recorded tables a slice holds. */
const SLICE_TABLES: JsonSchema = { type: 'array', maxItems: 1024, items: TABLE_NAME };

/** JSON Schema of a SlicePlanRequest body (a time limit, no row cap). */
export const SLICE_PLAN_REQUEST_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: { from: INSTANT, to: INSTANT, stalenessMs: STALENESS, tables: SLICE_TABLES, timeoutMs: LIMITS.timeoutMs },
});

/** JSON Schema of a SliceRequest body: the plan's scope as the store gave it, a part, and the cursor of the previous page. */
export const SLICE_REQUEST_SCHEMA: JsonSchema = request(['scope', 'part'], {
  scope: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to', 'stalenessMs', 'keyframeMs', 'tables'],
    properties: { from: INSTANT, to: INSTANT, stalenessMs: STALENESS, keyframeMs: STALENESS, tables: SLICE_TABLES },
  },
  part: { type: 'string', minLength: 1, maxLength: 136, pattern: '^(vw_meta\\.)?[A-Za-z_][A-Za-z0-9_]*$' },
  cursor: { type: 'string', maxLength: 64, pattern: '^-?[0-9]{1,20}:[0-9]{1,15}$' },
});

const HTTP_STATUS: Readonly<Record<StatusCode, number>> = {
  OK: 200,
  INVALID_ARGUMENT: 400,
  INVALID_CONFIG: 400,
  NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNSUPPORTED: 501,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  PARSE_ERROR: 422,
  INTERNAL: 500,
};

/** The HTTP status a response carrying `code` uses. */
export function httpStatusOf(code: StatusCode): number {
  return HTTP_STATUS[code];
}
