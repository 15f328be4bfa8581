// `virtualeyes history PID` over a real recording: the daemon records processes, process_stats
// and the kernel's process events every second while a child grows to 200 MiB resident, holds
// it, and exits with code 7. The history shows the rise (in the JSON series and as a rising
// sparkline) and the exit code, from process_events. Needs `npx tsc -b` first, and root for the
// process-events connector (CI runs as root; elsewhere the test skips).
import { execFile, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startWith, VIRTUALEYES, type TestDaemon } from './helpers.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') throw new Error('the history test needs root in CI (for the process-events connector)');

/** Grows by 20 MiB every 200 ms to 200 MiB (touching every page), holds it 2 s, exits 7. */
const GROWER = `
import time, sys
blocks = []
for _ in range(10):
    blocks.append(bytearray(20 * 1024 * 1024))
    time.sleep(0.2)
time.sleep(2)
sys.exit(7)
`;

function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIRTUALEYES, ...args], { timeout: 30_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

interface History {
  pid: number;
  end: { exit_code: number | null; signal: number | null; recorded: boolean } | null;
  series: { ts: string; rss: number | null }[];
  versions: { cmdline: string }[];
}

describe.skipIf(process.platform !== 'linux' || !isRoot)('virtualeyes history of a process', () => {
  let daemon: TestDaemon;
  let pid = 0;
  let exitCode: number | null = null;

  beforeAll(async () => {
    daemon = await startWith('ve-history-', {
      probes: [{ use: '@virtualeyes/probe-procfs', options: { processEvents: true }, intervals: { processes: 1000, process_stats: 1000, process_events: 1000 } }],
      buffer: { writeWindowMs: 0 },
    });
    await sleep(1500);
    const child = spawn('python3', ['-c', GROWER, 've-history-grower'], { stdio: 'ignore' });
    pid = child.pid!;
    exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The exit's collection, then its write.
    await sleep(2500);
  }, 60_000);

  afterAll(async () => {
    await daemon.stop();
  });

  it('shows the rise to 200 MiB and the exit code 7, as JSON and as charts', async () => {
    expect(exitCode).toBe(7);
    const args = ['--config', daemon.config, '--data-dir', daemon.dataDir, 'history', String(pid), '--from', '1m ago'];
    const json = await run([...args, '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const histories = JSON.parse(json.stdout) as History[];
    expect(histories).toHaveLength(1);
    const [history] = histories as [History];
    expect(history.versions[0]!.cmdline).toContain('ve-history-grower');
    expect(history.end).toEqual({ at: expect.stringMatching(/Z$/), exit_code: 7, signal: null, recorded: true });
    const rss = history.series.map((point) => point.rss ?? 0);
    const most = Math.max(...rss);
    expect(most).toBeGreaterThanOrEqual(200 * 1024 * 1024);
    // The rise: it started far below what it reached.
    expect(rss[0]!).toBeLessThan(most / 2);
    expect(rss.indexOf(most)).toBeGreaterThan(0);

    const table = await run([...args, '--utc']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^pid ${pid} \\(python3\\) on \\S+, started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} UTC`));
    expect(table.stdout).toMatch(/exited \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: exit code 7/);
    const spark = /^ {2}RSS +([▁▂▃▄▅▆▇█ ]+) {2}max (\S+ \S+)/m.exec(table.stdout);
    expect(spark, table.stdout).not.toBeNull();
    const bars = [...spark![1]!.trim()];
    // Lowest bar first, the highest later.
    expect('▁▂▃▄'.includes(bars[0]!)).toBe(true);
    expect(bars).toContain('█');
    expect(spark![2]).toMatch(/^2\d\d MiB,$/);
    const csv = await run([...args, '--format', 'csv']);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('host,pid,start_time,ts,cpu_pct,rss,read_bytes_rate,write_bytes_rate');
    expect(lines.length - 1).toBe(history.series.length);
  }, 60_000);

  it('refuses a pid that is not a number, and says when nothing had the pid', async () => {
    const bad = await run(['--data-dir', daemon.dataDir, 'history', '12x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^virtualeyes: the pid must be a whole number, got '12x'/);
    const none = await run(['--data-dir', daemon.dataDir, 'history', '999999999', '--from', '1m ago']);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no process with pid 999999999 was recorded/);
  });
});
