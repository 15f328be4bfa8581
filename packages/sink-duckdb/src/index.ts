/**
 * @virtualeyes/sink-duckdb: the embedded default store. Every declared table becomes a DuckDB
 * table in one file (state tables as validity intervals), queried with read-only SQL as of
 * any instant or over any range. Defines the sink with core's plugin kit (manifest, createSink
 * and createReader for the loader and the CLI).
 */
import { defineSink } from '@virtualeyes/core';
import { CONFIG_SCHEMA, STORE_NAME, type DuckDbConfig } from './config.js';
import { identity } from './identity.js';
import { createReader } from './reader.js';
import { createStoreSink } from './sink.js';

export { createReader } from './reader.js';
export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig, storePath } from './config.js';
export type { DuckDbConfig } from './config.js';
export { classifyDuckDbError } from './errors.js';
export { ONLY_SELECT } from './query.js';
export { checkQuery, NO_PARAMETERS } from './allow-list.js';
export { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, REFUSED_FUNCTIONS } from './functions.js';

/**
 * The manifest the loader reads, and createSink, which takes options already validated and
 * defaulted (the loader does it with the schema; code passes them through parseConfig).
 */
export const { manifest, createSink } = defineSink<DuckDbConfig>({
  identity,
  name: STORE_NAME,
  description: 'Stores every table in an embedded DuckDB file, with state versions and time-travel SQL.',
  configSchema: CONFIG_SCHEMA,
  platforms: { any: createStoreSink },
  createReader,
});
