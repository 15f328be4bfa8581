// `status` for people: every string in it comes from the daemon (a host name, a plugin's
// error message, a store path), so a hostile one must show escaped in the lines and tables.
import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '@virtualeyes/protocol';
import { renderDaemonStatus, renderOfflineStatus } from '../src/status.js';

const NOW = Date.parse('2026-11-22T05:00:00Z');
const EVIL = '\x1b]0;PWNED\x07\x9b2J\u202e';
const SHOWN = '\\e]0;PWNED\\x07\\u009b2J\\u202e';
const FORBIDDEN_IN_LINES = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/;

const failing = { code: 'UNAVAILABLE', message: `disk ${EVIL} gone`, retryable: true } as const;
/** Only the fields renderDaemonStatus reads; counters other helpers add do not matter here. */
const status = {
  version: '0.1.0',
  pid: 42,
  configSource: `/etc/${EVIL}.conf`,
  dataDir: `/var/lib/${EVIL}`,
  socket: `/run/${EVIL}.sock`,
  store: { path: `/var/lib/${EVIL}/vwatchd.db`, bytes: 2048, first: NOW - 60_000, last: NOW, hosts: [`host${EVIL}`] },
  agent: {
    host: `host${EVIL}`,
    coreVersion: '0.1.0',
    startedAt: NOW - 65_000,
    plugins: [{ kind: 'probe', name: `p${EVIL}`, use: `@evil/${EVIL}`, version: '1.0.0', status: failing, ms: 3 }],
    tables: [{ probe: `p${EVIL}`, table: `t${EVIL}`, intervalMs: 5000, runs: 2, failures: 0, timeouts: 0, skipped: 0, rows: 10, lastDurationMs: 1.5, totalMs: 3, lastRunAt: NOW, nextDueAt: NOW, consecutiveFailures: 0 }],
    sinks: [{ sink: `s${EVIL}`, queuedBatches: 0, writtenRows: 10, droppedRows: 0, retries: 0, lastStatus: failing, rowsWritten: 10 }],
    errors: [{ source: `p${EVIL}`, code: 'UNAVAILABLE', op: `read ${EVIL}`, count: 3, lastMessage: `no ${EVIL}`, lastAt: NOW }],
    taps: [],
  },
} as unknown as DaemonStatus;

describe('status for people', () => {
  it('escapes every daemon-supplied string in its lines and tables', () => {
    const text = renderDaemonStatus(status, NOW);
    expect(text).not.toMatch(FORBIDDEN_IN_LINES);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`vwatchd 0.1.0 running (pid 42), up 1m 5s, host host${SHOWN}, config: /etc/${SHOWN}.conf`);
    expect(lines.slice(1, 4)).toEqual([`data dir  /var/lib/${SHOWN}`, `socket    /run/${SHOWN}.sock`, expect.stringContaining(`hosts: host${SHOWN}`) as string]);
    for (const shown of [`p${SHOWN}`, `@evil/${SHOWN}@1.0.0`, `disk ${SHOWN} gone`, `t${SHOWN}`, `s${SHOWN}`, `read ${SHOWN}`, `no ${SHOWN}`]) {
      expect(text).toContain(shown);
    }
  });

  it('escapes the offline status too', () => {
    const text = renderOfflineStatus(`/run/${EVIL}.sock`, status.store!);
    expect(text.split('\n')[0]).toBe(`vwatchd is not running (no answer on /run/${SHOWN}.sock)`);
    expect(text).not.toMatch(FORBIDDEN_IN_LINES);
  });

  it('shows per sink the rows spilled, pending on disk and dropped, and why they were dropped', () => {
    const sinks = [
      {
        sink: 'duckdb',
        queuedBatches: 3,
        writtenRows: 500,
        droppedRows: 1250,
        retries: 17,
        lastStatus: failing,
        rowsWritten: 500,
        spilledRows: 9000,
        spillPendingRows: 7000,
        spillPendingBytes: 3 * 1024 * 1024,
        droppedBy: { refused: { batches: 1, rows: 50 }, memory: { batches: 0, rows: 0 }, spill: { batches: 4, rows: 1000 }, age: { batches: 2, rows: 200 } },
      },
      // An older daemon: no spill or drop breakdown in its status.
      { sink: 'old', queuedBatches: 0, writtenRows: 10, droppedRows: 0, retries: 0, lastStatus: { code: 'OK', message: '', retryable: false }, rowsWritten: 10 },
    ];
    const text = renderDaemonStatus({ ...status, agent: { ...status.agent, sinks } } as unknown as DaemonStatus, NOW);
    const lines = text.split('\n');
    const header = lines.findIndex((line) => line.startsWith('SINK'));
    expect(lines[header]!.split(/\s{2,}/)).toEqual(['SINK', 'ROWS WRITTEN', 'QUEUED', 'SPILLED ROWS', 'SPILL PENDING', 'DROPPED ROWS', 'RETRIES', 'ON DISK', 'LAST WRITE']);
    expect(lines[header + 1]!.split(/\s{2,}/).slice(0, 8)).toEqual(['duckdb', '500', '3', '9000', '7000 (3.0 MiB)', '1250', '17', '-']);
    expect(lines[header + 2]!.split(/\s{2,}/).slice(0, 8)).toEqual(['old', '10', '0', '0', '0', '0', '0', '-']);
    expect(lines).toContain('dropped   duckdb: 1250 rows: 50 refused by the sink, 1000 spill directory full (oldest first) or failing, 200 on disk longer than buffer.spillMaxAgeMs');
    expect(lines.filter((line) => line.startsWith('dropped '))).toHaveLength(1);
  });
});
