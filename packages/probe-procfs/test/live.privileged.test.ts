/**
 * Root-only live test: the worker drops its effective uid to nobody for one collection (as
 * an unprivileged vwatchd would run), so io and exe of other users' processes are refused:
 * those values must be null, reported by exactly one PERMISSION_DENIED, and nothing worse; and
 * the context-switch records are refused, yet a probe started so reads every process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createFileReader, createSystemClock, StatusCode } from '@virtualeyes/core';
import { loadLibc } from '@virtualeyes/linux/native';
import { describe, expect, it } from 'vitest';
import { openRunWatch } from '../src/linux/runs.js';
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

  it('is refused the context-switch records (PERMISSION_DENIED), and a probe started so reads every process each scan', async () => {
    const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
    const probe = probeOver(createFileReader(), {}, { clock: createSystemClock() });
    const mine = spawn('sleep', ['30'], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
    await new Promise((resolve) => mine.once('spawn', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rounds: Awaited<ReturnType<typeof collect>>[] = [];
    // Loaded before the switch, as a daemon loads its modules at start: a clone in a directory
    // nobody cannot read (found from one in a mode-700 parent) could not import koffi after it.
    expect((await loadLibc()).ok).toBe(true);
    try {
      process.setegid!(NOBODY);
      process.seteuid!(NOBODY);
      try {
        const opened = await openRunWatch(createFileReader());
        if (paranoid > 0) {
          expect(opened.ok).toBe(false);
          if (!opened.ok) expect(opened.status).toMatchObject({ code: StatusCode.PERMISSION_DENIED, message: expect.stringMatching(/needs root, CAP_PERFMON or kernel\.perf_event_paranoid <= 0$/) });
        } else if (opened.ok) opened.value.close();
        expect((await probe.start?.({ tables: ['processes', 'process_stats'] })) ?? { code: StatusCode.OK }).toMatchObject({ code: StatusCode.OK });
        for (let i = 0; i < 2; i += 1) rounds.push(await collect(probe, ['processes', 'process_stats']));
      } finally {
        process.seteuid!(0);
        process.setegid!(0);
        await probe.close?.();
      }
    } finally {
      mine.kill('SIGKILL');
    }
    expect(process.geteuid!()).toBe(0);
    for (const round of rounds) {
      expect(plain(batchOf(round.batches, 'processes').rows).find((row) => row.pid === mine.pid)).toMatchObject({ comm: 'sleep', uid: NOBODY });
      expect(round.errors.filter((status) => status.code !== StatusCode.PERMISSION_DENIED && status.code !== StatusCode.NOT_FOUND)).toEqual([]);
    }
  });
});
