/**
 * @virtualeyes/agent: the runtime that runs plugins. The loader (import by name, core range,
 * platform, options validated once), the scheduler, the collect-then-write pipeline (rows
 * validated once, rejects counted against the probe that made them), per-sink buffers that
 * spill to disk, the status board, and createAgent(), the composition root (awilix).
 */
export { AGENT_CONFIG_SCHEMA, DEFAULT_BUFFER, DEFAULT_SCHEDULER, defaultDataDir, resolveRoots, ROOTS } from './config.js';
export type { AgentConfig, BufferConfig, PluginSpec, ResolvedRoot, RootName, RootsConfig, SchedulerConfig } from './config.js';
export { createScheduler } from './scheduler.js';
export type { RunCollection, RunOutcome, ScheduledTable, Scheduler, SchedulerOptions, TableSchedule } from './scheduler.js';
export { createSinkBuffer, DropReason, estimateBytes, SPILL_PIECE_BYTES } from './buffer.js';
export type { BufferStats, DropCount, SinkBuffer, SinkBufferOptions } from './buffer.js';
export { createSpillStore, decodeSpill, encodeSpill, SPILL_DIR_MODE, SPILL_FILE_MODE } from './spill.js';
export type { SpillFile, SpillStore, SpillStoreOptions, SpillWrite } from './spill.js';
export { effectivePlugins, formatBootTree, importPlugin, loadPlugins, openStoreReader } from './loader.js';
export type { BootEntry, CheckOptions, EffectivePlugin, LoadedProbe, LoadedSink, LoadReport, LoaderOptions, ReaderLoaderOptions } from './loader.js';
export { createAgent } from './agent.js';
export type { Agent, AgentOptions, AgentStatus, RejectedRows, StatusBoard, StatusCount, StopReport } from './agent.js';
