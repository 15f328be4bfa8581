/**
 * @virtualeyes/probe-procfs: host identity, CPU, memory, load and processes from Linux
 * /proc and /sys. Defines the probe with core's plugin kit (manifest and createProbe for the
 * loader), and exports parseConfig for building a probe in code, and the public types.
 */
import { defineProbe } from '@virtualeyes/core';
import { CONFIG_SCHEMA, type ProcfsConfig } from './config.js';
import { identity } from './identity.js';
import { linux } from './platform/linux.js';
import { TABLES } from './tables.js';

export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig } from './config.js';
export type { ProcfsConfig, ProcfsOptions } from './config.js';
export { CORE_TABLES, Table, TABLES } from './tables.js';
export { classifyHostRead, classifyPidRead, ReadOutcome } from './classify.js';
export type { PidFile } from './classify.js';

/**
 * The manifest the loader reads, and createProbe, which takes options already validated and
 * defaulted (the loader does it with the schema; code passes them through parseConfig).
 */
export const { manifest, createProbe } = defineProbe<ProcfsConfig>({
  identity,
  name: 'procfs',
  description: 'Reads Linux /proc and /sys: host identity, CPU times, memory, load, and every process with its resource use.',
  configSchema: CONFIG_SCHEMA,
  tables: TABLES,
  platforms: { linux },
  unsupported: (platform) =>
    `procfs reads Linux's /proc and /sys and cannot run on ${platform}; a probe for that platform's own interfaces (kstat on illumos, sysctl on BSD) would be needed`,
});
