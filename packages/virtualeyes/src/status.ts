/**
 * `virtualeyes status`: whether vwatchd runs, what it loaded, what each table and sink has
 * done (rows, skips, failures, rows spilled to disk while a sink is down, drops and why) and how
 * big the store is. Without a daemon it reports what the store file holds. Everything here comes
 * from the daemon or the store (a hostname, a plugin's error message), so the free-standing
 * lines are escaped as the tables are.
 */
import { formatStatus, isOk, type StoreInfo } from '@virtualeyes/core';
import type { DaemonStatus } from '@virtualeyes/protocol';
import type { DropCount, DropReason } from '@virtualeyes/agent';
import { escapeText } from './escape.js';
import { clockText, Format, formatBytes, formatDuration, formatResult, renderTable, zoneText, type TimeDisplay } from './format.js';

/** Renders the daemon's status for people. */
export function renderDaemonStatus(status: DaemonStatus, now: number, display: TimeDisplay = { utc: false }): string {
  const agent = status.agent;
  const lines: string[] = [];
  const uptime = agent.startedAt === null ? 'not started' : `up ${formatDuration(now - agent.startedAt)}`;
  lines.push(escapeText(`vwatchd ${status.version} running (pid ${status.pid}), ${uptime}, host ${agent.host}, config: ${status.configSource}`));
  lines.push(`data dir  ${escapeText(status.dataDir)}`);
  lines.push(`socket    ${escapeText(status.socket)}`);
  if (status.store !== null) lines.push(`store     ${storeLine(status.store, display)}`);
  if (status.memory !== undefined) {
    const { rss, heapUsed, heapTotal } = status.memory;
    lines.push(`memory    ${formatBytes(rss)} resident, JS heap ${formatBytes(heapUsed)} of ${formatBytes(heapTotal)}`);
  }
  lines.push('');
  lines.push(
    renderTable(
      ['PLUGIN', 'KIND', 'PACKAGE', 'STATUS'],
      agent.plugins.map((entry) => [
        entry.name,
        entry.kind,
        entry.version === undefined ? entry.use : `${entry.use}@${entry.version}`,
        isOk(entry.status) ? 'OK' : formatStatus({ ...entry.status, source: undefined, op: undefined }),
      ]),
    ),
  );
  if (agent.tables.length > 0) {
    lines.push('');
    lines.push(
      renderTable(
        ['TABLE', 'PROBE', 'EVERY', 'RUNS', 'ROWS', 'SKIPPED', 'FAILED', 'TIMEOUTS', 'LAST MS', 'AVG MS'],
        agent.tables.map((table) => [
          table.table,
          table.probe,
          formatDuration(table.intervalMs),
          table.runs,
          table.rows,
          table.skipped,
          table.failures,
          table.timeouts,
          table.lastDurationMs === null ? '-' : table.lastDurationMs.toFixed(1),
          table.runs === 0 ? '-' : (table.totalMs / table.runs).toFixed(1),
        ]),
        [false, false, true, true, true, true, true, true, true, true],
      ),
    );
  }
  if (agent.sinks.length > 0) {
    lines.push('');
    lines.push(
      renderTable(
        ['SINK', 'ROWS WRITTEN', 'QUEUED', 'SPILLED ROWS', 'SPILL PENDING', 'DROPPED ROWS', 'RETRIES', 'ON DISK', 'LAST WRITE'],
        agent.sinks.map((sink) => [
          sink.sink,
          sink.writtenRows,
          sink.queuedBatches,
          // Rows this run moved to the spill directory, while the sink was down or at a stop.
          sink.spilledRows ?? 0,
          // Rows in the spill directory waiting to be written (older daemons report no size).
          sink.spillPendingBytes === undefined || sink.spillPendingBytes === 0
            ? (sink.spillPendingRows ?? 0)
            : `${sink.spillPendingRows ?? 0} (${formatBytes(sink.spillPendingBytes)})`,
          sink.droppedRows,
          sink.retries,
          sink.bytesOnDisk === undefined ? '-' : formatBytes(sink.bytesOnDisk),
          formatStatus(sink.lastStatus),
        ]),
        [false, true, true, true, true, true, true, true, false],
      ),
    );
    for (const sink of agent.sinks) {
      const why = dropReasons(sink.droppedBy);
      if (sink.droppedRows > 0 && why !== '') lines.push(escapeText(`dropped   ${sink.sink}: ${sink.droppedRows} rows: ${why}`));
    }
  }
  if (agent.errors.length > 0) {
    lines.push('');
    lines.push(
      renderTable(
        ['SOURCE', 'CODE', 'OP', 'COUNT', `LAST (${zoneText(display, now, true)})`, 'LAST MESSAGE'],
        agent.errors.map((error) => [error.source, error.code, error.op, error.count, clockText(error.lastAt, display, 'datetime'), error.lastMessage]),
        [false, false, false, true, false, false],
      ),
    );
  }
  return lines.join('\n');
}

/** What each drop reason means to someone reading the status. */
const DROP_REASON_TEXT: Readonly<Record<DropReason, string>> = {
  refused: 'refused by the sink',
  memory: 'over the memory limits with spilling off',
  spill: 'spill directory full (oldest first) or failing',
  age: 'on disk longer than buffer.spillMaxAgeMs',
};

/** `1000 spill directory full …, 20 refused by the sink`; empty when the daemon does not split drops by reason. */
function dropReasons(droppedBy: Readonly<Partial<Record<string, DropCount>>> | undefined): string {
  if (droppedBy === undefined) return '';
  return Object.entries(DROP_REASON_TEXT)
    .flatMap(([reason, text]) => {
      const rows = droppedBy[reason]?.rows ?? 0;
      return rows > 0 ? [`${rows} ${text}`] : [];
    })
    .join(', ');
}

/** Renders what an offline store holds, for when no daemon runs. */
export function renderOfflineStatus(socket: string, store: StoreInfo | undefined, display: TimeDisplay = { utc: false }): string {
  const lines = [`vwatchd is not running (no answer on ${escapeText(socket)})`];
  if (store !== undefined) lines.push(`store     ${storeLine(store, display)}`);
  return lines.join('\n');
}

/** The store's path, size, recorded span (local time or UTC, the zone named) and hosts. */
function storeLine(store: StoreInfo, display: TimeDisplay): string {
  const span =
    store.first === null || store.last === null
      ? 'empty'
      : `${clockText(store.first, display, 'datetime')} → ${clockText(store.last, display, 'datetime')} ${zoneText(display, store.last)} (${formatDuration(store.last - store.first)})`;
  const size = store.bytes === undefined ? '' : `, ${formatBytes(store.bytes)}`;
  const hosts = store.hosts.length === 0 ? '' : `, hosts: ${store.hosts.join(', ')}`;
  return escapeText(`${store.path ?? '(no file)'}${size}, ${span}${hosts}`);
}

/** The daemon's per-table counters as CSV, one row per table (what a spreadsheet charts). */
export function daemonStatusCsv(status: DaemonStatus): string {
  const columns = ['table', 'probe', 'interval_ms', 'runs', 'rows', 'skipped', 'failures', 'timeouts', 'last_duration_ms', 'avg_duration_ms'];
  const rows = status.agent.tables.map((table) => [
    table.table,
    table.probe,
    table.intervalMs,
    table.runs,
    table.rows,
    table.skipped,
    table.failures,
    table.timeouts,
    table.lastDurationMs,
    table.runs === 0 ? null : table.totalMs / table.runs,
  ]);
  return formatResult({ columns: columns.map((name) => ({ name, type: 'VARCHAR' })), rows, truncated: false, elapsedMs: 0 }, Format.CSV);
}

/** What a store holds when no daemon runs, as CSV: one row per recording (host, from, to, last write; ISO-8601 UTC). */
export function offlineStatusCsv(info: StoreInfo | undefined): string {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const rows = (info?.recordings ?? []).map((recording) => [recording.host, iso(recording.from), iso(recording.to), iso(recording.lastWrite)]);
  return formatResult({ columns: ['host', 'from', 'to', 'last_write'].map((name) => ({ name, type: 'VARCHAR' })), rows, truncated: false, elapsedMs: 0 }, Format.CSV);
}
