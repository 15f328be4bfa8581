// `vwatchd --print-config` as a user runs it (the built launcher): the effective config, with
// each plugin's options after validation (every default filled in) and a probe's interval per
// table (configured, else the table's default), and exit 2 with the file and the JSON path when
// a plugin's options are refused, as a start would be. Needs `npx tsc -b` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VWATCHD } from './helpers.js';

interface Plugin {
  use: string;
  name: string;
  version?: string;
  options?: Record<string, unknown>;
  intervals?: Record<string, number>;
  error?: { code: string; message: string };
}

describe('vwatchd --print-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 've-print-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const print = (settings: object): { status: number | null; config: { source: string; probes: Plugin[]; sinks: Plugin[]; buffer: object }; stderr: string } => {
    const file = join(dir, 'vwatchd.conf');
    writeFileSync(file, JSON.stringify(settings));
    const result = spawnSync(process.execPath, [VWATCHD, '--config', file, '--data-dir', dir, '--print-config'], { encoding: 'utf8', timeout: 30_000 });
    return { status: result.status, config: JSON.parse(result.stdout) as never, stderr: result.stderr };
  };

  it("prints each plugin's defaulted options and every table's interval", () => {
    const { status, config, stderr } = print({ probes: [{ use: '@virtualeyes/probe-procfs', intervals: { processes: 2000, vmstat: 0 } }] });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(config.source).toBe(join(dir, 'vwatchd.conf'));
    const [procfs] = config.probes;
    expect(procfs).toMatchObject({ use: '@virtualeyes/probe-procfs', name: 'procfs', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    // Defaults the user did not write.
    expect(procfs!.options).toMatchObject({ readIo: true, processEvents: false, maxCmdlineChars: 4096 });
    // Configured, turned off, and defaulted intervals.
    expect(procfs!.intervals).toMatchObject({ processes: 2000, vmstat: 0, cpu: 1000, process_stats: 5000 });
    // The default sink, with its defaults.
    expect(config.sinks[0]).toMatchObject({ use: '@virtualeyes/sink-duckdb', options: { memoryLimit: '64MB' } });
    expect(config.buffer).toMatchObject({ writeWindowMs: 5000 });
  });

  it('exits 2 naming the file and the path of an option that is refused, and says why a plugin is missing', () => {
    const refused = print({ probes: [{ use: '@virtualeyes/probe-procfs', options: { maxCmdlineChars: 'lots' } }] });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^vwatchd: ${join(dir, 'vwatchd.conf').replace(/[.]/g, '\\.')}: .*\\$\\.probes\\[0\\]\\.options\\.maxCmdlineChars`));
    expect(refused.config.probes[0]!.error!.code).toBe('INVALID_CONFIG');
    const missing = print({ probes: [{ use: '@virtualeyes/probe-nosuch' }] });
    expect(missing.status).toBe(0);
    expect(missing.config.probes[0]).toMatchObject({ use: '@virtualeyes/probe-nosuch', error: { code: 'NOT_FOUND' } });
  });
});
