/**
 * The probe over a scripted kernel (test/fake-kernel.ts) and the vm-2cpu capture: lifecycle
 * (no I/O at init, counters at start, every fd released at close), events the machine lacks
 * reported once each over many collections, refusals once with the paranoid value, group
 * fallback, multiplexing and never-ran counters, process caps, and failures mid-way.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileReader, err, fail, StatusCode, type Probe, type Status } from '@virtualeyes/core';
import { createFakeClock, createMemoryLogger } from '@virtualeyes/core/testing';
import { describe, expect, it } from 'vitest';
import { HwConfig, PerfType, SwConfig } from '../src/constants.js';
import { createFakeKernel, type FakeKernel, type OpenCall } from './fake-kernel.js';
import { batchOf, collect, createPerfProbe, FIXTURES, num, overlayReader, probeOver, rowOf, unsupportedNames } from './helpers.js';
import type { PerfOptions } from '../src/config.js';

const CASE = join(FIXTURES, 'vm-2cpu');
const PRIVILEGED = 'Name:\tvwatchd\nCapEff:\t000001ffffffffff\n';
const UNPRIVILEGED = 'Name:\tvwatchd\nCapEff:\t0000000000000000\n';
const SOFTWARE = ['cpu-clock', 'task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'minor-faults', 'major-faults'];
const HARDWARE = ['cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'LLC-loads', 'LLC-load-misses', 'node-loads', 'node-load-misses'];
const isPmu = (call: OpenCall): boolean => call.type === PerfType.HARDWARE || call.type === PerfType.HW_CACHE;
const linux = process.platform === 'linux';

/** A reader of the vm-2cpu capture for /sys and perf_event_paranoid, the real /proc otherwise. */
const captured = () =>
  createFileReader({
    roots: {
      '/sys': join(CASE, 'sys'),
      '/proc/sys/kernel/perf_event_paranoid': join(CASE, 'proc/sys/kernel/perf_event_paranoid'),
    },
  });

/** The captured files, as a privileged agent, with some texts replaced. */
function files(texts: Readonly<Record<string, string | { errno: string }>> = {}) {
  return overlayReader(captured(), { '/proc/self/status': PRIVILEGED, ...texts });
}

function fakeProbe(kernel: FakeKernel, options: PerfOptions = {}, texts: Readonly<Record<string, string | { errno: string }>> = {}): Probe {
  return probeOver(options, { files: files(texts) }, kernel.loader);
}

const codes = (statuses: readonly Status[]): string[] => statuses.map((status) => status.code);

describe.skipIf(!linux)('lifecycle over a fake kernel', () => {
  it('does no I/O at init and opens nothing before start', () => {
    const kernel = createFakeKernel();
    let loads = 0;
    const reader = files();
    const probe = probeOver({}, { files: reader }, () => {
      loads += 1;
      return kernel.loader();
    });
    expect(probe.init().code).toBe(StatusCode.OK);
    expect(reader.reads).toEqual([]);
    expect(loads).toBe(0);
    expect(kernel.opens).toEqual([]);
  });

  it('opens the software group on every online CPU at start: leader disabled then enabled, pid -1, no inherit', async () => {
    const kernel = createFakeKernel({ open: (call) => (isPmu(call) ? 'ENOENT' : undefined) });
    const probe = fakeProbe(kernel);
    expect((await probe.start!({ emit: () => undefined })).code).toBe(StatusCode.OK);
    const open = [...kernel.fds.values()];
    expect(open).toHaveLength(2 * SOFTWARE.length);
    for (const cpu of [0, 1]) {
      const fds = open.filter((fd) => fd.cpu === cpu);
      expect(fds.map((fd) => fd.config)).toEqual([0, 1, 3, 4, 2, 5, 6]);
      expect(fds.every((fd) => fd.pid === -1 && !fd.inherit && !fd.excludeKernel && fd.enabled)).toBe(true);
      expect(fds.filter((fd) => fd.leader === fd.fd).map((fd) => fd.disabled)).toEqual([true]);
    }
    await probe.close();
  });

  it('starts on the first collection when start was never called', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['context-switches'] });
    const result = await collect(probe, ['perf_cpu']);
    expect(result.errors).toEqual([]);
    expect(batchOf(result.batches, 'perf_cpu').rows.map((row) => row.cpu)).toEqual([0, 1]);
    await probe.close();
  });

  it('releases every fd at close, closes each once, and answers later calls with a Status', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { processes: { pids: [process.pid] } });
    await probe.start!({ emit: () => undefined });
    await collect(probe);
    expect(kernel.fds.size).toBeGreaterThan(0);
    expect((await probe.close()).code).toBe(StatusCode.OK);
    expect(kernel.fds.size).toBe(0);
    expect((await probe.close()).code).toBe(StatusCode.OK);
    expect(kernel.doubleCloses).toEqual([]);
    const after = await collect(probe);
    expect(after.batches).toEqual([]);
    expect(codes(after.errors)).toEqual([StatusCode.UNAVAILABLE]);
    expect((await probe.start!({ emit: () => undefined })).code).toBe(StatusCode.UNAVAILABLE);
    expect(kernel.fds.size).toBe(0);
  });

  it('opens nothing when closed while start is still loading the system calls', async () => {
    const kernel = createFakeKernel();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const probe = probeOver({}, { files: files() }, async () => {
      await gate;
      return kernel.loader();
    });
    const starting = probe.start!({ emit: () => undefined });
    await probe.close();
    release();
    expect((await starting).code).toBe(StatusCode.UNAVAILABLE);
    expect(kernel.opens).toEqual([]);
  });

  it('keeps collecting NUMA statistics when the system calls cannot load, saying why once', async () => {
    const probe = probeOver({}, { files: files() }, () =>
      Promise.resolve(err(fail(StatusCode.UNSUPPORTED, 'no perf_event_open syscall number is known for sparc64', { op: 'load libc' }))),
    );
    expect((await probe.start!({ emit: () => undefined })).code).toBe(StatusCode.OK);
    const first = await collect(probe);
    expect(first.errors.map((status) => status.message)).toEqual(['no perf_event_open syscall number is known for sparc64']);
    expect(first.batches.map((batch) => batch.table)).toEqual(['perf_numa']);
    expect(batchOf(first.batches, 'perf_numa').rows).toHaveLength(1);
    expect((await collect(probe)).errors).toEqual([]);
    await probe.close();
  });

  it('reports a table it does not have as INVALID_ARGUMENT', async () => {
    const probe = fakeProbe(createFakeKernel());
    const result = await collect(probe, ['perf_cpu', 'cpu']);
    expect(result.errors.map((status) => status.message)).toEqual(["perf has no table 'cpu'"]);
    await probe.close();
  });
});

describe('other platforms', () => {
  it('reports UNSUPPORTED at init, start and collect, saying what would be needed, and closes cleanly', async () => {
    const created = createPerfProbe({}, { platform: 'darwin' });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const probe = created.value;
    expect(probe.init().code).toBe(StatusCode.UNSUPPORTED);
    expect(probe.init().message).toMatch(/^perf counts through Linux's perf_event_open and cannot run on darwin; /);
    expect((await probe.start!({ emit: () => undefined })).code).toBe(StatusCode.UNSUPPORTED);
    expect(codes((await collect(probe)).errors)).toEqual([StatusCode.UNSUPPORTED]);
    expect((await probe.close()).code).toBe(StatusCode.OK);
  });

  it('refuses invalid options before anything else', () => {
    const created = createPerfProbe({ events: ['cycles', 'nope'] });
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.status.message).toMatch(/^\$\.events\[1\]: unknown perf event 'nope'/);
  });

  it.each([
    [{ events: ['cycles', 'cs', 'context-switches'] }, "$.events[2]: 'context-switches' is listed twice"],
    [{ processes: { comm: ['^ok$', '(unclosed'] } }, "$.processes.comm[1]: '(unclosed' is not a valid regular expression"],
    [{ processes: { cgroups: ['/a/./b'] } }, "$.processes.cgroups[0]: '/a/./b' must not contain . or .. segments"],
  ])('refuses at creation, naming the instance, options the schema accepts but %j cannot mean', (options, start) => {
    const created = createPerfProbe(options, { name: 'perf-b' });
    expect(created).toMatchObject({ ok: false, status: { code: StatusCode.INVALID_CONFIG, source: 'perf-b' } });
    if (!created.ok) expect(created.status.message.startsWith(start), created.status.message).toBe(true);
  });

  it('names the instance, not a constant, as the source of its UNSUPPORTED and closed Statuses', async () => {
    const elsewhere = createPerfProbe({}, { name: 'perf-b', platform: 'freebsd' });
    if (!elsewhere.ok) throw new Error(elsewhere.status.message);
    expect(elsewhere.value.init()).toMatchObject({ code: StatusCode.UNSUPPORTED, source: 'perf-b', message: expect.stringContaining('cannot run on freebsd') });
    const here = createPerfProbe({ events: ['cs'] }, { name: 'perf-c', files: files() }, createFakeKernel().loader);
    if (!here.ok) throw new Error(here.status.message);
    await here.value.close();
    expect((await collect(here.value)).errors).toMatchObject([{ code: StatusCode.UNAVAILABLE, source: 'perf-c', message: 'perf-c is closed' }]);
  });
});

describe.skipIf(!linux)('events this machine lacks', () => {
  it('reports the unsupported events once, on the first collection, in one status per reason, while the others keep counting', async () => {
    const kernel = createFakeKernel({ open: (call) => (isPmu(call) ? 'ENOENT' : undefined) });
    const probe = fakeProbe(kernel);
    await probe.start!({ emit: () => undefined });
    const first = await collect(probe);
    expect(first.errors).toHaveLength(1);
    expect(first.errors[0]).toMatchObject({ code: StatusCode.UNSUPPORTED, op: 'perf_event_open' });
    expect(first.errors[0]!.message).toBe(
      `${HARDWARE.length} of ${HARDWARE.length + SOFTWARE.length} events are not supported here (ENOENT: no PMU on this machine provides it, as in a VM without a virtual PMU): ${HARDWARE.join(', ')}; the other ${SOFTWARE.length} keep counting`,
    );
    expect(unsupportedNames(first.errors)).toEqual(HARDWARE);
    for (let i = 0; i < 4; i += 1) {
      const later = await collect(probe);
      expect(later.errors).toEqual([]);
      const rows = batchOf(later.batches, 'perf_cpu').rows;
      expect(rows).toHaveLength(2 * SOFTWARE.length);
      expect([...new Set(rows.map((row) => row.event))]).toEqual(SOFTWARE);
    }
    // Each hardware event was tried once (on CPU 0), never again, on no other CPU.
    expect(kernel.opens.filter(isPmu)).toHaveLength(HARDWARE.length);
    await probe.close();
  });

  it('treats EINVAL from a PMU as unsupported too', async () => {
    const kernel = createFakeKernel({ open: (call) => (call.type === PerfType.HW_CACHE ? 'EINVAL' : undefined) });
    const probe = fakeProbe(kernel, { events: ['cycles', 'LLC-loads'] });
    const result = await collect(probe, ['perf_cpu']);
    expect(codes(result.errors)).toEqual([StatusCode.UNSUPPORTED]);
    expect(result.errors[0]!.message).toMatch(/^1 of 2 events is not supported here \(EINVAL: .*\): LLC-loads; the other one keeps counting$/);
    expect(batchOf(result.batches, 'perf_cpu').rows.map((row) => row.event)).toEqual(['cycles', 'cycles']);
    await probe.close();
  });
});

describe.skipIf(!linux)('groups and scaling', () => {
  it('counts a member its group refuses on its own, with its own group_leader', async () => {
    const kernel = createFakeKernel({ open: (call) => (call.config === HwConfig.INSTRUCTIONS && call.groupFd !== -1 ? 'EINVAL' : undefined) });
    const probe = fakeProbe(kernel, { events: ['cycles', 'instructions'] });
    const result = await collect(probe, ['perf_cpu']);
    expect(result.errors).toEqual([]);
    const rows = batchOf(result.batches, 'perf_cpu').rows.filter((row) => row.cpu === 0);
    expect(rows.map((row) => [row.event, row.group_leader])).toEqual([
      ['cycles', 'cycles'],
      ['instructions', 'instructions'],
    ]);
    await probe.close();
  });

  it('opens pairs as groups so their ratio comes from one window', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cache-misses', 'cycles', 'cache-references', 'instructions'] });
    const result = await collect(probe, ['perf_cpu']);
    const rows = batchOf(result.batches, 'perf_cpu').rows.filter((row) => row.cpu === 1);
    expect(rows.map((row) => [row.event, row.group_leader])).toEqual([
      ['cache-misses', 'cache-misses'],
      ['cycles', 'cycles'],
      ['cache-references', 'cache-misses'],
      ['instructions', 'cycles'],
    ]);
    await probe.close();
  });

  it('scales a multiplexed count by enabled/running and records the factor', async () => {
    const kernel = createFakeKernel({ times: () => [3_000_000n, 1_000_000n], value: () => 1001n });
    const probe = fakeProbe(kernel, { events: ['cycles'] });
    const row = rowOf(batchOf((await collect(probe, ['perf_cpu'])).batches, 'perf_cpu').rows, 'cycles', { cpu: 0 })!;
    expect(row).toMatchObject({ value: 3003, raw: 1001, time_enabled: 3_000_000, time_running: 1_000_000, scale: 3 });
    await probe.close();
  });

  it('records null, not 0, for a counter that never ran', async () => {
    const kernel = createFakeKernel({ times: () => [5_000_000n, 0n], value: () => 0n });
    const probe = fakeProbe(kernel, { events: ['cycles'] });
    const row = rowOf(batchOf((await collect(probe, ['perf_cpu'])).batches, 'perf_cpu').rows, 'cycles', { cpu: 0 })!;
    expect(row).toMatchObject({ value: null, raw: 0, time_enabled: 5_000_000, time_running: 0, scale: null });
    await probe.close();
  });

  it('stamps opened_at with the time the CPU counters opened, unchanged by later collections', async () => {
    const clock = createFakeClock(Date.UTC(2026, 5, 1));
    const kernel = createFakeKernel();
    const probe = probeOver({ events: ['cs'] }, { files: files(), clock }, kernel.loader);
    await probe.start!({ emit: () => undefined });
    await clock.advance(5000);
    const rows = batchOf((await collect(probe, ['perf_cpu'])).batches, 'perf_cpu').rows;
    expect(rows.map((row) => [row.event, row.opened_at])).toEqual([
      ['context-switches', Date.UTC(2026, 5, 1)],
      ['context-switches', Date.UTC(2026, 5, 1)],
    ]);
    await probe.close();
  });

  it('closes the counters of a CPU that goes offline and opens fresh ones when it returns', async () => {
    const clock = createFakeClock(Date.UTC(2026, 5, 1));
    // The overlay reads this object at every call, so changing it is a hotplug.
    const texts: Record<string, string> = { '/proc/self/status': PRIVILEGED, '/sys/devices/system/cpu/online': '0-1\n' };
    const kernel = createFakeKernel();
    const probe = probeOver({ events: ['cs'] }, { files: overlayReader(captured(), texts), clock }, kernel.loader);
    const cpusNow = async () => batchOf((await collect(probe, ['perf_cpu'])).batches, 'perf_cpu').rows.map((row) => [row.cpu, row.opened_at]);
    const t0 = Date.UTC(2026, 5, 1);
    expect(await cpusNow()).toEqual([[0, t0], [1, t0]]);
    texts['/sys/devices/system/cpu/online'] = '0\n';
    expect(await cpusNow()).toEqual([[0, t0]]);
    expect([...kernel.fds.values()].map((fd) => fd.cpu)).toEqual([0]);
    await clock.advance(1000);
    texts['/sys/devices/system/cpu/online'] = '0-1\n';
    expect(await cpusNow()).toEqual([[0, t0], [1, t0 + 1000]]);
    expect(kernel.doubleCloses).toEqual([]);
    await probe.close();
  });

  it('reports a sysfs without the CPU list or NUMA nodes once, and keeps going', async () => {
    const kernel = createFakeKernel();
    const reader = overlayReader(createFileReader({ roots: { '/sys': '/nonexistent-sys' } }), { '/proc/self/status': PRIVILEGED });
    const probe = probeOver({ processes: { pids: [process.pid] }, events: ['cs'] }, { files: reader }, kernel.loader);
    const first = await collect(probe);
    expect(codes(first.errors)).toEqual([StatusCode.UNAVAILABLE, StatusCode.UNSUPPORTED]);
    expect(first.errors[0]!.message).toMatch(/\/nonexistent-sys\/devices\/system\/cpu\/online.* \(is \/nonexistent-sys mounted there\?\)$/);
    expect(first.errors[1]!.message).toMatch(/^no \/nonexistent-sys\/devices\/system\/node: this kernel was built without NUMA support/);
    expect(first.batches.map((batch) => [batch.table, batch.rows.length])).toEqual([
      ['perf_process', 1],
      ['perf_numa', 0],
    ]);
    expect((await collect(probe)).errors).toEqual([]);
    await probe.close();
  });

  it('reports a read it cannot map to an event as PARSE_ERROR', async () => {
    const bogus = Buffer.alloc(40);
    bogus.writeBigUInt64LE(1n, 0);
    bogus.writeBigUInt64LE(99999n, 32);
    const kernel = createFakeKernel({ readBytes: () => bogus });
    const probe = fakeProbe(kernel, { events: ['cs'] });
    const result = await collect(probe, ['perf_cpu']);
    expect(codes(result.errors)).toEqual([StatusCode.PARSE_ERROR]);
    expect(result.errors[0]!.message).toContain('unknown id 99999');
    await probe.close();
  });
});

describe.skipIf(!linux)('refusals', () => {
  it('reports one PERMISSION_DENIED with the paranoid value for per-CPU counters, then stays quiet', async () => {
    const kernel = createFakeKernel({ open: (call) => (call.pid === -1 ? 'EACCES' : undefined) });
    const probe = fakeProbe(kernel, {}, { '/proc/self/status': UNPRIVILEGED });
    await probe.start!({ emit: () => undefined });
    const first = await collect(probe);
    expect(codes(first.errors)).toEqual([StatusCode.PERMISSION_DENIED]);
    expect(first.errors[0]!.message).toContain('/proc/sys/kernel/perf_event_paranoid is 2');
    expect(first.errors[0]!.message).toContain('CAP_PERFMON');
    expect(first.batches.map((batch) => batch.table)).toEqual(['perf_process', 'perf_numa']);
    const attempts = kernel.opens.length;
    for (let i = 0; i < 3; i += 1) expect((await collect(probe)).errors).toEqual([]);
    expect(kernel.opens.length).toBe(attempts);
    await probe.close();
  });

  it('counts processes in user space only when unprivileged at paranoid 2, and says so in user_only', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['task-clock'], processes: { pids: [process.pid] } }, { '/proc/self/status': UNPRIVILEGED });
    const rows = batchOf((await collect(probe, ['perf_process'])).batches, 'perf_process').rows;
    expect(rows.map((row) => row.user_only)).toEqual([true]);
    const perProcess = [...kernel.fds.values()].filter((fd) => fd.pid !== -1);
    expect(perProcess.length).toBeGreaterThan(0);
    expect(perProcess.every((fd) => fd.excludeKernel && fd.inherit && fd.inheritThread && fd.cpu === -1)).toBe(true);
    expect([...kernel.fds.values()].filter((fd) => fd.pid === -1).every((fd) => !fd.excludeKernel)).toBe(true);
    await probe.close();
  });

  it('counts kernel events too when privileged', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['task-clock'], processes: { pids: [process.pid] } });
    const rows = batchOf((await collect(probe, ['perf_process'])).batches, 'perf_process').rows;
    expect(rows.map((row) => row.user_only)).toEqual([false]);
    expect([...kernel.fds.values()].some((fd) => fd.excludeKernel)).toBe(false);
    await probe.close();
  });

  it('reports a refused process once and does not retry it', async () => {
    const kernel = createFakeKernel({ open: (call) => (call.pid !== -1 ? 'EACCES' : undefined) });
    const probe = fakeProbe(kernel, { events: ['cs'], processes: { pids: [process.pid] } });
    const first = await collect(probe, ['perf_process']);
    expect(codes(first.errors)).toEqual([StatusCode.PERMISSION_DENIED]);
    expect(first.errors[0]!.message).toContain(`pid ${process.pid}`);
    expect(first.errors[0]!.message).toContain('perf_event_paranoid is 2');
    const attempts = kernel.opens.length;
    for (let i = 0; i < 3; i += 1) expect((await collect(probe, ['perf_process'])).errors).toEqual([]);
    expect(kernel.opens.length).toBe(attempts);
    expect([...kernel.fds.values()].filter((fd) => fd.pid !== -1)).toEqual([]);
    await probe.close();
  });

  it('retries a process that failed for lack of fds, without keeping half of its counters', async () => {
    let exhausted = true;
    const kernel = createFakeKernel({ open: (call) => (call.pid !== -1 && exhausted && call.config === SwConfig.PAGE_FAULTS ? 'EMFILE' : undefined) });
    const probe = fakeProbe(kernel, { events: ['cs', 'faults'], processes: { pids: [process.pid] } });
    const first = await collect(probe, ['perf_process']);
    expect(codes(first.errors)).toEqual([StatusCode.UNAVAILABLE]);
    expect(first.errors[0]!.retryable).toBe(true);
    expect(batchOf(first.batches, 'perf_process').rows).toEqual([]);
    expect([...kernel.fds.values()].filter((fd) => fd.pid !== -1)).toEqual([]);
    exhausted = false;
    const second = await collect(probe, ['perf_process']);
    expect(second.errors).toEqual([]);
    expect(batchOf(second.batches, 'perf_process').rows.map((row) => row.event)).toEqual(['context-switches', 'page-faults']);
    await probe.close();
  });
});

describe.skipIf(!linux)('process selection over a fake kernel', () => {
  const threadsOf = (pid: number): number => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

  it('opens every thread of a selected process with inherit and keys rows by pid and start_time as procfs does', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cs', 'faults'], processes: { pids: [process.pid] } });
    const rows = batchOf((await collect(probe, ['perf_process'])).batches, 'perf_process').rows;
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const starttime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    expect(rows.map((row) => [row.pid, row.start_time, row.event])).toEqual([
      [process.pid, btime * 1000 + starttime * 10, 'context-switches'],
      [process.pid, btime * 1000 + starttime * 10, 'page-faults'],
    ]);
    const leaders = [...kernel.fds.values()].filter((fd) => fd.pid !== -1 && fd.leader === fd.fd);
    expect(leaders.length).toBeGreaterThanOrEqual(threadsOf(process.pid) - 1);
    expect(new Set(leaders.map((fd) => fd.pid)).has(process.pid)).toBe(true);
    // Summed over the threads: each thread's group adds its own count.
    expect(num(rowOf(rows, 'context-switches')!.raw)).toBe(leaders.reduce((sum, fd) => sum + fd.reads * 100 + SwConfig.CONTEXT_SWITCHES, 0));
    await probe.close();
  });

  it('falls back to plain inherit on a kernel without inherit_thread, once, with a warning in the log', async () => {
    const kernel = createFakeKernel({ open: (call) => (call.inheritThread ? 'EINVAL' : undefined) });
    const logger = createMemoryLogger();
    const probe = probeOver({ events: ['cs', 'faults'], processes: { pids: [process.pid] } }, { files: files(), logger }, kernel.loader);
    const first = await collect(probe, ['perf_process']);
    expect(first.errors).toEqual([]);
    expect(batchOf(first.batches, 'perf_process').rows.map((row) => row.event)).toEqual(['context-switches', 'page-faults']);
    const perProcess = [...kernel.fds.values()].filter((fd) => fd.pid !== -1);
    expect(perProcess.every((fd) => fd.inherit && !fd.inheritThread)).toBe(true);
    // Refused once, then never asked again.
    expect(kernel.opens.filter((call) => call.inheritThread)).toHaveLength(1);
    expect(logger.records.filter((record) => record.level === 'warn').map((record) => record.message)).toEqual([
      'this kernel predates inherit_thread (Linux 5.13): perf_process also counts child processes started after its counters opened',
    ]);
    await probe.close();
  });

  it('leaves out processes beyond maxProcesses, saying so once while nothing changes', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cs'], maxProcesses: 1, processes: { pids: [process.pid, process.ppid] } });
    const first = await collect(probe, ['perf_process']);
    expect(codes(first.errors)).toEqual([StatusCode.UNAVAILABLE]);
    const low = Math.min(process.pid, process.ppid);
    const high = Math.max(process.pid, process.ppid);
    expect(first.errors[0]!.message).toMatch(new RegExp(`^1 selected process is not counted: pid ${high} \\(.+\\): maxProcesses 1 reached; raise maxProcesses or maxFds`));
    expect(batchOf(first.batches, 'perf_process').rows.map((row) => row.pid)).toEqual([low]);
    for (let i = 0; i < 3; i += 1) expect((await collect(probe, ['perf_process'])).errors).toEqual([]);
    await probe.close();
  });

  it('leaves out a process whose threads would pass maxFds', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cs', 'faults'], maxFds: 1, processes: { pids: [process.pid] } });
    const result = await collect(probe, ['perf_process']);
    expect(result.errors[0]!.message).toMatch(/threads × 2 events would pass maxFds 1/);
    expect([...kernel.fds.values()].filter((fd) => fd.pid !== -1)).toEqual([]);
    await probe.close();
  });

  it('releases the fds of a process that exited at the next collection', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cs'], processes: { pids: [child.pid!] } });
    try {
      const first = await collect(probe, ['perf_process']);
      expect(batchOf(first.batches, 'perf_process').rows.map((row) => row.pid)).toEqual([child.pid]);
      expect([...kernel.fds.values()].filter((fd) => fd.pid === child.pid)).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const second = await collect(probe, ['perf_process']);
    expect(second.errors).toEqual([]);
    expect(batchOf(second.batches, 'perf_process').rows).toEqual([]);
    expect([...kernel.fds.values()].filter((fd) => fd.pid !== -1)).toEqual([]);
    await probe.close();
  });

  it('reports a configured cgroup that does not exist once, as NOT_FOUND', async () => {
    const kernel = createFakeKernel();
    const probe = fakeProbe(kernel, { events: ['cs'], cgroupRoot: '/nonexistent-cgroup-root', processes: { cgroups: ['/system.slice/none.service'] } });
    const first = await collect(probe, ['perf_process']);
    expect(codes(first.errors)).toEqual([StatusCode.NOT_FOUND]);
    expect(first.errors[0]!.message).toBe('cgroup /system.slice/none.service does not exist under /nonexistent-cgroup-root (yet)');
    expect((await collect(probe, ['perf_process'])).errors).toEqual([]);
    await probe.close();
  });
});
