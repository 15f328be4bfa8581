/**
 * What the DuckDB store declares about itself to the loader: a sink for any platform,
 * with its option schema. Sinks produce no tables of their own.
 */
import type { PluginManifest } from '@virtualeyes/core';
import { CONFIG_SCHEMA } from './config.js';

/** Instance and Status source name of the store. */
export const SINK_NAME = 'duckdb';

/** The package's manifest. */
export const manifest: PluginManifest = Object.freeze({
  kind: 'sink',
  name: SINK_NAME,
  packageName: '@virtualeyes/sink-duckdb',
  version: '0.1.0',
  coreRange: '^0.1.0',
  platforms: 'any',
  description: 'Stores every table in an embedded DuckDB file, with state versions and time-travel SQL.',
  configSchema: CONFIG_SCHEMA,
  tables: [],
});
