/**
 * Root-only live test: the worker drops its effective uid to nobody for one collection (as
 * an unprivileged vwatchd would run), so io and exe of other users' processes are refused:
 * those values must be null, reported by exactly one PERMISSION_DENIED, and nothing worse.
 */
import { spawn } from 'node:child_process';
import { createFileReader, createSystemClock, StatusCode } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { batchOf, collect, plain, probeOver } from './helpers.js';

const NOBODY = 65534;
const isRoot = process.platform === 'linux' && process.geteuid?.() === 0;
const canSwitch = typeof process.seteuid === 'function' && typeof process.setegid === 'function';

if (process.env.CI === 'true') {
  it('runs as root with seteuid available in CI', () => {
    expect(isRoot, 'CI runs the tests as root').toBe(true);
    expect(canSwitch, 'vitest runs test files in forked processes (pool: forks)').toBe(true);
  });
}

describe.skipIf(!isRoot || !canSwitch)('as an unprivileged user (skipped unless root in a forked worker: it switches euid)', () => {
  it('leaves io and exe of root processes null, with one PERMISSION_DENIED and nothing else', async () => {
    const probe = probeOver(createFileReader(), {}, { clock: createSystemClock() });
    // A process of nobody's own, whose io nobody may read.
    const mine = spawn('sleep', ['30'], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
    await new Promise((resolve) => mine.once('spawn', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    let result: Awaited<ReturnType<typeof collect>>;
    try {
      process.setegid!(NOBODY);
      process.seteuid!(NOBODY);
      try {
        result = await collect(probe, ['processes', 'process_stats']);
      } finally {
        process.seteuid!(0);
        process.setegid!(0);
      }
    } finally {
      mine.kill('SIGKILL');
    }
    expect(process.geteuid!()).toBe(0);
    const processes = plain(batchOf(result.batches, 'processes').rows);
    const stats = plain(batchOf(result.batches, 'process_stats').rows);
    const own = processes.find((row) => row.pid === process.pid)!;
    expect(own).toMatchObject({ uid: NOBODY, user: 'nobody', exe: process.execPath });
    expect(processes.find((row) => row.pid === mine.pid)).toMatchObject({ uid: NOBODY, user: 'nobody', comm: 'sleep', exe: expect.stringMatching(/\/sleep$/) });
    expect(stats.find((row) => row.pid === mine.pid)!.read_chars as number).toBeGreaterThan(0);
    const rootUser = processes.filter((row) => row.uid === 0 && row.kernel_thread === false);
    expect(rootUser.length).toBeGreaterThan(0);
    for (const row of rootUser) expect(row.exe, `exe of ${String(row.pid)}`).toBeNull();
    for (const row of stats.filter((candidate) => rootUser.some((r) => r.pid === candidate.pid))) {
      expect([row.read_bytes, row.write_bytes], `io of ${String(row.pid)}`).toEqual([null, null]);
    }
    const denied = result.errors.filter((status) => status.code === StatusCode.PERMISSION_DENIED);
    expect(denied).toHaveLength(1);
    expect(denied[0]!.message).toMatch(/^could not read io of \d+ processes and exe of \d+ processes \(values are null\); needs root or CAP_SYS_PTRACE \(a sandbox's pid 1 may refuse even root\)$/);
    expect(result.errors.filter((status) => status.code !== StatusCode.PERMISSION_DENIED && status.code !== StatusCode.NOT_FOUND)).toEqual([]);
  });
});
