/**
 * Selection by cgroup on the live kernel: a child cgroup created for the test under a
 * writable cgroup v2 mount below /sys/fs/cgroup; processes moved into it are picked up at the
 * next collection and released when they exit. Skipped where no such mount is writable (not
 * root, read-only cgroupfs); where it is writable, any failure fails, in CI too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Probe } from '@virtualeyes/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, collect, perfFds, probeOver } from './helpers.js';

/** The first cgroup2 mount at or below /sys/fs/cgroup, from /proc/self/mountinfo. */
function cgroup2Mount(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    const mountPoint = before?.split(' ')[4];
    if (after?.startsWith('cgroup2 ') && mountPoint !== undefined && (mountPoint === '/sys/fs/cgroup' || mountPoint.startsWith('/sys/fs/cgroup/'))) return mountPoint;
  }
  return undefined;
}

/** Why cgroups cannot be created under `mount` by this process, or undefined when they can. */
function notWritable(mount: string | undefined): string | undefined {
  if (mount === undefined) return 'no cgroup v2 mount below /sys/fs/cgroup';
  try {
    accessSync(mount, constants.W_OK);
    return undefined;
  } catch (error) {
    return `${mount} is not writable here: ${(error as Error).message}`;
  }
}

const mount = cgroup2Mount();
const name = `ve-perf-test-${process.pid}`;
const why = notWritable(mount);

describe.skipIf(why !== undefined)(`selection by cgroup (${why === undefined ? `in ${mount}/${name}` : `skipped: ${why}`})`, () => {
  const cgroup = join(mount ?? '/nonexistent', name);
  const children: ChildProcess[] = [];
  let probe: Probe | undefined;

  const exited = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const moveIn = async (): Promise<ChildProcess> => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    writeFileSync(join(cgroup, 'cgroup.procs'), `${child.pid}\n`);
    return child;
  };
  const pidsNow = async (): Promise<number[]> => {
    const result = await collect(probe!, ['perf_process']);
    expect(result.errors).toEqual([]);
    return [...new Set(batchOf(result.batches, 'perf_process').rows.map((row) => row.pid as number))].sort((a, b) => a - b);
  };

  beforeAll(() => {
    mkdirSync(cgroup);
    probe = probeOver({ events: ['cs', 'faults'], cgroupRoot: mount!, processes: { cgroups: [`/${name}`] } });
  });
  afterAll(async () => {
    await probe?.close();
    for (const child of children) {
      child.kill('SIGKILL');
      await exited(child);
    }
    // The cgroup is empty once its processes are reaped; removing it may race with the kernel briefly.
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        rmdirSync(cgroup);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });

  it('picks up processes moved into the cgroup and releases those that exit', async () => {
    expect(await pidsNow()).toEqual([]);
    const first = await moveIn();
    expect(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim()).toBe(String(first.pid));
    expect(await pidsNow()).toEqual([first.pid]);
    const second = await moveIn();
    expect(await pidsNow()).toEqual([first.pid!, second.pid!].sort((a, b) => a - b));
    const held = perfFds();
    first.kill('SIGKILL');
    await exited(first);
    expect(await pidsNow()).toEqual([second.pid]);
    expect(perfFds()).toBeLessThan(held);
  });
});
