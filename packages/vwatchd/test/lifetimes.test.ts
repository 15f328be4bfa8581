// Process events in the daemon, end to end. First a churn of at least 200 short processes a second
// for 30 s: the daemon stays up, logs no error and records the exits. Then exact lifetimes: the
// real daemon with process events on records the
// processes table every second while 50 children, one every 200 ms, each live about 100 ms, so
// most live and die between two scans. The store then holds each child in process_events with
// its exit code, and in processes as a version from its fork to its exit: bracketing the child's
// own first and last wall-clock stamps, no longer than the test saw it live, within 20 ms.
// Needs root (the process-events connector) and `npx tsc -b` first.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startWith, VIRTUALEYES, type TestDaemon } from './helpers.js';

const IS_ROOT = process.platform === 'linux' && process.geteuid?.() === 0;
const CHILDREN = 50;
const TOLERANCE_MS = 20;
const CHURN_PER_SECOND = 200;
const CHURN_SECONDS = 30;

/** The kernel's fork counter (`processes` in /proc/stat). */
function forksSinceBoot(): number {
  return Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
}

function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIRTUALEYES, ...args], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/**
 * Runs one child; resolves with its pid, exit code, the two wall-clock stamps (ms) it printed
 * (its life is longer) and how long this process saw it live, from before spawn() to its exit
 * event (its life is shorter).
 */
function child(code: number): Promise<{ pid: number; code: number | null; first: number; last: number; outerMs: number }> {
  return new Promise((resolve) => {
    const before = performance.now();
    const started = spawn('sh', ['-c', `date +%s%N; sleep 0.1; date +%s%N; exit ${code}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let outerMs = Number.NaN;
    started.once('exit', () => (outerMs = performance.now() - before));
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    started.once('close', (exitCode) => {
      const [first, last] = out.trim().split('\n').map((line) => Number(BigInt(line) / 1000n) / 1000);
      resolve({ pid: started.pid!, code: exitCode, first: first!, last: last!, outerMs });
    });
  });
}

describe.skipIf(!IS_ROOT)(`processes lifetimes from process events${IS_ROOT ? '' : ' (skipped: the process-events connector needs root here)'}`, () => {
  let daemon: TestDaemon;
  let config = '';
  let dataDir = '';
  const stderr = (): string => daemon.stderr();

  beforeAll(async () => {
    daemon = await startWith('ve-lifetimes-', {
      probes: [{ use: '@virtualeyes/probe-procfs', options: { processEvents: true }, intervals: { processes: 1000, process_stats: 1000, process_events: 1000 } }],
      buffer: { writeWindowMs: 0 },
    });
    ({ config, dataDir } = daemon);
    // Two scans in, so the children are born after the events and the scans run.
    await sleep(2500);
  }, 40_000);

  afterAll(async () => {
    await daemon.stop();
  });

  it(`stays up through a churn of at least ${CHURN_PER_SECOND} short processes a second for ${CHURN_SECONDS} s, with no error logged`, async () => {
    expect(stderr()).toContain('Recording into');
    const forksBefore = forksSinceBoot();
    // Each loop starts three processes (two true, one sleep) about every 12 ms.
    const loops = Array.from({ length: 3 }, () => spawn('sh', ['-c', 'while :; do /bin/true; /bin/true; sleep 0.01; done'], { stdio: 'ignore' }));
    await sleep(CHURN_SECONDS * 1000);
    for (const loop of loops) loop.kill('SIGKILL');
    const rate = (forksSinceBoot() - forksBefore) / CHURN_SECONDS;
    console.log(`churn: ${rate.toFixed(0)} forks a second for ${CHURN_SECONDS} s`);
    expect(rate).toBeGreaterThanOrEqual(CHURN_PER_SECOND);
    expect(daemon.child.exitCode).toBeNull();
    expect(stderr()).not.toMatch(/ERROR/);
    const recorded = await run(['query', '--config', config, '--data-dir', dataDir, '--format', 'json', "SELECT count(*) AS n FROM process_events WHERE event = 'exit'"]);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect((JSON.parse(recorded.stdout) as { n: number }[])[0]!.n).toBeGreaterThan(rate * CHURN_SECONDS * 0.5);
  }, 60_000);

  it(`records ${CHILDREN} children living ~100 ms in process_events with exit codes and in processes from fork to exit within ${TOLERANCE_MS} ms`, async () => {
    expect(stderr()).toContain('Recording into');
    const runs: Promise<Awaited<ReturnType<typeof child>>>[] = [];
    for (let i = 0; i < CHILDREN; i += 1) {
      runs.push(child(i % 8));
      await sleep(200);
    }
    const children = await Promise.all(runs);
    // Two more scans and writes, then stop: SIGTERM writes everything.
    await sleep(2500);
    expect(await daemon.stop()).toBe(0);
    expect(stderr()).not.toMatch(/ERROR/);

    const pids = children.map((entry) => entry.pid).join(', ');
    const query = async (sql: string): Promise<Record<string, unknown>[]> => {
      const result = await run(['query', '--config', config, '--data-dir', dataDir, '--format', 'json', sql]);
      expect(result.stderr, sql).toBe('');
      expect(result.code, sql).toBe(0);
      return JSON.parse(result.stdout) as Record<string, unknown>[];
    };
    const exits = await query(`SELECT pid, exit_code FROM process_events WHERE event = 'exit' AND pid IN (${pids})`);
    const versions = await query(`SELECT pid, comm, epoch_us(valid_from) AS from_us, epoch_us(valid_to) AS to_us FROM processes WHERE pid IN (${pids}) ORDER BY pid, valid_from`);
    let withCode = 0;
    let exact = 0;
    const off: string[] = [];
    for (const entry of children) {
      if (exits.some((row) => row.pid === entry.pid && row.exit_code === entry.code)) withCode += 1;
      const mine = versions.filter((row) => row.pid === entry.pid);
      if (mine.length === 0 || mine.at(-1)!.to_us === null) {
        off.push(`${entry.pid}: ${mine.length === 0 ? 'no version' : 'still open'}`);
        continue;
      }
      const from = Number(mine[0]!.from_us) / 1000;
      const to = Number(mine.at(-1)!.to_us) / 1000;
      const stored = to - from;
      const own = entry.last - entry.first;
      // The true lifetime lies between its own stamps' span and what this process saw: the version
      // must bracket the stamps, be no longer than the outer span, and be within the tolerance of either bound.
      const inside = from <= entry.first + 0.5 && to >= entry.last - 0.5 && stored <= entry.outerMs + 1;
      if (inside && (stored - own <= TOLERANCE_MS || entry.outerMs - stored <= TOLERANCE_MS)) exact += 1;
      else off.push(`${entry.pid}: stored ${from.toFixed(1)}..${to.toFixed(1)} (${stored.toFixed(1)} ms), its own ${entry.first.toFixed(1)}..${entry.last.toFixed(1)} (${own.toFixed(1)} ms), seen from here ${entry.outerMs.toFixed(1)} ms`);
    }
    console.log(`lifetimes: ${withCode} of ${CHILDREN} exits with their codes, ${exact} of ${CHILDREN} versions within ${TOLERANCE_MS} ms; off: ${off.join(' | ') || 'none'}`);
    expect(withCode).toBeGreaterThanOrEqual(CHILDREN - 1);
    expect(exact, off.join('; ')).toBeGreaterThanOrEqual(CHILDREN - 1);
  }, 60_000);
});
