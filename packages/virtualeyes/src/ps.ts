/**
 * `virtualeyes ps`: the process list as it was at an instant. It takes the last
 * process_stats sample at or before the instant (the store's as-of view), the one before
 * it (for CPU%), and the process identity valid at that sample. Command lines are anyone's
 * to choose, so the table shows them escaped (renderTable) and cuts them by escaped width.
 */
import type { Cell, QueryResult } from '@virtualeyes/core';
import { truncateText } from './escape.js';
import { cellText, formatBytes, renderTable, rowObjects } from './format.js';

/** Orders `ps` can sort by. */
export const PsSort = { CPU: 'cpu', RSS: 'rss', PID: 'pid', START: 'start' } as const;

/** One of the {@link PsSort} strings. */
export type PsSort = (typeof PsSort)[keyof typeof PsSort];

const ORDER: Readonly<Record<PsSort, string>> = {
  cpu: 'cpu_pct DESC NULLS LAST, rss DESC NULLS LAST, pid',
  rss: 'rss DESC NULLS LAST, pid',
  pid: 'pid',
  start: 'start_time DESC, pid',
};

/**
 * The SQL behind `ps`, run as of the instant (`at`, with `windowMs` as staleness): the
 * `process_stats` view is then the last sample at or before it, and `history` supplies the
 * sample before that. `windowMs` and `limit` are numbers the CLI computed, never user text.
 * CPU% is the CPU time between the two samples over their wall-time distance (100 = one
 * CPU); for a process with no earlier sample, its average since it started.
 */
export function psSql(windowMs: number, sort: PsSort, limit?: number): string {
  return `
WITH cur AS (SELECT * FROM process_stats),
prev AS (
  SELECT s.host, max(s.ts) AS ts
  FROM history.process_stats s JOIN (SELECT DISTINCT host, ts FROM cur) c ON s.host = c.host
  WHERE s.ts < c.ts AND s.ts > c.ts - to_milliseconds(${Math.trunc(windowMs)}) GROUP BY s.host
), rows AS (
  SELECT c.host, c.pid, p.user,
    round(CASE
      WHEN b.pid IS NOT NULL AND c.ts > b.ts
        THEN 100.0 * ((c.utime + c.stime) - (b.utime + b.stime)) / (epoch_ms(c.ts) - epoch_ms(b.ts))
      WHEN c.ts > c.start_time
        THEN 100.0 * (c.utime + c.stime) / (epoch_ms(c.ts) - epoch_ms(c.start_time))
    END, 1) AS cpu_pct,
    c.rss, c.vsize, c.threads, p.state, c.start_time, p.ppid, p.comm, p.cmdline, c.ts AS sampled_at
  FROM cur c
  LEFT JOIN prev pv ON pv.host = c.host
  LEFT JOIN history.process_stats b
    ON b.host = c.host AND b.ts = pv.ts AND b.pid = c.pid AND b.start_time = c.start_time
  LEFT JOIN history.processes p
    ON p.host = c.host AND p.pid = c.pid AND p.start_time = c.start_time
    AND p.valid_from <= c.ts AND (p.valid_to IS NULL OR p.valid_to > c.ts)
)
SELECT * FROM rows ORDER BY ${ORDER[sort]}${limit === undefined ? '' : ` LIMIT ${Math.trunc(limit)}`}`;
}

/** Renders the `ps` table: PID USER %CPU RSS VSZ THR S STARTED COMMAND, the command at most `commandWidth` characters as shown. */
export function renderPs(result: QueryResult, commandWidth = 120): string {
  const rows = rowObjects(result);
  const hosts = new Set(rows.map((row) => row['host']));
  const headers = [...(hosts.size > 1 ? ['HOST'] : []), 'PID', 'USER', '%CPU', 'RSS', 'VSZ', 'THR', 'S', 'STARTED', 'COMMAND'];
  const body: Cell[][] = rows.map((row) => {
    const cmdline = cellText(row['cmdline'] ?? null);
    const command = cmdline === '' ? `[${cellText(row['comm'] ?? null)}]` : cmdline;
    const cpu = row['cpu_pct'];
    return [
      ...(hosts.size > 1 ? [row['host'] ?? null] : []),
      row['pid'] ?? null,
      row['user'] ?? null,
      typeof cpu === 'number' ? cpu.toFixed(1) : '-',
      typeof row['rss'] === 'number' ? formatBytes(row['rss']) : '-',
      typeof row['vsize'] === 'number' ? formatBytes(row['vsize']) : '-',
      row['threads'] ?? null,
      row['state'] ?? null,
      startedText(row['start_time'] ?? null),
      truncateText(command, commandWidth),
    ];
  });
  const numeric = headers.map((header) => ['PID', '%CPU', 'RSS', 'VSZ', 'THR'].includes(header));
  return renderTable(headers, body, numeric);
}

function startedText(cell: Cell): string {
  if (typeof cell !== 'string') return '';
  // ISO time in UTC; show the time of day when it is today, else the date.
  const iso = cell.replace(' ', 'T');
  return iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? iso.slice(11, 19) : iso.slice(0, 10);
}
