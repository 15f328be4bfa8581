/**
 * @virtualeyes/sink-duckdb: the embedded default store. Every declared table becomes a DuckDB
 * table in one file (state tables as validity intervals), queried with read-only SQL as of
 * any instant or over any range. Defines the sink with core's plugin kit (manifest, createSink
 * and createReader for the loader and the CLI).
 */
import { defineSink, type SliceFiles } from '@virtualeyes/core';
import { CONFIG_SCHEMA, STORE_NAME, type DuckDbConfig } from './config.js';
import { identity } from './identity.js';
import { createReader } from './reader.js';
import { createStoreSink } from './sink.js';
import { createParquetWriter, createSliceLoader } from './slice.js';

export { createReader } from './reader.js';
export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig, storePath } from './config.js';
export type { DuckDbConfig } from './config.js';
export { classifyDuckDbError } from './errors.js';
export { ONLY_SELECT } from './query.js';
export { checkQuery, NO_PARAMETERS } from './allow-list.js';
export { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, REFUSED_FUNCTIONS } from './functions.js';
export { createParquetWriter, createSliceLoader, isoMicros, parseIsoMicros, SlicePartName } from './slice.js';

/** Slice files for tools, found by name as the module's `sliceFiles`: Parquet files of a slice's parts, and a new store loaded with a slice. */
export const sliceFiles: SliceFiles<DuckDbConfig> = { createParquetWriter, createLoader: createSliceLoader };

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
