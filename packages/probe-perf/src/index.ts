/**
 * @virtualeyes/probe-perf: perf_event_open counters per CPU and per selected process, and
 * NUMA node statistics, on Linux. Exports the manifest and factory the loader looks for,
 * parseConfig for building a probe in code, the event catalogue and the public types.
 */
import type { ProbeFactory } from '@virtualeyes/core';
import type { PerfOptions } from './config.js';
import { createPerfProbe } from './probe.js';

export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig } from './config.js';
export type { PerfConfig, PerfOptions, ProcessSelection } from './config.js';
export { manifest } from './manifest.js';
export { Table, TABLES } from './tables.js';
export { DEFAULT_EVENTS, EVENTS, findEvent, groupEvents, resolveEvents } from './events.js';
export type { EventDef } from './events.js';
export { classifyPerfError } from './classify.js';
export type { PerfErrorContext, PerfOp, Scope } from './classify.js';

/** Creates a perf probe; options are validated and defaulted, so a partial object is fine. */
export const createProbe: ProbeFactory<PerfOptions> = (options, deps) => createPerfProbe(options, deps, process.platform);
