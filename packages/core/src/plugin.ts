/**
 * The plugin contracts: what a probe or sink package exports (a manifest and a factory),
 * what core hands it (deps), and the store-reader capability that lets a sink answer
 * time-travel queries. Plugins are plain objects built by factories, never classes.
 */
import type { Clock } from './clock.js';
import type { FileReader } from './files.js';
import type { Hooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Batch, ColumnType, TableKind, TableSchema } from './schema.js';
import type { Result, Status } from './status.js';

/** A JSON Schema object (draft 2020-12 subset understood by ajv). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** Platforms as `process.platform` spells them. */
export type Platform = 'linux' | 'sunos' | 'darwin' | 'freebsd' | 'win32' | 'aix' | 'openbsd';

/** What every plugin package declares about itself. */
export interface PluginManifest {
  /** Whether this package is a probe (input) or a sink (output). */
  readonly kind: 'probe' | 'sink';
  /** Short stable name used in logs, Status sources and config (`procfs`). */
  readonly name: string;
  /** npm package name (`@virtualeyes/probe-procfs`). */
  readonly packageName: string;
  /** The package's own version. */
  readonly version: string;
  /** semver range of `@virtualeyes/core` the plugin works with. */
  readonly coreRange: string;
  /** Platforms the plugin supports, or 'any'. */
  readonly platforms: readonly Platform[] | 'any';
  /** One sentence saying what the plugin does. */
  readonly description: string;
  /** JSON Schema of the plugin's options; defaults are applied from it. */
  readonly configSchema: JsonSchema;
  /** Tables a probe produces (empty for sinks). */
  readonly tables: readonly TableSchema[];
}

/** What core hands every plugin factory. Plugins never see the DI container. */
export interface PluginDeps {
  /** The instance name (the manifest's name unless configured); use it as the plugin's `name`. */
  readonly name: string;
  /** Wall and monotonic time, timers. */
  readonly clock: Clock;
  /** Logger scoped to the plugin's name. */
  readonly logger: Logger;
  /** File reader with the agent's root mapping. */
  readonly files: FileReader;
  /** The agent's hooks. */
  readonly hooks: Hooks;
  /** Host name stamped on every row. */
  readonly host: string;
  /** The agent's data directory (stores keep their files here). */
  readonly dataDir: string;
  /** The platform to run as, as `process.platform` spells it (the agent's, or a test's). */
  readonly platform: string;
}

/** Passed to every collection. */
export interface CollectContext {
  /** Tables due in this collection (a subset of the manifest's). */
  readonly tables: readonly string[];
  /** Scheduled time of the collection, epoch milliseconds. */
  readonly ts: number;
  /** Aborted when the collection times out or the agent stops. */
  readonly signal: AbortSignal;
}

/** The outcome of one collection: the rows it got and what went wrong on the way. */
export interface CollectResult {
  /** One batch per table collected. */
  readonly batches: readonly Batch[];
  /** Per-item failures; partial success is normal. */
  readonly errors: readonly Status[];
}

/** Passed to {@link Probe.start}: the way event-driven probes push rows. */
export interface ProbeStartContext {
  /** Pushes a batch outside the polling schedule. */
  emit(batch: Batch): void;
  /**
   * The tables the agent will collect or accept from this probe: every manifest table whose
   * configured interval is not 0. A probe opens what only turned-off tables need (a netlink
   * socket, a trace) only when one of them is here. Absent: every manifest table.
   */
  readonly tables?: readonly string[];
}

/** An input: something that observes the host and produces batches. */
export interface Probe {
  /** Instance name, as given in {@link PluginDeps.name}. */
  readonly name: string;
  /** Checks config and platform only; no slow I/O. */
  init(): Status;
  /** Opens what the probe holds for its lifetime (descriptors, sockets). Optional. */
  start?(context: ProbeStartContext): Promise<Status>;
  /** One collection of the due tables. Must not throw. */
  collect(context: CollectContext): Promise<CollectResult>;
  /** Releases everything; safe to call twice. */
  close(): Promise<Status>;
}

/** Passed to {@link Sink.start}. */
export interface SinkStartContext {
  /** Every table the agent's probes declared. */
  readonly tables: readonly TableSchema[];
}

/** The outcome of one write. */
export interface WriteResult {
  /** OK, or why (some) batches were not written. */
  readonly status: Status;
  /** Indexes of batches not written when the failure was partial; absent means all or none. */
  readonly rejected?: readonly number[];
}

/** Counters a sink reports about itself. */
export interface SinkStats {
  /** Rows written since start. */
  readonly rowsWritten: number;
  /** Bytes the store occupies on disk, if it has a file. */
  readonly bytesOnDisk?: number;
  /** Where the store lives, if it is a file. */
  readonly path?: string;
}

/** An output. Sinks never buffer or retry: core owns that. */
export interface Sink {
  /** Instance name, as given in {@link PluginDeps.name}. */
  readonly name: string;
  /** Checks config and platform only; no slow I/O. */
  init(): Status;
  /** Opens the destination and declares the tables. After a retryable failure core may call it again. */
  start(context: SinkStartContext): Promise<Status>;
  /** Writes batches in order; partial failures name the rejected batches. Must not throw. */
  write(batches: readonly Batch[]): Promise<WriteResult>;
  /** Makes written data durable. */
  flush(): Promise<Status>;
  /** Flushes and releases the destination; safe to call twice. */
  close(): Promise<Status>;
  /** Counters for status output. */
  stats(): SinkStats;
  /** A reader over what this sink stored, when the sink is a queryable store. */
  reader?(): StoreReader | undefined;
}

/** A probe factory: `(config, deps) => Result<Probe>`. */
export type ProbeFactory<C = Record<string, unknown>> = (config: C, deps: PluginDeps) => Result<Probe>;

/** A sink factory: `(config, deps) => Result<Sink>`. */
export type SinkFactory<C = Record<string, unknown>> = (config: C, deps: PluginDeps) => Result<Sink>;

/** Deps of a read-only store reader (no hooks; readers run outside an agent). */
export type ReaderDeps = Pick<PluginDeps, 'clock' | 'logger' | 'dataDir'>;

/** Opens a store's data read-only, without a running agent (the CLI's offline path). */
export type ReaderFactory<C = Record<string, unknown>> = (config: C, deps: ReaderDeps) => Promise<Result<StoreReader>>;

/** What a probe package exports. */
export interface ProbeModule<C = Record<string, unknown>> {
  /** The package's manifest. */
  readonly manifest: PluginManifest;
  /** Builds a probe instance. */
  readonly createProbe: ProbeFactory<C>;
}

/** What a sink package exports. */
export interface SinkModule<C = Record<string, unknown>> {
  /** The package's manifest. */
  readonly manifest: PluginManifest;
  /** Builds a sink instance. */
  readonly createSink: SinkFactory<C>;
  /** Opens the sink's stored data read-only, if the sink is a store. */
  readonly createReader?: ReaderFactory<C>;
}

/** A question to a store. Times are epoch milliseconds. */
export interface QueryRequest {
  /** One read-only SQL statement. */
  readonly sql: string;
  /** Answer as of this instant: state rows valid then, the last metric sample at or before it. */
  readonly at?: number;
  /** Start of a range (inclusive); with `to`, rows in or overlapping the range. */
  readonly from?: number;
  /** End of a range (inclusive). */
  readonly to?: number;
  /** How far before `at` a metric sample may be and still count (and, for rates, how far before a sample the one before it). */
  readonly stalenessMs?: number;
  /**
   * With `from` and `to`: metric tables (and their rates) in buckets of this many milliseconds
   * (an integer of at least 1000), one row per host, entity and bucket with min/avg/max/last
   * values and counter rates; state and event tables are unaffected.
   */
  readonly stepMs?: number;
  /** Query time limit. */
  readonly timeoutMs?: number;
  /** Row limit; the result says when it truncated. */
  readonly maxRows?: number;
}

/** A column of a query result. */
export interface ResultColumn {
  /** Column name. */
  readonly name: string;
  /** The store's type name (`BIGINT`, `TIMESTAMP WITH TIME ZONE`). */
  readonly type: string;
}

/** JSON-safe cell values: big integers beyond 2^53 come back as strings, times as ISO strings. */
export type Cell = string | number | boolean | null | readonly Cell[] | { readonly [key: string]: Cell };

/** The answer to a {@link QueryRequest}. */
export interface QueryResult {
  /** Result columns. */
  readonly columns: readonly ResultColumn[];
  /** Result rows, one array per row in column order. */
  readonly rows: readonly (readonly Cell[])[];
  /** True when `maxRows` cut the result short. */
  readonly truncated: boolean;
  /** The row cap that applied: the request's `maxRows` capped by the store's own limit. */
  readonly maxRows?: number;
  /** Time the store spent, milliseconds. */
  readonly elapsedMs: number;
}

/** A table as the store knows it, with how much it holds. */
export interface StoredTable {
  /** Table name. */
  readonly name: string;
  /** Table kind. */
  readonly kind: TableKind;
  /** What a row is. */
  readonly description: string;
  /** Key columns. */
  readonly key: readonly string[];
  /** All queryable columns, store-added ones included. */
  readonly columns: readonly {
    readonly name: string;
    readonly type: ColumnType;
    readonly unit?: string;
    /** True for a cumulative counter: its per-second rates are in the `<table>_rates` view. */
    readonly counter?: true;
    readonly description: string;
  }[];
  /** Stored rows (versions for state tables). */
  readonly rows: number;
  /** Earliest and latest time held, epoch milliseconds, or null when empty. */
  readonly first: number | null;
  /** Latest time held. */
  readonly last: number | null;
}

/** Facts about a store. */
export interface StoreInfo {
  /** File path, if any. */
  readonly path?: string;
  /** Bytes on disk. */
  readonly bytes?: number;
  /** Earliest time recorded, epoch milliseconds. */
  readonly first: number | null;
  /** Latest time recorded. */
  readonly last: number | null;
  /** Hosts recorded. */
  readonly hosts: readonly string[];
  /** The runs of the recorder, per host, oldest first. Absent from stores that cannot tell. */
  readonly recordings?: readonly Recording[];
}

/** One run of a recorder on one host. Times are epoch milliseconds. */
export interface Recording {
  /** The host recorded. */
  readonly host: string;
  /** When the run started. */
  readonly from: number;
  /** When it stopped; null while it runs, or when it ended without stopping (a crash; see `lastWrite`). */
  readonly to: number | null;
  /** Its last write, null before the first. */
  readonly lastWrite: number | null;
}

/** Each host's last two samples of a metric table at or before an instant: what a rate or a CPU% needs. Times are epoch milliseconds. */
export interface SamplesRequest {
  /** A metric table. */
  readonly table: string;
  /** The instant. */
  readonly at: number;
  /** How far before `at` the last sample may be, and how far before that sample the previous one. Default: the store's. */
  readonly stalenessMs?: number;
  /** Time limit. */
  readonly timeoutMs?: number;
  /** Row limit of each of the two results; each says when it truncated. */
  readonly maxRows?: number;
}

/** The answer to a {@link SamplesRequest}: rows with the store's `host` and `ts` columns and the table's own. */
export interface Samples {
  /** Per host, every row of its last sample at or before `at`, within the staleness window, and not from before a stop of the recorder. */
  readonly current: QueryResult;
  /** Per host, every row of the sample before that one, within the staleness window of it and from the same recording; no rows where there is none. */
  readonly previous: QueryResult;
}

/** The rows of a state table valid at an instant. */
export interface StatesRequest {
  /** A state table. */
  readonly table: string;
  /** The instant, epoch milliseconds. */
  readonly at: number;
  /** Only this host's rows. Default: every host's. */
  readonly host?: string;
  /** Time limit. */
  readonly timeoutMs?: number;
  /** Row limit; the result says when it truncated. */
  readonly maxRows?: number;
}

/** The versions of a state table valid at any time in a range: what changed over it. */
export interface VersionsRequest {
  /** A state table. */
  readonly table: string;
  /** Start of the range (inclusive), epoch milliseconds. */
  readonly from: number;
  /** End of the range (inclusive). */
  readonly to: number;
  /** Only this host's versions. Default: every host's. */
  readonly host?: string;
  /** Time limit. */
  readonly timeoutMs?: number;
  /** Row limit; the result says when it truncated. */
  readonly maxRows?: number;
}

/**
 * What a slice is: a piece of a recording that answers every as-of question about the instants
 * in [from, to] (with a staleness of at most `stalenessMs`) as the whole recording does. Times are
 * epoch milliseconds.
 */
export interface SliceScope {
  /** First instant the slice answers for. */
  readonly from: number;
  /** Last instant the slice answers for (never past the end of the recording when it was planned). */
  readonly to: number;
  /** The longest staleness window its as-of answers hold for. */
  readonly stalenessMs: number;
  /** The longest keyframe interval the recording was written with: how far before a sample its rows may lie. */
  readonly keyframeMs: number;
  /** The recorded tables it holds. */
  readonly tables: readonly string[];
}

/** What a part of a slice is: a recorded table, or one of the two logs an as-of read needs besides it. */
export type SlicePartKind = TableKind | 'samples' | 'sessions';

/** One column of a slice part. */
export interface SliceColumn {
  /** Column name. */
  readonly name: string;
  /** Value type. */
  readonly type: ColumnType;
  /** Unit of the value, if it has one. */
  readonly unit?: string;
  /** What the column holds. */
  readonly description: string;
  /** True when the probe declared it nullable. */
  readonly nullable?: boolean;
  /** True for a cumulative counter (its rates are in the `<table>_rates` view). */
  readonly counter?: boolean;
  /** True for a column the store adds (`host`, `ts`, `valid_from`, `valid_to`, `_gone`, the logs' columns) rather than the probe declares. */
  readonly added?: boolean;
}

/** One part of a slice: its rows are one file of an exported slice. */
export interface SlicePart {
  /** A recorded table's name, or `vw_meta.samples` / `vw_meta.sessions`. */
  readonly name: string;
  /** What the part is. */
  readonly kind: SlicePartKind;
  /** What a row is. */
  readonly description: string;
  /** How its rows relate to time, for someone reading the file elsewhere (what a metric row, a tombstone or a version means). */
  readonly semantics: string;
  /** Key columns (a recorded table's; empty for the logs). */
  readonly key: readonly string[];
  /** Every column, in file order. */
  readonly columns: readonly SliceColumn[];
  /** The column its rows are ordered and paged by. */
  readonly timeColumn: string;
  /** Earliest instant its rows reach back to: `from` less the lookback an as-of read at `from` needs. */
  readonly since: number;
}

/** The request for a slice's plan: which instants and tables. Times are epoch milliseconds. */
export interface SlicePlanRequest {
  /** First instant to answer for. */
  readonly from: number;
  /** Last instant; cut to the end of the recording (now, or its last write when that is later). */
  readonly to: number;
  /** The staleness window the answers must hold for. Default: the store's. */
  readonly stalenessMs?: number;
  /** Only these recorded tables. Default: every one. */
  readonly tables?: readonly string[];
  /** Time limit. */
  readonly timeoutMs?: number;
}

/** What a slice holds, part by part; its rows are then read with {@link SliceRequest}s. */
export interface SlicePlan {
  /** The instants, staleness and tables, as the store settled them. */
  readonly scope: SliceScope;
  /** The sessions log first, then the sample log (when a metric table is held), then the tables. */
  readonly parts: readonly SlicePart[];
}

/** One page of one part of a slice. */
export interface SliceRequest {
  /** The plan's scope, unchanged. */
  readonly scope: SliceScope;
  /** The part's name. */
  readonly part: string;
  /** Where to go on: the `next` of the previous page; absent for the first. */
  readonly cursor?: string;
  /** Most rows of the page; the store caps it, and ends a page early at its result-byte limit. */
  readonly maxRows?: number;
  /** Time limit. */
  readonly timeoutMs?: number;
}

/** A page of a slice part: rows in the part's column order, ordered by its time column. */
export interface SlicePage {
  /** The page's columns (the part's, in order). */
  readonly columns: readonly ResultColumn[];
  /** Rows; timestamps as ISO-8601 UTC with microseconds, big integers as strings, non-finite floats as `NaN`/`Infinity`/`-Infinity`. */
  readonly rows: readonly (readonly Cell[])[];
  /** The cursor of the next page; absent on the last one. */
  readonly next?: string;
  /** Time the store spent, milliseconds. */
  readonly elapsedMs: number;
}

/** Rows going into one file of a slice, page by page. */
export interface SliceFileWriter {
  /** Adds rows (in the columns' order). */
  append(rows: readonly (readonly Cell[])[]): Promise<Status>;
  /** Writes the file; the number of rows in it. */
  finish(): Promise<Result<number>>;
  /** Drops what was appended and removes what was written; safe after finish. */
  abort(): Promise<void>;
}

/** A new store being loaded with a slice, part by part. */
export interface SliceLoader {
  /** The store file being created. */
  readonly path: string;
  /** Adds rows of a part (in the part's column order); values may also be given as their text (CSV). INVALID_ARGUMENT for a value that is not of its column's type. */
  append(part: string, rows: readonly (readonly Cell[])[]): Promise<Status>;
  /** Adds every row of a Parquet file written by {@link SliceFiles.createParquetWriter}; the number of rows. */
  appendParquet(part: string, file: string): Promise<Result<number>>;
  /** Makes the store durable and closes it; its path. */
  finish(): Promise<Result<string>>;
  /** Closes and removes the store being created; safe after finish fails. */
  abort(): Promise<void>;
}

/**
 * What a store package exports as `sliceFiles` so that a tool writes and loads slices without
 * knowing the store's dialect: Parquet files, and a new store loaded with a slice's rows.
 */
export interface SliceFiles<C = Record<string, unknown>> {
  /** A writer of one Parquet file at `path` (which must not exist) with `columns`. */
  createParquetWriter(path: string, columns: readonly SliceColumn[]): Promise<Result<SliceFileWriter>>;
  /** Creates the store `config` names in `deps.dataDir`, laid out for `plan`; refused when a store with data is there. */
  createLoader(config: C, deps: ReaderDeps, plan: SlicePlan): Promise<Result<SliceLoader>>;
}

/**
 * Read-only access to a store: SQL with time travel, the questions every store answers without
 * SQL (so a tool need not know the store's dialect), the table catalogue, store facts.
 */
export interface StoreReader {
  /** Runs one read-only SQL statement, optionally as of an instant or over a range. */
  query(request: QueryRequest): Promise<Result<QueryResult>>;
  /** Each host's last sample of a metric table at or before an instant, and the one before it. INVALID_ARGUMENT for a table that is not a stored metric table. */
  samples(request: SamplesRequest): Promise<Result<Samples>>;
  /** The rows of a state table valid at an instant. INVALID_ARGUMENT for a table that is not a stored state table. */
  states(request: StatesRequest): Promise<Result<QueryResult>>;
  /** Every version of a state table valid at some time in a range (with `valid_from`/`valid_to`), ordered by host, key and `valid_from`. INVALID_ARGUMENT as for `states`. */
  versions(request: VersionsRequest): Promise<Result<QueryResult>>;
  /** The tables held, with columns, kinds and row counts. */
  tables(): Promise<Result<readonly StoredTable[]>>;
  /** Path, size and recorded time span. */
  info(): Promise<Result<StoreInfo>>;
  /** What a slice of [from, to] holds. Optional: a store that cannot export slices omits it (and `slice`). */
  slicePlan?(request: SlicePlanRequest): Promise<Result<SlicePlan>>;
  /** One page of one part of a slice planned with {@link StoreReader.slicePlan}. */
  slice?(request: SliceRequest): Promise<Result<SlicePage>>;
  /** Releases the reader; safe to call twice. */
  close(): Promise<Status>;
}
