/**
 * What this package declares about itself to the loader: name, versions, platforms, the
 * options schema and the tables it produces.
 */
import type { PluginManifest } from '@virtualeyes/core';
import { CONFIG_SCHEMA } from './config.js';
import { TABLES } from './tables.js';

/** The manifest of @virtualeyes/probe-perf. */
export const manifest: PluginManifest = Object.freeze<PluginManifest>({
  kind: 'probe',
  name: 'perf',
  packageName: '@virtualeyes/probe-perf',
  version: '0.1.0',
  coreRange: '^0.1.0',
  platforms: ['linux'],
  description:
    'Counts Linux perf events (context switches, faults, cycles, cache and NUMA misses) per CPU and per selected process through perf_event_open, plus NUMA node statistics.',
  configSchema: CONFIG_SCHEMA,
  tables: TABLES,
});
