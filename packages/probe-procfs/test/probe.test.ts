/**
 * Behaviour of the probe over fixtures and injected failures: lifecycle, unknown tables,
 * exited and unreadable processes reported once per collection, which files each table
 * reads, caches (user names, CPU model, boot time), aborts, and platforms without procfs.
 */
import { join } from 'node:path';
import { createFileReader, StatusCode, type FileReader } from '@virtualeyes/core';
import { createFakeClock, createFixtureReader, createMemoryLogger, createTestDeps } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import { createProbe, parseConfig } from '../src/index.js';
import {
  batchOf,
  collect,
  createFaultyReader,
  createOverlayReader,
  createSteppingReader,
  fixtureText,
  plain,
  probeOver,
  stepDir,
  validOptions,
} from './helpers.js';

const step0 = stepDir('host-a', 'step0');
const pidsOf = (rows: readonly Record<string, unknown>[]): unknown[] => rows.map((row) => row.pid);
const fixturePids = [1, 2, 4, 14, 9802, 9803, 9804, 9805, 9806, 9807, 9808, 9810];

describe('lifecycle', () => {
  // createProbe takes options the loader already validated (the kit's contract), so invalid
  // options are now refused by parseConfig, the same schema the loader applies.
  it('rejects invalid options with INVALID_CONFIG', () => {
    const created = parseConfig({ userHz: 0 });
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.status).toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('is named after its instance, inits OK on Linux and closes idempotently', async () => {
    const probe = probeOver(createFixtureReader(step0), {}, { name: 'procfs-host' });
    expect(probe.name).toBe('procfs-host');
    expect(probe.init().code).toBe('OK');
    expect((await probe.close()).code).toBe('OK');
    expect((await probe.close()).code).toBe('OK');
  });

  it('returns a Status and no rows when collecting after close', async () => {
    const probe = probeOver(createFixtureReader(step0));
    await probe.close();
    const result = await collect(probe);
    expect(result.batches).toEqual([]);
    expect(result.errors).toMatchObject([{ code: 'UNAVAILABLE', op: 'collect' }]);
  });

  it.each(['sunos', 'darwin', 'win32'])('reports UNSUPPORTED on %s at init and at every collection, without reading', async (platform) => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    const created = createProbe(validOptions(), createTestDeps({ files, platform }));
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const init = created.value.init();
    expect(init.code).toBe(StatusCode.UNSUPPORTED);
    expect(init.message).toContain(platform);
    const result = await collect(created.value);
    expect(result.batches).toEqual([]);
    expect(result.errors.map((status) => status.code)).toEqual([StatusCode.UNSUPPORTED]);
    expect(files.reads.size).toBe(0);
  });

  it('names the instance as the source of the statuses of an unsupported platform, a bug and a closed probe', async () => {
    const unsupported = createProbe(validOptions(), createTestDeps({ name: 'procfs-a', platform: 'sunos' }));
    expect(unsupported.ok).toBe(true);
    if (!unsupported.ok) return;
    expect(unsupported.value.init()).toMatchObject({ code: StatusCode.UNSUPPORTED, source: 'procfs-a', op: 'init' });
    const throwing: FileReader = {
      ...createFixtureReader(step0),
      readText: () => {
        throw new Error('reader bug');
      },
    };
    const buggy = probeOver(throwing, {}, { name: 'procfs-b' });
    expect((await collect(buggy)).errors).toMatchObject([{ code: StatusCode.INTERNAL, source: 'procfs-b', op: 'collect' }]);
    await buggy.close();
    expect((await collect(buggy)).errors).toMatchObject([{ code: StatusCode.UNAVAILABLE, message: 'procfs-b is closed', source: 'procfs-b' }]);
  });

  it('turns an exception inside a collection into an INTERNAL status', async () => {
    const throwing: FileReader = {
      ...createFixtureReader(step0),
      readText: () => {
        throw new Error('reader bug');
      },
    };
    const result = await collect(probeOver(throwing));
    expect(result.batches).toEqual([]);
    expect(result.errors).toMatchObject([{ code: 'INTERNAL', message: 'reader bug', op: 'collect' }]);
  });
});

describe('collect', () => {
  it('reports an unknown table as INVALID_ARGUMENT and still collects the others', async () => {
    const result = await collect(probeOver(createFixtureReader(step0)), ['cpu', 'nope']);
    expect(result.batches.map((batch) => batch.table)).toEqual(['cpu']);
    expect(result.errors).toMatchObject([{ code: 'INVALID_ARGUMENT', message: "procfs has no table 'nope'" }]);
  });

  it('stamps each batch with the clock at read time', async () => {
    const clock = createFakeClock(Date.UTC(2026, 5, 1));
    const probe = probeOver(createFixtureReader(step0), {}, { clock });
    await clock.advance(1234);
    const result = await collect(probe);
    for (const batch of result.batches) expect(batch.ts).toBe(Date.UTC(2026, 5, 1) + 1234);
  });

  it('reads /proc/stat once for cpu, load, system_info and the process start times', async () => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    await collect(probeOver(files));
    expect(files.reads.get('/proc/stat')).toBe(1);
    expect(files.reads.get('/proc/meminfo')).toBe(1);
  });

  it.each([
    [['processes'], ['stat', 'status', 'cmdline', 'exe'], ['io']],
    [['process_stats'], ['stat', 'status', 'io'], ['cmdline', 'exe']],
    [['processes', 'process_stats'], ['stat', 'status', 'cmdline', 'exe', 'io'], []],
  ])('for %j reads %j per pid and not %j', async (tables, read, unread) => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    const result = await collect(probeOver(files), tables);
    expect(result.batches.map((batch) => batch.table)).toEqual(tables);
    for (const file of read) expect(files.reads.get(`/proc/9806/${file}`), file).toBe(1);
    for (const file of unread) expect(files.reads.has(`/proc/9806/${file}`), file).toBe(false);
  });

  it.each([
    ['kernel thread', 2],
    ['zombie', 9810],
  ])('does not ask a %s for the cmdline and exe it cannot have', async (_what, pid) => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    const result = await collect(probeOver(files), ['processes']);
    expect(plain(batchOf(result.batches, 'processes').rows).find((row) => row.pid === pid)).toMatchObject({ cmdline: '', exe: null });
    expect(files.reads.has(`/proc/${pid}/cmdline`)).toBe(false);
    expect(files.reads.has(`/proc/${pid}/exe`)).toBe(false);
    expect(files.reads.get(`/proc/${pid}/stat`)).toBe(1);
  });

  it('does not read io when readIo is false, leaving its columns null without a status', async () => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    const result = await collect(probeOver(files, { readIo: false }), ['process_stats']);
    expect(result.errors).toEqual([]);
    expect([...files.reads.keys()].some((path) => path.endsWith('/io'))).toBe(false);
    for (const row of batchOf(result.batches, 'process_stats').rows) {
      expect([row.read_bytes, row.write_bytes, row.read_chars, row.write_chars]).toEqual([null, null, null, null]);
    }
  });

  it('keeps a uid past 2^31 whole (uid_t is unsigned 32-bit), and names it', async () => {
    const status = fixtureText('host-a', 'step0', 'proc/9805/status').replace('Uid:\t65534\t65534', 'Uid:\t4294967294\t4294967294');
    const passwd = `${fixtureText('host-a', 'step0', 'etc/passwd')}nfsnobody:x:4294967294:65534::/:/sbin/nologin\n`;
    const files = createOverlayReader(createFixtureReader(step0), { '/proc/9805/status': status, '/etc/passwd': passwd });
    const result = await collect(probeOver(files), ['processes']);
    expect(result.errors).toEqual([]);
    expect(plain(batchOf(result.batches, 'processes').rows).find((row) => row.pid === 9805)).toMatchObject({ uid: 4294967294, user: 'nfsnobody' });
  });

  it('reports refused io/exe reads once per probe, then only at debug', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (path.endsWith('/exe') || path.endsWith('/io') ? 'EACCES' : undefined));
    const logger = createMemoryLogger();
    const probe = probeOver(files, {}, { logger });
    const denied = async () => (await collect(probe, ['processes', 'process_stats'])).errors.filter((s) => s.code === StatusCode.PERMISSION_DENIED);
    expect(await denied()).toHaveLength(1);
    expect(await denied()).toEqual([]);
    expect(await denied()).toEqual([]);
    const debug = logger.records.filter((record) => record.level === 'debug' && record.message.startsWith('PERMISSION_DENIED'));
    expect(debug).toHaveLength(2);
  });

  it('cuts command lines at maxCmdlineChars', async () => {
    const result = await collect(probeOver(createFixtureReader(step0), { maxCmdlineChars: 8 }), ['processes']);
    const row = plain(batchOf(result.batches, 'processes').rows).find((candidate) => candidate.pid === 9808)!;
    expect(row.cmdline).toBe('bash -c ');
  });

  it('converts ticks with the configured userHz', async () => {
    const stat = fixtureText('host-a', 'step0', 'proc/9806/stat').split(') ')[1]!.split(' ');
    const result = await collect(probeOver(createFixtureReader(step0), { userHz: 250 }), ['process_stats']);
    const row = plain(batchOf(result.batches, 'process_stats').rows).find((candidate) => candidate.pid === 9806)!;
    expect(row.utime).toBe(Number(stat[11]) * 4);
    expect(row.stime).toBe(Number(stat[12]) * 4);
  });
});

describe('a wrong root', () => {
  it('reports UNAVAILABLE naming the root, never NOT_FOUND (which would pass as normal)', async () => {
    const result = await collect(probeOver(createFileReader({ roots: { '/proc': '/nonexistent/proc', '/sys': '/nonexistent/sys', '/etc': join(step0, 'etc') } })));
    expect(result.batches).toEqual([]);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const status of result.errors) {
      expect(status.code).toBe('UNAVAILABLE');
      expect(status.message).toContain('/nonexistent/proc');
    }
  });
});

describe('processes that exit or cannot be read', () => {
  it('skips pids that vanish mid-read and says so in one NOT_FOUND status, never PARSE_ERROR', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) =>
      path === '/proc/9806/status' || path === '/proc/9807/cmdline' ? 'ENOENT' : path === '/proc/9808/stat' ? 'ESRCH' : undefined,
    );
    const result = await collect(probeOver(files));
    expect(pidsOf(plain(batchOf(result.batches, 'processes').rows))).toEqual(fixturePids.filter((pid) => ![9806, 9807, 9808].includes(pid)));
    expect(pidsOf(plain(batchOf(result.batches, 'process_stats').rows))).toEqual(fixturePids.filter((pid) => ![9806, 9807, 9808].includes(pid)));
    expect(batchOf(result.batches, 'processes').snapshot).toBe(true);
    expect(result.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', message: '3 processes exited while being read', op: 'scan /proc' })]);
  });

  it('leaves io and exe null when refused and reports one PERMISSION_DENIED for the whole scan', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path, kind) =>
      path.endsWith('/io') || (kind === 'link' && path.endsWith('/exe')) ? 'EACCES' : undefined,
    );
    const result = await collect(probeOver(files));
    const processes = plain(batchOf(result.batches, 'processes').rows);
    const stats = plain(batchOf(result.batches, 'process_stats').rows);
    expect(pidsOf(processes)).toEqual(fixturePids);
    expect(processes.every((row) => row.exe === null)).toBe(true);
    expect(stats.every((row) => row.read_bytes === null && row.write_chars === null)).toBe(true);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({
      code: 'PERMISSION_DENIED',
      // Kernel threads (2, 4, 14) and the zombie (9810) have no exe to refuse.
      message: `could not read io of ${fixturePids.length} processes and exe of ${fixturePids.length - 4} processes (values are null); needs root or CAP_SYS_PTRACE (a sandbox's pid 1 may refuse even root)`,
    });
  });

  it('counts processes hidden by hidepid in the same PERMISSION_DENIED status', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (path === '/proc/1/stat' || path === '/proc/2/status' ? 'EACCES' : undefined));
    const result = await collect(probeOver(files), ['processes']);
    expect(pidsOf(plain(batchOf(result.batches, 'processes').rows))).toEqual(fixturePids.slice(2));
    expect(result.errors).toMatchObject([{ code: 'PERMISSION_DENIED', message: "2 processes hidden (hidepid); needs root or CAP_SYS_PTRACE (a sandbox's pid 1 may refuse even root)" }]);
  });

  it('reports other read failures once per code with a count', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (path.endsWith('/status') && !path.startsWith('/proc/1/') ? 'EIO' : undefined));
    const result = await collect(probeOver(files), ['processes']);
    expect(pidsOf(plain(batchOf(result.batches, 'processes').rows))).toEqual([1]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.code).toBe('INTERNAL');
    expect(result.errors[0]!.message).toMatch(/\(and 10 more like it\)$/);
  });

  it('reports a malformed stat as one PARSE_ERROR and keeps the other processes', async () => {
    const files = createOverlayReader(createFixtureReader(step0), { '/proc/9802/stat': '9802 (a b) c)) S 1 9802\n' });
    const result = await collect(probeOver(files), ['processes']);
    expect(pidsOf(plain(batchOf(result.batches, 'processes').rows))).toEqual(fixturePids.filter((pid) => pid !== 9802));
    expect(result.errors).toMatchObject([{ code: 'PARSE_ERROR', op: 'parse /proc/[pid]/stat' }]);
  });
});

describe('caches', () => {
  it('reads /etc/passwd at most once per collection, again only for an unknown uid', async () => {
    const passwd = fixtureText('host-a', 'step0', 'etc/passwd');
    const withoutNobody = passwd.split('\n').filter((line) => !line.startsWith('nobody:')).join('\n');
    const files = createFaultyReader(createOverlayReader(createFixtureReader(step0), { '/etc/passwd': withoutNobody }), () => undefined);
    const probe = probeOver(files);
    const first = await collect(probe, ['processes']);
    expect(plain(batchOf(first.batches, 'processes').rows).find((row) => row.pid === 9805)!.user).toBe('65534');
    expect(files.reads.get('/etc/passwd')).toBe(1);
    await collect(probe, ['processes']);
    expect(files.reads.get('/etc/passwd')).toBe(2);
    await collect(probe, ['processes']);
    expect(files.reads.get('/etc/passwd')).toBe(3);
  });

  it('does not re-read /etc/passwd when every uid is known', async () => {
    const files = createFaultyReader(createFixtureReader(step0), () => undefined);
    const probe = probeOver(files);
    const result = await collect(probe, ['processes']);
    expect(plain(batchOf(result.batches, 'processes').rows).find((row) => row.pid === 9805)!.user).toBe('nobody');
    await collect(probe, ['processes']);
    expect(files.reads.get('/etc/passwd')).toBe(1);
  });

  it('reports an unreadable passwd once and shows uids as numbers', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (path === '/etc/passwd' ? 'EACCES' : undefined));
    const result = await collect(probeOver(files), ['processes']);
    expect(plain(batchOf(result.batches, 'processes').rows).map((row) => row.user)).toEqual(expect.arrayContaining(['0', '65534']));
    expect(result.errors).toMatchObject([{ code: 'PERMISSION_DENIED', op: 'read /etc/passwd' }]);
  });

  it('reads /proc/cpuinfo again only when the number of CPUs changes', async () => {
    const stepping = createSteppingReader(stepDir('cpu-hotplug', 'step0'));
    const files = createFaultyReader(stepping, () => undefined);
    const probe = probeOver(files);
    const counts: unknown[] = [];
    for (const step of ['step0', 'step0', 'step1', 'step1', 'step2']) {
      stepping.use(stepDir('cpu-hotplug', step));
      counts.push(plain(batchOf((await collect(probe, ['system_info'])).batches, 'system_info').rows)[0]!.cpu_count);
    }
    expect(counts).toEqual([2, 2, 1, 1, 2]);
    expect(files.reads.get('/proc/cpuinfo')).toBe(3);
  });

  it('keeps start_time and boot_time stable when btime moves (a stepped wall clock)', async () => {
    const stat = fixtureText('host-a', 'step0', 'proc/stat');
    const btime = Number(/^btime (\d+)$/m.exec(stat)![1]);
    const stepping = createSteppingReader(step0);
    let moved = false;
    const files: FileReader = { ...stepping, readText: (path) => (moved && path === '/proc/stat' ? { ok: true, value: stat.replace(`btime ${btime}`, `btime ${btime + 1}`) } : stepping.readText(path)) };
    const probe = probeOver(files);
    const before = plain(batchOf((await collect(probe, ['processes'])).batches, 'processes').rows);
    moved = true;
    const later = await collect(probe, ['processes', 'system_info']);
    const after = plain(batchOf(later.batches, 'processes').rows);
    expect(after.map((row) => row.start_time)).toEqual(before.map((row) => row.start_time));
    expect(plain(batchOf(later.batches, 'system_info').rows)[0]!.boot_time).toBe(btime * 1000);
  });
});

describe('abort', () => {
  it('stops a scan when the signal aborts, returning the rows so far as a partial batch', async () => {
    const controller = new AbortController();
    const files = createFaultyReader(createFixtureReader(step0), (path) => {
      if (path === '/proc/9802/stat') controller.abort();
      return undefined;
    });
    const result = await collect(probeOver(files, { scanChunk: 2 }), ['processes', 'process_stats'], controller.signal);
    const processes = batchOf(result.batches, 'processes');
    expect(processes.snapshot).toBe(false);
    expect(batchOf(result.batches, 'process_stats').snapshot).toBe(false);
    expect(processes.rows.length).toBeGreaterThan(0);
    expect(processes.rows.length).toBeLessThan(fixturePids.length);
    expect(result.errors).toMatchObject([{ code: 'TIMEOUT', op: 'scan /proc' }]);
  });

  it('collects no process rows when aborted before the scan, but still the cheap tables', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await collect(probeOver(createFixtureReader(step0)), ['cpu', 'processes'], controller.signal);
    expect(result.batches.map((batch) => batch.table)).toEqual(['cpu']);
    expect(result.errors).toMatchObject([{ code: 'TIMEOUT', message: 'process scan stopped after 0 of 12 processes; rows are partial' }]);
  });
});

describe('system_info sources', () => {
  it('leaves optional fields null without a status when their files do not exist', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) =>
      ['/etc/os-release', '/etc/machine-id', '/proc/sys/kernel/arch', '/proc/sys/kernel/random/boot_id', '/proc/cpuinfo'].includes(path) ? 'ENOENT' : undefined,
    );
    const result = await collect(probeOver(files), ['system_info']);
    expect(result.errors).toEqual([]);
    expect(plain(batchOf(result.batches, 'system_info').rows)[0]).toMatchObject({
      os: null, os_id: null, os_version: null, machine_id: null, arch: null, boot_id: null, cpu_model: null, cpu_cores: null, cpu_count: 2,
    });
  });

  it.each([
    ['a kernel without NUMA (no node folder, sysfs present)', ['/sys/devices/system/node'], 1],
    ['no sysfs at all', ['/sys/devices/system/node', '/sys/devices/system'], null],
  ])('counts NUMA nodes with %s', async (_what, missing, nodes) => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (missing.includes(path) ? 'ENOENT' : undefined));
    const result = await collect(probeOver(files), ['system_info']);
    expect(plain(batchOf(result.batches, 'system_info').rows)[0]!.numa_nodes).toBe(nodes);
  });

  it('collects no system_info row without the hostname, saying why', async () => {
    const files = createFaultyReader(createFixtureReader(step0), (path) => (path === '/proc/sys/kernel/hostname' ? 'EACCES' : undefined));
    const result = await collect(probeOver(files), ['system_info', 'memory']);
    expect(result.batches.map((batch) => batch.table)).toEqual(['memory']);
    expect(result.errors).toMatchObject([{ code: 'PERMISSION_DENIED', op: 'read /proc/sys/kernel/hostname' }]);
  });
});
