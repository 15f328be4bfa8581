/**
 * @virtualeyes/virtualeyes: the CLI, usable as a library (runCli) and for its pieces:
 * time parsing, output formats and the daemon client.
 */
export { buildRequest, ExitCode, runCli } from './cli.js';
export type { Io } from './cli.js';
export { callDaemon, connect, daemonBackend, offlineBackend, openOfflineReader } from './client.js';
export type { Backend } from './client.js';
export { csvField, Format, formatBytes, formatDuration, formatResult, renderTable, rowObjects } from './format.js';
export { psSql, PsSort, renderPs } from './ps.js';
export { parseDuration, parseTime } from './time.js';
export { VERSION } from './version.js';
