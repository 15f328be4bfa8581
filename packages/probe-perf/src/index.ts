/**
 * @virtualeyes/probe-perf: perf_event_open counters per CPU and per selected process, and
 * NUMA node statistics, on Linux. Exports the manifest and factory the loader looks for,
 * parseConfig for building a probe in code, the event catalogue and the public types.
 */
import { defineProbe } from '@virtualeyes/core';
import { createPerfDefinition } from './definition.js';

export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig } from './config.js';
export type { PerfConfig, PerfOptions, ProcessSelection } from './config.js';
export { Table, TABLES } from './tables.js';
export { DEFAULT_EVENTS, EVENTS, findEvent, groupEvents, resolveEvents } from './events.js';
export type { EventDef } from './events.js';
export { classifyPerfError } from './classify.js';
export type { PerfErrorContext, PerfOp, Scope } from './classify.js';

/** The manifest and the factory the loader looks for; createProbe takes options validated and defaulted by the schema (parseConfig does that in code). */
export const { manifest, createProbe } = defineProbe(createPerfDefinition());
