// `virtualeyes history PID` over the worked questions' real recording (fixtures/questions):
// ve-q-exec (pid 36) exec'd `sleep 45` after 8 s, so it has two versions; the recording has no
// process_events, so its end is when a scan found it gone, with the exit code unknown. The
// sparkline's scaling is checked on its own. The daemon's test records an exit code.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { sparkline } from '../src/history.js';

describe('history', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-history-'));
  copyFileSync(new URL('./fixtures/questions/vwatchd.db', import.meta.url), join(dir, 'vwatchd.db'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let [out, err] = ['', ''];
    const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, 'history', ...args], { out: (text) => (out += text), err: (text) => (err += text), now: () => Date.parse('2026-12-02T05:00:00Z') });
    return { code, out, err };
  };

  it('shows both versions of a process that exec’d, when it was gone, and its series', async () => {
    const { code, out, err } = await cli('36', '--from', '2026-12-02T04:14:00Z', '--to', '2026-12-02T04:18:00Z', '--utc');
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('pid 36 (sleep) on vm, started 2026-12-02 04:15:19.540 UTC');
    expect(lines[1]).toMatch(/^ {2}gone by 2026-12-02 04:16:1\d\.\d{3}: exit code unknown \(process_events is not recorded/);
    expect(lines.some((line) => / root +1 +python3 -c import os,time;time.sleep\(8\)/.test(line))).toBe(true);
    expect(lines.some((line) => / root +1 +sleep 45$/.test(line))).toBe(true);
    // python3's 8 MiB, then sleep's 1.8 MiB after the exec.
    expect(out).toMatch(/ {2}RSS +█+▃+ {2}max 8\.0 MiB, last 1\.8 MiB/);
  });

  it('gives the series as JSON and CSV, one point per second of its life', async () => {
    const json = JSON.parse((await cli('37', '--from', '2026-12-02T04:14:00Z', '--to', '2026-12-02T04:18:00Z', '--json')).out) as {
      end: { recorded: boolean; exit_code: null };
      series: { ts: string; write_bytes_rate: number | null }[];
    }[];
    expect(json).toHaveLength(1);
    expect(json[0]!.end).toMatchObject({ recorded: false, exit_code: null });
    // ve-q-writer wrote its 64 MiB within about a second.
    const written = json[0]!.series.reduce((sum, point) => sum + (point.write_bytes_rate ?? 0), 0);
    expect(written).toBeGreaterThan(60 * 1024 * 1024);
    expect(json[0]!.series.every((point) => /Z$/.test(point.ts))).toBe(true);
    const csv = (await cli('37', '--from', '2026-12-02T04:14:00Z', '--to', '2026-12-02T04:18:00Z', '--format', 'csv')).out.trim().split('\r\n');
    expect(csv).toHaveLength(1 + json[0]!.series.length);
  });

  it('refuses a pid that is not a whole number and a range that ends before it starts', async () => {
    expect((await cli('-1')).code).toBe(2);
    expect((await cli('1e3')).err).toMatch(/the pid must be a whole number/);
    expect((await cli('36', '--from', 'now', '--to', '1h ago')).code).toBe(2);
  });

  it('scales a sparkline from zero to the largest value, a bar per share of the points', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([0, 0, 0], 10)).toBe('▁▁▁');
    expect(sparkline([1, null, 8], 3)).toBe('▂ █');
    // Ten points in five bars: each bar the largest of its two.
    expect(sparkline([0, 7, 0, 0, 0, 0, 0, 0, 0, 7], 5)).toBe('█▁▁▁█');
    expect(sparkline([], 5)).toBe('');
  });
});
