/**
 * @virtualeyes/core: what a plugin author needs and nothing more. The contracts probes, sinks
 * and store readers implement, the Status model, table schemas and column builders, the plugin
 * kit (defineProbe/defineSink), and the clock, logger, file reader and hooks plugins are given.
 * The runtime that runs plugins is @virtualeyes/agent; the daemon's protocol @virtualeyes/protocol.
 */
export {
  classifyErrno,
  err,
  errnoOf,
  fail,
  formatStatus,
  fromPromise,
  fromThrowable,
  isOk,
  isStatus,
  messageOf,
  ok,
  OK,
  statusFromError,
  StatusCode,
  withSource,
} from './status.js';
export type { Result, Status, StatusOptions } from './status.js';
export { column, ColumnType, RESERVED_COLUMNS, TableKind, validateRow, validateSchema, validateTimes } from './schema.js';
export type { Batch, ColumnDef, ColumnOptions, Row, TableSchema, Value } from './schema.js';
export type {
  Cell,
  CollectContext,
  CollectResult,
  JsonSchema,
  Platform,
  PluginDeps,
  PluginManifest,
  Probe,
  ProbeFactory,
  ProbeModule,
  ProbeStartContext,
  QueryRequest,
  QueryResult,
  Recording,
  ReaderDeps,
  ReaderFactory,
  ResultColumn,
  Samples,
  SamplesRequest,
  Sink,
  SinkFactory,
  SinkModule,
  SinkStartContext,
  SinkStats,
  SliceColumn,
  SliceFiles,
  SliceFileWriter,
  SliceLoader,
  SlicePage,
  SlicePart,
  SlicePartKind,
  SlicePlan,
  SlicePlanRequest,
  SliceRequest,
  SliceScope,
  StatesRequest,
  StoredTable,
  StoreInfo,
  StoreReader,
  VersionsRequest,
  WriteResult,
} from './plugin.js';
export { defineProbe, defineSink } from './kit.js';
export type { DefinedProbe, DefinedSink, PlatformFactory, PluginDefinition, PluginIdentity, ProbeDefinition, ProbeImpl, SinkDefinition, SinkImpl } from './kit.js';
export { createSystemClock, holdProcess, sleep } from './clock.js';
export type { Clock, Timer } from './clock.js';
export { createLogger, formatLogRecord, LogLevel } from './logger.js';
export type { LogFields, Logger, LoggerOptions, LogRecord } from './logger.js';
export { createFileReader } from './files.js';
export type { FileReader, FileReaderOptions, HeldFile } from './files.js';
export { createHooks } from './hooks.js';
export type { CollectInfo, Hooks, HooksOptions, TapStats } from './hooks.js';
export { createOptionsValidator, jsonPath, validateOptions } from './options.js';
export type { OptionsValidator } from './options.js';
export { CORE_VERSION } from './version.js';
