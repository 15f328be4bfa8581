/**
 * The system group's collector over the host-b capture: every table's rows match its schema
 * with unique keys, and agree with the captured files read here independently; a missing
 * optional source is reported once; a budget cuts a collection short with TIMEOUT and keeps
 * what was read; the cgroup walk keeps to its bounds; a mutated file never yields an invalid row.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateRow, type FileReader } from '@virtualeyes/core';
import { createFakeClock } from '@virtualeyes/core/testing';
import { mutatedCapture } from '@virtualeyes/linux/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifest, parseConfig } from '../../src/index.js';
import { collect, createFaultyReader, createOverlayReader, probeOver } from '../helpers.js';
import { collectSystem, fixedStatfs, HOST_B, hostB, num, rowsOf, SYSTEM_NAMES, systemCollector } from './context.js';

const file = (path: string): string => readFileSync(join(HOST_B, path), 'utf8');

describe('system collector over host-b', async () => {
  const statfs = fixedStatfs();
  const { collector, clock } = systemCollector(hostB(), { statfs });
  const { batches, errors } = await collectSystem(collector, clock);

  it('collects every table, each row valid and each key unique, reporting only the missing irq pressure', () => {
    expect(batches.map((batch) => batch.table)).toEqual(SYSTEM_NAMES);
    for (const batch of batches) {
      const schema = manifest.tables.find((table) => table.name === batch.table)!;
      expect(batch.snapshot, batch.table).toBe(true);
      const keys = new Set<string>();
      for (const row of batch.rows) {
        expect(validateRow(schema, row).message, batch.table).toBe('');
        keys.add(JSON.stringify(schema.key.map((key) => row[key])));
      }
      expect(keys.size, batch.table).toBe(batch.rows.length);
    }
    expect(errors.map((status) => [status.code, status.message])).toEqual([
      ['UNSUPPORTED', 'pressure: no /proc/pressure/irq (needs CONFIG_IRQ_TIME_ACCOUNTING, 6.1+); its rows stay out; reported once'],
    ]);
  });

  it('gives each CPU its topology and flags, and null where the VM has no cache or cpufreq folder', () => {
    const rows = rowsOf(batches, 'cpu_info');
    expect(rows.map((row) => [row.cpu, row.package, row.core, row.numa_node])).toEqual([
      [0, 0, 0, 0],
      [1, 0, 1, 0],
    ]);
    const flags = /^flags\s+: (.*)$/m.exec(file('proc/cpuinfo'))![1]!.split(/\s+/);
    expect(rows[0]).toMatchObject({ model: 'AMD EPYC', manufacturer: 'AuthenticAMD', l1d_cache: null, l3_cache: null, max_clock_speed: null, flags_count: flags.length });
    expect(rows[0]!.notable_flags).toEqual(['aes', 'avx', 'avx2', 'avx512f', 'sha_ni', 'sse4_2', 'hypervisor', 'rdrand', 'nx', 'ht', 'constant_tsc', 'nonstop_tsc']);
    expect(rows[1]!.flags_hash).toBe(rows[0]!.flags_hash);
  });

  it('reads the node memory and numastat counters', () => {
    const meminfo = file('sys/devices/system/node/node0/meminfo');
    const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(meminfo)![1]) * 1024;
    expect(rowsOf(batches, 'numa_nodes')).toEqual([{ node: 0, mem_total: kb('MemTotal'), cpulist: '0-1', cpu_count: 2 }]);
    const numastat = Object.fromEntries(file('sys/devices/system/node/node0/numastat').trim().split('\n').map((line) => line.split(' ')).map(([k, v]) => [k, Number(v)]));
    expect(rowsOf(batches, 'numa_stats')).toEqual([{ node: 0, mem_free: kb('MemFree'), mem_used: kb('MemUsed'), ...numastat }]);
  });

  it('gives each interface its attributes and addresses, IPv4 matched to its connected route', () => {
    const rows = rowsOf(batches, 'interfaces');
    expect(rows.map((row) => row.interface)).toEqual(['eth0', 'ifb0', 'ifb1', 'lo']);
    expect(rows[0]).toEqual({
      interface: 'eth0',
      ifindex: 4,
      mac: '02:fc:00:00:00:01',
      mtu: 1400,
      operstate: 'up',
      link_speed: null,
      type: 1,
      flags: 0x1003,
      addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'],
    });
    expect(rows[3]).toMatchObject({ interface: 'lo', type: 772, addresses: ['127.0.0.1/8', '::1/128'] });
    expect(rows[1]).toMatchObject({ interface: 'ifb0', operstate: 'down', link_speed: null, addresses: [] });
  });

  it('reads every /proc/net/dev counter', () => {
    const line = file('proc/net/dev').split('\n').find((text) => text.trim().startsWith('eth0:'))!;
    const values = line.split(':')[1]!.trim().split(/\s+/).map(Number);
    const row = rowsOf(batches, 'net_dev').find((candidate) => candidate.interface === 'eth0')!;
    expect([row.rx_bytes, row.rx_packets, row.rx_multicast, row.tx_bytes, row.tx_collisions, row.tx_carrier, row.tx_compressed]).toEqual([values[0], values[1], values[7], values[8], values[13], values[14], values[15]]);
  });

  it('lists the disks with sizes in bytes and the virtio serial', () => {
    const rows = rowsOf(batches, 'disks');
    expect(rows.map((row) => row.name)).toEqual(['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0']);
    expect(rows.find((row) => row.name === 'vda')).toEqual({
      name: 'vda',
      parent: null,
      device: '254:0',
      size: Number(file('sys/block/vda/size')) * 512,
      rotational: true,
      removable: false,
      read_only: false,
      logical_block_size: 512,
      physical_block_size: 4096,
      model: null,
      vendor: '0x1af4',
      serial: file('sys/block/vda/serial').trim(),
    });
  });

  it('converts diskstats sectors to bytes and keeps every field', () => {
    const fields = file('proc/diskstats').split('\n').find((line) => / vda /.test(line))!.trim().split(/\s+/).slice(3).map(Number);
    expect(rowsOf(batches, 'disk_io').find((row) => row.name === 'vda')).toEqual({
      name: 'vda',
      reads_completed: fields[0],
      reads_merged: fields[1],
      read_bytes: fields[2]! * 512,
      read_time: fields[3],
      writes_completed: fields[4],
      writes_merged: fields[5],
      write_bytes: fields[6]! * 512,
      write_time: fields[7],
      in_flight: fields[8],
      io_time: fields[9],
      weighted_io_time: fields[10],
      discards_completed: fields[11],
      discards_merged: fields[12],
      discard_bytes: fields[13]! * 512,
      discard_time: fields[14],
      flushes_completed: fields[15],
      flush_time: fields[16],
    });
  });

  it('lists every mount, and statfs only the topmost mount of each path that is not a pseudo filesystem', () => {
    const lines = file('proc/self/mountinfo').trim().split('\n');
    expect(rowsOf(batches, 'mounts').length).toBe(lines.length);
    // /dev/pts and /dev/shm are each mounted twice on this host: the later mount (29 for /dev/shm) is the one statfs sees.
    expect(statfs.calls.sort()).toEqual(['/', '/dev', '/dev/shm', '/mnt/sandboxing/model_tools_env/v1/python', '/sys/fs/cgroup']);
    const usage = rowsOf(batches, 'filesystem_usage');
    expect(usage.find((row) => row.path === '/dev/shm')!.mount_id).toBe(29);
    expect(usage.find((row) => row.path === '/')).toEqual({ mount_id: 26, path: '/', type: 'ext4', block_size: 4096, size: 4096000, used: 2457600, free: 1638400, available: 1228800, inodes: 100, inodes_free: 60 });
  });

  it('keeps the chosen vmstat counters, summing allocstall over zones', () => {
    const vmstat = Object.fromEntries(file('proc/vmstat').trim().split('\n').map((line) => line.split(' ')).map(([k, v]) => [k, Number(v)]));
    const [row] = rowsOf(batches, 'vmstat');
    expect(row).toMatchObject({ pgfault: vmstat.pgfault, oom_kill: vmstat.oom_kill, numa_hit: vmstat.numa_hit, workingset_refault: null });
    expect(row!.allocstall).toBe(['dma', 'dma32', 'normal', 'movable', 'device'].reduce((sum, zone) => sum + (vmstat[`allocstall_${zone}`] ?? 0), 0));
  });

  it('reads pressure some and full per resource present', () => {
    const rows = rowsOf(batches, 'pressure');
    expect(rows.map((row) => `${row.resource as string}/${row.kind as string}`)).toEqual(['cpu/some', 'cpu/full', 'io/some', 'io/full', 'memory/some', 'memory/full']);
    const some = /^some avg10=(\S+) avg60=(\S+) avg300=(\S+) total=(\d+)$/m.exec(file('proc/pressure/io'))!;
    expect(rows[2]).toEqual({ resource: 'io', kind: 'some', avg10: Number(some[1]), avg60: Number(some[2]), avg300: Number(some[3]), total: Number(some[4]) });
  });

  it('merges the hybrid hierarchies per path: v2 usage at the root, v1 memory below', () => {
    const rows = rowsOf(batches, 'cgroups');
    expect(rows.slice(0, 2).map((row) => row.path)).toEqual(['/', '/process_api']);
    const root = rows[0]!;
    const v2 = Object.fromEntries(file('sys/fs/cgroup/unified/cpu.stat').trim().split('\n').map((line) => line.split(' ')).map(([k, v]) => [k, Number(v)]));
    expect(root).toMatchObject({ version: 'v1+v2', cpu_usage: v2.usage_usec, cpu_user: v2.user_usec, cpu_system: v2.system_usec });
    expect(root.memory_current).toBe(Number(file('sys/fs/cgroup/memory/memory.usage_in_bytes')));
    expect(root.memory_max).toBeNull();
    const child = rows.find((row) => row.path === '/process_api')!;
    expect(child).toMatchObject({ version: 'v1', cpu_usage: null, memory_current: Number(file('sys/fs/cgroup/memory/process_api/memory.usage_in_bytes')) });
    expect(rows.length).toBe(6);
  });
});

describe('missing sources', () => {
  const absent = (path: string): string | undefined => (path.startsWith('/proc/pressure') || path.startsWith('/sys/devices/system/node') || path.startsWith('/sys/fs/cgroup') ? 'ENOENT' : undefined);

  it('are reported once, as UNSUPPORTED, and their tables give no batch', async () => {
    const files = createFaultyReader(hostB(), absent);
    const { collector, clock } = systemCollector(files, { statfs: fixedStatfs() });
    const tables = ['numa_nodes', 'numa_stats', 'pressure', 'cgroups', 'vmstat'];
    const first = await collectSystem(collector, clock, tables);
    expect(first.batches.map((batch) => batch.table)).toEqual(['vmstat']);
    expect(first.errors.map((status) => status.code)).toEqual(['UNSUPPORTED', 'UNSUPPORTED', 'UNSUPPORTED']);
    expect(first.errors.map((status) => status.message).join('\n')).toMatch(/no \/sys\/devices\/system\/node[^]*no \/proc\/pressure[^]*no cgroup hierarchy/);
    const second = await collectSystem(collector, clock, tables);
    expect(second.errors).toEqual([]);
  });

  it('give null columns, not errors, for per-device attributes a driver lacks', async () => {
    const files = createFaultyReader(hostB(), (path) => (/\/(serial|speed|address|topology\/core_id)$/.test(path) ? 'ENOENT' : undefined));
    const { collector, clock } = systemCollector(files);
    const { batches, errors } = await collectSystem(collector, clock, ['cpu_info', 'interfaces', 'disks']);
    expect(errors).toEqual([]);
    expect(rowsOf(batches, 'disks').every((row) => row.serial === null)).toBe(true);
    expect(rowsOf(batches, 'interfaces').every((row) => row.mac === null)).toBe(true);
    // Without sysfs core ids the cpuinfo ones stand in.
    expect(rowsOf(batches, 'cpu_info').map((row) => row.core)).toEqual([0, 1]);
  });

  it('of a host-wide file are UNAVAILABLE each time, naming the root to check', async () => {
    const files = createFaultyReader(hostB(), (path) => (path === '/proc/diskstats' ? 'ENOENT' : undefined));
    const { collector, clock } = systemCollector(files);
    for (let i = 0; i < 2; i += 1) {
      const { batches, errors } = await collectSystem(collector, clock, ['disk_io']);
      expect(batches).toEqual([]);
      expect(errors.map((status) => status.code)).toEqual(['UNAVAILABLE']);
      expect(errors[0]!.message).toContain(join(HOST_B, 'proc'));
    }
  });
});

/** A reader whose every read moves a monotonic clock by 1 ms: a budget of N ms then ends after about N reads. */
function tickingReader(inner: FileReader): { files: FileReader; monotonic: () => number } {
  let now = 0;
  const tick = <T>(value: T): T => {
    now += 1;
    return value;
  };
  return {
    monotonic: () => now,
    files: {
      resolve: (path) => inner.resolve(path),
      readText: (path) => tick(inner.readText(path)),
      readDir: (path) => tick(inner.readDir(path)),
      readLink: (path) => tick(inner.readLink(path)),
    },
  };
}

describe('budgets', () => {
  it.each([
    ['interfaces', 8],
    ['disks', 20],
    ['cpu_info', 4],
    ['cgroups', 30],
  ])('cut %s short with TIMEOUT after a few items, keeping the rows read', async (table, ms) => {
    const { files, monotonic } = tickingReader(hostB());
    const { collector, clock } = systemCollector(files);
    const { batches, errors } = await collectSystem(collector, clock, [table], { ms, monotonic });
    expect(errors.map((status) => status.code)).toEqual(['TIMEOUT']);
    expect(errors[0]!.message).toMatch(new RegExp(`^${table}: exceeded its ${ms} ms budget after \\d+ of \\d+; rows are partial$`));
    const batch = batches.find((candidate) => candidate.table === table)!;
    expect(batch.snapshot).toBe(false);
    expect(batch.rows.length).toBeGreaterThan(0);
    const full = await collectSystem(systemCollector(hostB()).collector, clock, [table]);
    expect(batch.rows.length).toBeLessThan(full.batches[0]!.rows.length);
  });

  it('report a table whose budget was spent before it started, and an aborted collection, without rows', async () => {
    const { collector, clock } = systemCollector(hostB());
    const controller = new AbortController();
    controller.abort();
    const { batches, errors } = await collectSystem(collector, clock, ['vmstat', 'disks'], { signal: controller.signal });
    expect(batches).toEqual([]);
    expect(errors.map((status) => status.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
  });
});

describe('cgroup walk bounds', () => {
  it('stops at cgroupMaxDepth', async () => {
    const { collector, clock } = systemCollector(hostB(), { config: { cgroupMaxDepth: 1 } });
    const rows = rowsOf((await collectSystem(collector, clock, ['cgroups'])).batches, 'cgroups');
    expect(rows.map((row) => row.path)).toEqual(['/', '/process_api']);
  });

  it('stops at cgroupMaxCount, saying so once', async () => {
    const { collector, clock } = systemCollector(hostB(), { config: { cgroupMaxCount: 3 } });
    const first = await collectSystem(collector, clock, ['cgroups']);
    expect(rowsOf(first.batches, 'cgroups').length).toBe(3);
    expect(first.errors.map((status) => status.message)).toEqual([expect.stringContaining('more than cgroupMaxCount (3) cgroups')]);
    expect((await collectSystem(collector, clock, ['cgroups'])).errors).toEqual([]);
  });
});

it('keeps fake-clock time out of row values (ts comes from the clock)', async () => {
  const clock = createFakeClock(Date.UTC(2026, 11, 2));
  const { collector } = systemCollector(hostB(), { clock, statfs: fixedStatfs() });
  const { batches } = await collectSystem(collector, clock, ['vmstat']);
  expect(batches[0]!.ts).toBe(Date.UTC(2026, 11, 2));
  expect(num(rowsOf(batches, 'vmstat')[0]!.pgfault)).toBeGreaterThan(0);
});

describe('a collection over a capture with one file mutated', () => {
  /** Each file, and the tables reading it. */
  const mutable: [string, string[]][] = [
    ['/proc/cpuinfo', ['cpu_info']],
    ['/proc/net/dev', ['net_dev']],
    ['/proc/net/if_inet6', ['interfaces']],
    ['/proc/net/fib_trie', ['interfaces']],
    ['/proc/net/route', ['interfaces']],
    ['/proc/diskstats', ['disk_io']],
    ['/proc/self/mountinfo', ['mounts', 'filesystem_usage']],
    ['/proc/vmstat', ['vmstat']],
    ['/proc/pressure/io', ['pressure']],
    ['/sys/devices/system/node/node0/meminfo', ['numa_nodes', 'numa_stats']],
    ['/sys/fs/cgroup/unified/cpu.stat', ['cgroups']],
    ['/sys/fs/cgroup/memory/memory.oom_control', ['cgroups']],
  ];

  it.each(mutable)('%s: %j give only schema-valid rows with unique keys, and no INTERNAL status', async (path, tables) => {
    const original = file(path.slice(1));
    await fc.assert(
      fc.asyncProperty(mutatedCapture(original, ' \t\n:-=/.0123456789abcxyz|'), async (text) => {
        const { collector, clock } = systemCollector(createOverlayReader(hostB(), { [path]: text }), { statfs: fixedStatfs() });
        const { batches, errors } = await collectSystem(collector, clock, tables);
        for (const status of errors) expect(['PARSE_ERROR', 'UNSUPPORTED'], status.message).toContain(status.code);
        for (const batch of batches) {
          const schema = manifest.tables.find((table) => table.name === batch.table)!;
          const keys = new Set<string>();
          for (const row of batch.rows) {
            expect(validateRow(schema, row).message, batch.table).toBe('');
            keys.add(JSON.stringify(schema.key.map((key) => row[key])));
          }
          expect(keys.size, batch.table).toBe(batch.rows.length);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('through the probe', () => {
  it('dispatches the system tables to the group, keeps their batches in table order, and validates the new options', async () => {
    const probe = probeOver(hostB(), { cgroupMaxDepth: 1 });
    const result = await collect(probe, ['cgroups', 'vmstat', 'net_dev']);
    expect(result.batches.map((batch) => batch.table)).toEqual(['net_dev', 'vmstat', 'cgroups']);
    expect(rowsOf(result.batches, 'cgroups').map((row) => row.path)).toEqual(['/', '/process_api']);
    await probe.close();
    for (const [options, path] of [
      [{ cgroupMaxDepth: -1 }, '$.cgroupMaxDepth'],
      [{ cgroupMaxCount: 0 }, '$.cgroupMaxCount'],
      [{ fsSkipTypes: 'proc' }, '$.fsSkipTypes'],
      [{ budgets: { filesystem_usage: 0 } }, '$.budgets'],
    ] as const) {
      const parsed = parseConfig(options);
      expect(!parsed.ok && parsed.status.code, path).toBe('INVALID_CONFIG');
      expect(!parsed.ok && parsed.status.message.startsWith(path), path).toBe(true);
    }
  });
});
