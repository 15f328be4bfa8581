/**
 * @virtualeyes/core: the contracts probes and sinks implement (manifest, factory, Status),
 * and the machinery that runs them (loader, scheduler, buffers, hooks, createAgent).
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
export { column, ColumnType, RESERVED_COLUMNS, TableKind, validateRow, validateSchema } from './schema.js';
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
  ReaderDeps,
  ReaderFactory,
  ResultColumn,
  Sink,
  SinkFactory,
  SinkModule,
  SinkStartContext,
  SinkStats,
  StoredTable,
  StoreInfo,
  StoreReader,
  WriteResult,
} from './plugin.js';
export { defineProbe, defineSink } from './kit.js';
export type { DefinedProbe, DefinedSink, PlatformFactory, PluginDefinition, PluginIdentity, ProbeDefinition, ProbeImpl, SinkDefinition, SinkImpl } from './kit.js';
export { createSystemClock, holdProcess, sleep } from './clock.js';
export type { Clock, Timer } from './clock.js';
export { createLogger, formatLogRecord, LogLevel } from './logger.js';
export type { LogFields, Logger, LoggerOptions, LogRecord } from './logger.js';
export { createFileReader } from './files.js';
export type { FileReader, FileReaderOptions } from './files.js';
export { createHooks } from './hooks.js';
export type { CollectInfo, Hooks, HooksOptions, TapStats } from './hooks.js';
export { createOptionsValidator, jsonPath, validateOptions } from './options.js';
export type { OptionsValidator } from './options.js';
export { AGENT_CONFIG_SCHEMA, DEFAULT_BUFFER, DEFAULT_SCHEDULER, defaultDataDir, resolveRoots, ROOTS } from './config.js';
export type { AgentConfig, BufferConfig, PluginSpec, ResolvedRoot, RootName, RootsConfig, SchedulerConfig } from './config.js';
export { createScheduler } from './scheduler.js';
export type { RunCollection, RunOutcome, ScheduledTable, Scheduler, SchedulerOptions, TableSchedule } from './scheduler.js';
export { createSinkBuffer, DropReason, estimateBytes, SPILL_PIECE_BYTES } from './buffer.js';
export type { BufferStats, DropCount, SinkBuffer, SinkBufferOptions } from './buffer.js';
export { createSpillStore, decodeSpill, encodeSpill, SPILL_DIR_MODE, SPILL_FILE_MODE } from './spill.js';
export type { SpillFile, SpillStore, SpillStoreOptions, SpillWrite } from './spill.js';
export { formatBootTree, importPlugin, loadPlugins } from './loader.js';
export type { BootEntry, LoadedProbe, LoadedSink, LoadReport, LoaderOptions } from './loader.js';
export { createAgent } from './agent.js';
export type { Agent, AgentOptions, AgentStatus, RejectedRows, StatusBoard, StatusCount, StopReport } from './agent.js';
export {
  DEFAULT_CONFIG_PATH,
  DEFAULT_PROBES,
  DEFAULT_SINKS,
  HOST_CONFIG_SCHEMA,
  loadHostConfig,
  SOCKET_NAME,
} from './host-config.js';
export type { ApiConfig, ConfigOverrides, HostConfig } from './host-config.js';
export { ApiRoute, httpStatusOf, QUERY_REQUEST_SCHEMA } from './api.js';
export type { DaemonMemory, DaemonStatus } from './api.js';
export { CORE_VERSION } from './version.js';
