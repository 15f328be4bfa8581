/**
 * Process identity on this host's real /proc: the start_time the library computes for the
 * test process and for a child it spawns equals the value computed the slow, independent way
 * (btime by regular expression, starttime by splitting, at `getconf CLK_TCK`), which is what
 * probe-procfs and probe-perf both store, so their rows join on (pid, start_time).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createFileReader, type FileReader } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_HZ, parsePidStat, processKey, processStartTime, readBootMs } from '../src/index.js';
import { statFields } from './helpers.js';

/** start_time of `pid` through the library, as both probes compute it. */
function libraryStartTime(files: FileReader, pid: number, userHz: number): number {
  const boot = readBootMs(files);
  const text = files.readText(`/proc/${pid}/stat`);
  const stat = text.ok ? parsePidStat(text.value) : text;
  if (!boot.ok || !stat.ok) throw new Error('cannot read /proc');
  return processStartTime(boot.value, stat.value.starttime, userHz);
}

/** start_time of `pid` computed without the library. */
function slowStartTime(pid: number, userHz: number): number {
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  const starttime = Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[22]);
  return btime * 1000 + Math.round((starttime * 1000) / userHz);
}

describe('processStartTime', () => {
  it('adds the starttime ticks, in milliseconds, to the boot time', () => {
    expect(processStartTime(1_763_787_600_000, 50_000, 100)).toBe(1_763_787_600_000 + 500_000);
    expect(processStartTime(1_000, 3, 250)).toBe(1_012);
  });

  it('keys a process by pid and start time', () => {
    expect(processKey(42, 1_763_787_600_000)).toBe('42/1763787600000');
  });
});

describe.skipIf(process.platform !== 'linux')('process identity on the live /proc', () => {
  const userHz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

  it('uses the USER_HZ this host reports as the default', () => {
    expect(userHz).toBe(DEFAULT_USER_HZ);
  });

  it("gives the test process the start time computed the slow way, and near its real start", () => {
    const files = createFileReader();
    const startTime = libraryStartTime(files, process.pid, userHz);
    expect(startTime).toBe(slowStartTime(process.pid, userHz));
    // btime is whole seconds, so start_time may be up to a second early.
    expect(Math.abs(startTime - (Date.now() - process.uptime() * 1000))).toBeLessThan(2000);
    // Read again, it is the same: the identity does not drift.
    expect(libraryStartTime(createFileReader(), process.pid, userHz)).toBe(startTime);
  });

  it('gives a child the start time computed the slow way, within the window it was spawned in', async () => {
    const before = Date.now();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      const after = Date.now();
      const startTime = libraryStartTime(createFileReader(), child.pid!, userHz);
      expect(startTime).toBe(slowStartTime(child.pid!, userHz));
      expect(startTime).toBeGreaterThanOrEqual(before - 1100);
      expect(startTime).toBeLessThanOrEqual(after + 100);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
