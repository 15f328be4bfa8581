/**
 * The cgroups and cpu_info tables over the hand-written v2-host tree: a pure cgroup v2 host
 * with controllers (usage, throttling, memory events, io.stat summed over devices, limits,
 * `max` as null), the depth bound, and a CPU with cache and cpufreq folders.
 */
import { validateRow } from '@virtualeyes/core';
import { createFixtureReader } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import { manifest } from '../../src/index.js';
import { stepDir } from '../helpers.js';
import { collectSystem, rowsOf, systemCollector } from './context.js';

const files = (): ReturnType<typeof createFixtureReader> => createFixtureReader(stepDir('system', 'v2-host'));
const schema = (name: string): (typeof manifest.tables)[number] => manifest.tables.find((table) => table.name === name)!;

describe('v2-host', () => {
  it('walks the v2 hierarchy breadth first to cgroupMaxDepth, reading every controller file', async () => {
    const { collector, clock } = systemCollector(files());
    const { batches, errors } = await collectSystem(collector, clock, ['cgroups']);
    expect(errors).toEqual([]);
    const rows = rowsOf(batches, 'cgroups');
    for (const row of rows) expect(validateRow(schema('cgroups'), row).message).toBe('');
    expect(rows.map((row) => row.path)).toEqual([
      '/',
      '/kubepods.slice',
      '/system.slice',
      '/kubepods.slice/kubepods-burstable.slice',
      '/system.slice/nginx.service',
      '/kubepods.slice/kubepods-burstable.slice/pod1',
      '/kubepods.slice/kubepods-burstable.slice/pod1/cri-containerd-abc.scope',
    ]);
    expect(rows[0]).toEqual({
      path: '/',
      version: 'v2',
      cpu_usage: 9000000,
      cpu_user: 6000000,
      cpu_system: 3000000,
      nr_periods: 0,
      nr_throttled: 0,
      throttled_time: 0,
      memory_current: null,
      memory_max: null,
      memory_high_events: null,
      memory_max_events: null,
      oom: null,
      oom_kill: null,
      io_read_bytes: 4096,
      io_write_bytes: 8192,
      io_reads: 1,
      io_writes: 2,
      pids_current: null,
      pids_max: null,
    });
    expect(rows.find((row) => row.path === '/system.slice/nginx.service')).toMatchObject({
      nr_periods: 10,
      nr_throttled: 3,
      throttled_time: 1500,
      memory_current: 1048576,
      memory_max: 536870912,
      memory_high_events: 4,
      memory_max_events: 2,
      oom: 1,
      oom_kill: 1,
      io_read_bytes: 101,
      io_write_bytes: 202,
      io_reads: 4,
      io_writes: 5,
      pids_current: 7,
      pids_max: 100,
    });
    expect(rows.find((row) => row.path === '/system.slice')).toMatchObject({ memory_max: null, pids_max: null });
  });

  it('goes one level deeper when cgroupMaxDepth allows', async () => {
    const { collector, clock } = systemCollector(files(), { config: { cgroupMaxDepth: 5 } });
    const rows = rowsOf((await collectSystem(collector, clock, ['cgroups'])).batches, 'cgroups');
    expect(rows.at(-1)!.path).toBe('/kubepods.slice/kubepods-burstable.slice/pod1/cri-containerd-abc.scope/deeper');
  });

  it('reads cache sizes, frequency limits, package, core and NUMA node from sysfs', async () => {
    const { collector, clock } = systemCollector(files());
    const { batches } = await collectSystem(collector, clock, ['cpu_info']);
    const [row] = rowsOf(batches, 'cpu_info');
    expect(validateRow(schema('cpu_info'), row!).message).toBe('');
    expect(row).toMatchObject({
      cpu: 0,
      package: 1,
      core: 3,
      numa_node: 1,
      model: 'Intel(R) Xeon(R) Platinum 8480+',
      manufacturer: 'GenuineIntel',
      microcode: '0x2b000590',
      l1d_cache: 48 * 1024,
      l1i_cache: 32 * 1024,
      l2_cache: 2048 * 1024,
      l3_cache: 36864 * 1024,
      flags_count: 8,
      notable_flags: ['aes', 'avx', 'avx2', 'avx512f', 'sse4_2', 'vmx'],
      max_clock_speed: 3500,
      min_clock_speed: 800,
    });
  });
});
