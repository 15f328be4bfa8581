/**
 * @virtualeyes/probe-procfs: host identity, CPU, memory, load and processes from Linux
 * /proc and /sys. Exports the manifest and factory the loader looks for, parseConfig for
 * building a probe in code, and the public types.
 */
import type { ProbeFactory } from '@virtualeyes/core';
import type { ProcfsOptions } from './config.js';
import { createProcfsProbe } from './probe.js';

export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig } from './config.js';
export type { ProcfsConfig, ProcfsOptions } from './config.js';
export { manifest } from './manifest.js';
export { Table, TABLES } from './tables.js';
export { classifyHostRead, classifyPidRead, ReadOutcome } from './classify.js';
export type { PidFile } from './classify.js';

/** Creates a procfs probe; options are validated and defaulted, so a partial object is fine. */
export const createProbe: ProbeFactory<ProcfsOptions> = (options, deps) => createProcfsProbe(options, deps, process.platform);
