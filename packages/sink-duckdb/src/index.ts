/**
 * @virtualeyes/sink-duckdb: the embedded default store. Every declared table becomes a DuckDB
 * table in one file (state tables as validity intervals), queried with read-only SQL as of
 * any instant or over any range.
 */
export { manifest } from './manifest.js';
export { createSink } from './sink.js';
export { createReader } from './reader.js';
export { CONFIG_SCHEMA, DEFAULT_CONFIG, parseConfig, storePath } from './config.js';
export type { DuckDbConfig } from './config.js';
export { classifyDuckDbError } from './errors.js';
export { ONLY_SELECT } from './query.js';
export { checkQuery, NO_PARAMETERS } from './allow-list.js';
export { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, REFUSED_FUNCTIONS } from './functions.js';
