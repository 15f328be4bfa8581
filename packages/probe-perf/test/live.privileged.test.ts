/**
 * Root-only live test of the unprivileged path: the worker drops its effective uid to nobody
 * (as an unprivileged vwatchd would run) while a probe starts and collects. System-wide
 * counters are refused once, with the live perf_event_paranoid value and what would allow
 * them; its own process still counts, in user space only; another user's process is refused.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { StatusCode, type CollectResult } from '@virtualeyes/core';
import { loadLibc } from '@virtualeyes/linux/native';
import { describe, expect, it } from 'vitest';
import { batchOf, collect, IN_CI, IS_ROOT, probeOver, rowOf } from './helpers.js';

const NOBODY = 65534;
const DAEMON = 1;
const canSwitch = typeof process.seteuid === 'function' && typeof process.setegid === 'function';

if (IN_CI) {
  it('runs as root with seteuid available in CI', () => {
    expect(IS_ROOT, 'CI runs the tests as root').toBe(true);
    expect(canSwitch, 'vitest runs test files in forked processes (pool: forks)').toBe(true);
  });
}

/** Runs `fn` with the effective uid and gid of nobody, restoring root after. */
async function asNobody<T>(fn: () => Promise<T>): Promise<T> {
  process.setegid!(NOBODY);
  process.seteuid!(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
}

describe.skipIf(!IS_ROOT || !canSwitch)('as an unprivileged user (skipped unless root in a forked worker: it switches euid)', () => {
  it('is refused system-wide once with the paranoid value, counts itself in user space, and is refused another user’s process', async () => {
    const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
    const other = spawn('sleep', ['30'], { uid: DAEMON, gid: DAEMON, stdio: 'ignore' });
    await new Promise((resolve) => other.once('spawn', resolve));
    const probe = probeOver({ events: ['task-clock', 'page-faults'], processes: { pids: [process.pid, other.pid!] } });
    // Loaded as root first, as a daemon's code is readable by the user it runs as: a clone in a
    // directory only root may enter would otherwise refuse nobody the koffi module itself.
    const libc = await loadLibc();
    expect(libc.ok, libc.ok ? '' : libc.status.message).toBe(true);
    let results: CollectResult[] = [];
    try {
      results = await asNobody(async () => {
        await probe.start!({ emit: () => undefined });
        return [await collect(probe), await collect(probe), await collect(probe)];
      });
    } finally {
      other.kill('SIGKILL');
      await probe.close();
    }
    expect(process.geteuid!()).toBe(0);
    const [first, ...later] = results as [CollectResult, ...CollectResult[]];

    const denied = first.errors.filter((status) => status.code === StatusCode.PERMISSION_DENIED);
    const systemWide = denied.find((status) => status.message.includes('for CPU'));
    if (paranoid > 0) {
      expect(systemWide?.message).toContain(`/proc/sys/kernel/perf_event_paranoid is ${paranoid}`);
      expect(systemWide?.message).toContain('root or CAP_PERFMON, or perf_event_paranoid <= 0');
      expect(first.batches.map((batch) => batch.table)).not.toContain('perf_cpu');
    }
    const otherUser = denied.find((status) => status.message.includes(`pid ${other.pid}`));
    expect(otherUser?.message).toContain(paranoid > 1 ? 'CAP_SYS_PTRACE' : 'perf_event_paranoid');
    expect(first.errors.filter((status) => status.code !== StatusCode.PERMISSION_DENIED)).toEqual([]);

    const own = batchOf(first.batches, 'perf_process').rows;
    expect(own.map((row) => row.pid)).toEqual([process.pid, process.pid]);
    expect(rowOf(own, 'task-clock')?.user_only).toBe(paranoid > 1);
    for (const result of later) expect(result.errors).toEqual([]);
    expect(batchOf(later.at(-1)!.batches, 'perf_process').rows).toHaveLength(2);
  });
});
