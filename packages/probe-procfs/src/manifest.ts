/**
 * What this package declares about itself to the loader: name, versions, platforms, the
 * options schema and the tables it produces.
 */
import type { PluginManifest } from '@virtualeyes/core';
import { CONFIG_SCHEMA } from './config.js';
import { TABLES } from './tables.js';

/** The manifest of @virtualeyes/probe-procfs. */
export const manifest: PluginManifest = Object.freeze<PluginManifest>({
  kind: 'probe',
  name: 'procfs',
  packageName: '@virtualeyes/probe-procfs',
  version: '0.1.0',
  coreRange: '^0.1.0',
  platforms: ['linux'],
  description: 'Reads Linux /proc and /sys: host identity, CPU times, memory, load, and every process with its resource use.',
  configSchema: CONFIG_SCHEMA,
  tables: TABLES,
});
