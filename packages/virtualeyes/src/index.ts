/**
 * @virtualeyes/virtualeyes: the CLI, usable as a library (runCli) and for its pieces:
 * time parsing, output formats, escaping of untrusted text and the daemon client.
 */
export { buildRequest, ExitCode, LONGEST_QUERY_MS, runCli } from './cli.js';
export type { Io } from './cli.js';
export { connect, openOfflineReader } from './client.js';
export { diffJson, diffNotes, diffTables, diffVersions, renderDiff } from './diff.js';
export type { ChangedEntity, ColumnChange, DiffEntity, DiffRequest, DiffResult, PresentEntity, TableDiff } from './diff.js';
export type { Connection } from './client.js';
export { escapeText, hasUnsafeChar, jsonText, truncateText } from './escape.js';
export { cellText, csvField, displayCell, Format, formatBytes, formatDuration, formatResult, renderTable, rowObjects } from './format.js';
export { psRows, PsSort, renderPs } from './ps.js';
export type { PsRequest, PsResult } from './ps.js';
export { notRecorded, recordedSpans } from './recordings.js';
export { parseDuration, parseTime } from './time.js';
export { VERSION } from './version.js';
