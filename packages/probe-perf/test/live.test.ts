/**
 * Live tests on this host's kernel: per-CPU software counters on every online CPU, the events
 * `perf stat` calls <not supported> reported UNSUPPORTED once each (none later), perf_numa as
 * numastat says, and file descriptors released at close, at reload and when a selected
 * process exits; comm patterns pick up new processes and let go of exited ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode, type Probe } from '@virtualeyes/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENTS, EVENTS } from '../src/index.js';
import { batchOf, collect, IN_CI, IS_ROOT, num, onPath, openFds, perfFds, perfStatSystemWide, probeOver, requires, rowOf, unsupportedNames } from './helpers.js';

const linux = process.platform === 'linux';
const hasPerf = requires('perf (linux-perf)', linux && onPath('perf'));
const SOFTWARE = EVENTS.filter((event) => event.group === 'software').map((event) => event.name);
const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

if (IN_CI) {
  it('runs as root in CI (system-wide counters need it at perf_event_paranoid 2)', () => {
    expect(IS_ROOT).toBe(true);
  });
}

describe.skipIf(!linux)('perf_numa on the live kernel', () => {
  it('has one row per node with the numastat counters read around the collection', async () => {
    const nodes = readdirSync('/sys/devices/system/node').filter((name) => /^node\d+$/.test(name));
    const numaHit = (node: string): number => Number(/^numa_hit (\d+)$/m.exec(readFileSync(`/sys/devices/system/node/${node}/numastat`, 'utf8'))![1]);
    const before = nodes.map(numaHit);
    const probe = probeOver();
    const result = await collect(probe, ['perf_numa']);
    const after = nodes.map(numaHit);
    await probe.close();
    const rows = batchOf(result.batches, 'perf_numa').rows;
    expect(rows.map((row) => `node${String(row.node)}`)).toEqual(nodes.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))));
    rows.forEach((row, index) => {
      expect(num(row.numa_hit)).toBeGreaterThanOrEqual(before[index]!);
      expect(num(row.numa_hit)).toBeLessThanOrEqual(after[index]!);
    });
    const nodeEventsUnsupported = unsupportedNames(result.errors).includes('node-loads');
    if (nodeEventsUnsupported || !IS_ROOT) for (const row of rows) expect([row.node_loads, row.node_load_misses]).toEqual([null, null]);
  });
});

describe.skipIf(!linux || !IS_ROOT)('per-CPU counters on the live kernel (skipped unless root: perf_event_paranoid allows no system-wide counting otherwise)', () => {
  const probes: Probe[] = [];
  afterEach(async () => {
    for (const probe of probes.splice(0)) await probe.close();
  });
  const live = (options = {}): Probe => {
    const probe = probeOver(options);
    probes.push(probe);
    return probe;
  };

  it('records every software event on every online CPU, growing between collections from one opened_at', async () => {
    const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const probe = live({ events: SOFTWARE });
    expect((await probe.start!({ emit: () => undefined })).code).toBe(StatusCode.OK);
    const first = await collect(probe, ['perf_cpu']);
    expect(first.errors).toEqual([]);
    const spin = Date.now() + 30;
    while (Date.now() < spin) Math.sqrt(Math.random());
    const second = await collect(probe, ['perf_cpu']);
    const [a, b] = [batchOf(first.batches, 'perf_cpu').rows, batchOf(second.batches, 'perf_cpu').rows];
    const cpus = [...new Set(b.map((row) => row.cpu))];
    expect(cpus.length).toBe(online.includes('-') ? Number(online.split('-')[1]) + 1 : online.split(',').length);
    expect(b).toHaveLength(cpus.length * SOFTWARE.length);
    for (const row of b) {
      const previous = rowOf(a, String(row.event), { cpu: row.cpu })!;
      expect(num(row.raw), `${String(row.event)} on CPU ${String(row.cpu)}`).toBeGreaterThanOrEqual(num(previous.raw));
      expect(row.opened_at).toBe(previous.opened_at);
      expect(row.scale).toBe(1);
      expect(row.group_leader).toBe('cpu-clock');
    }
    // Wall time passed on every CPU: cpu-clock counts it whether the CPU was busy or idle.
    for (const cpu of cpus) expect(num(rowOf(b, 'cpu-clock', { cpu })!.value)).toBeGreaterThan(num(rowOf(a, 'cpu-clock', { cpu })!.value));
  });

  it.skipIf(!hasPerf)('reports as UNSUPPORTED exactly the events perf stat cannot count, once over several collections, in one status per reason', async () => {
    const oracle = await perfStatSystemWide(DEFAULT_EVENTS);
    const unsupported = DEFAULT_EVENTS.filter((event) => oracle.get(event) === '<not supported>');
    const probe = live();
    await probe.start!({ emit: () => undefined });
    const first = await collect(probe);
    // One status per reason, naming its events (one line in the log, one entry in `status`).
    const reported = unsupportedNames(first.errors);
    expect(reported.sort()).toEqual([...unsupported].sort());
    const reasons = first.errors.filter((status) => status.code === StatusCode.UNSUPPORTED);
    if (unsupported.length > 0) expect(reasons.length).toBeLessThan(unsupported.length + 1);
    expect(first.errors.filter((status) => status.code !== StatusCode.UNSUPPORTED)).toEqual([]);
    const counted = new Set(batchOf(first.batches, 'perf_cpu').rows.map((row) => row.event));
    expect([...counted].sort()).toEqual(DEFAULT_EVENTS.filter((event) => !unsupported.includes(event)).sort());
    for (let i = 0; i < 3; i += 1) {
      const later = await collect(probe);
      expect(later.errors).toEqual([]);
      expect(new Set(batchOf(later.batches, 'perf_cpu').rows.map((row) => row.event))).toEqual(counted);
    }
  });
});

describe.skipIf(!linux || !IS_ROOT)('file descriptors (skipped unless root)', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
  const sleeper = async (command = 'sleep'): Promise<ChildProcess> => {
    const child = spawn(command, ['60'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return child;
  };
  const cycle = async (options = {}): Promise<Probe> => {
    const probe = probeOver(options);
    await probe.start!({ emit: () => undefined });
    await collect(probe);
    return probe;
  };

  it('releases every fd at close', async () => {
    const child = await sleeper();
    await (await cycle({ processes: { pids: [child.pid!] } })).close();
    const baseline = openFds();
    const probe = await cycle({ processes: { pids: [child.pid!] } });
    expect(perfFds()).toBeGreaterThan(0);
    expect(openFds()).toBeGreaterThan(baseline);
    await probe.close();
    expect(perfFds()).toBe(0);
    expect(openFds()).toBe(baseline);
    await probe.close();
    expect(openFds()).toBe(baseline);
  });

  it('holds only the new instance’s fds across a reload, and none after', async () => {
    const child = await sleeper();
    await (await cycle()).close();
    const baseline = openFds();
    const first = await cycle({ processes: { pids: [child.pid!] } });
    const held = perfFds();
    await first.close();
    const second = await cycle({ processes: { pids: [child.pid!] } });
    expect(perfFds()).toBe(held);
    expect(openFds()).toBe(baseline + held);
    await second.close();
    expect(openFds()).toBe(baseline);
  });

  it('releases the fds of a selected process at the first collection after it exits', async () => {
    const child = await sleeper();
    const probe = await cycle({ events: SOFTWARE, processes: { pids: [child.pid!] } });
    const withChild = perfFds();
    const cpuOnly = withChild - SOFTWARE.length;
    child.kill('SIGKILL');
    await exited(child);
    // Until the next collection the counters stay open; then they go.
    expect(perfFds()).toBe(withChild);
    const result = await collect(probe, ['perf_process']);
    expect(batchOf(result.batches, 'perf_process').rows).toEqual([]);
    expect(perfFds()).toBe(cpuOnly);
    await probe.close();
    expect(perfFds()).toBe(0);
  });

  describe('selection by comm pattern', () => {
    // A copy of sleep under a name no other process has, so the pattern matches only ours.
    const name = `vepf${process.pid}`;
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 've-perf-comm-'));
      copyFileSync('/bin/sleep', join(dir, name));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('picks up a new matching process and releases one that exited', async () => {
      const probe = probeOver({ events: ['cs', 'faults'], processes: { comm: [`^${name}$`] } });
      try {
        const rowsNow = async () => batchOf((await collect(probe, ['perf_process'])).batches, 'perf_process').rows;
        const pidsNow = async () => [...new Set((await rowsNow()).map((row) => row.pid))].sort();
        expect(await pidsNow()).toEqual([]);
        const first = await sleeper(join(dir, name));
        expect(await pidsNow()).toEqual([first.pid]);
        const second = await sleeper(join(dir, name));
        expect(await pidsNow()).toEqual([first.pid, second.pid].sort());
        const held = perfFds();
        first.kill('SIGKILL');
        await exited(first);
        expect(await pidsNow()).toEqual([second.pid]);
        expect(perfFds()).toBeLessThan(held);
      } finally {
        await probe.close();
      }
      expect(perfFds()).toBe(0);
    });
  });
});
