/**
 * The run watch on this host's real kernel (src/linux/runs.ts): context-switch records say a
 * busy process ran and a sleeping one did not; a process woken by input is re-read and its rows
 * change; an untouched sleeper costs no read at all, yet its rows are exactly what a probe
 * without the watch gives; a child whose parent exits is re-read with its new ppid; and a CPU
 * list that changes makes every process count as run; between listings of /proc, births and exits
 * come from the records and no process is missed, under churn. Needs root (CPU-wide perf events at
 * perf_event_paranoid 2): skipped otherwise, and in CI root is required.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileReader, createSystemClock, StatusCode, type FileReader, type HeldFile, type Probe, type Row } from '@virtualeyes/core';
import { afterEach, describe, expect, it } from 'vitest';
import { LISTING_SCANS } from '../src/linux/processes.js';
import { openRunWatch, parseCpuList, type RunWatch } from '../src/linux/runs.js';
import { batchOf, collect, plain, probeOver, refreshFree } from './helpers.js';

const isRoot = process.platform === 'linux' && process.geteuid?.() === 0 && process.arch === 'x64';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const tables = ['processes', 'process_stats'];

const children: ChildProcess[] = [];
const watches: RunWatch[] = [];
const probes: Probe[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const watch of watches.splice(0)) watch.close();
  for (const probe of probes.splice(0)) await probe.close?.();
});

/** Spawns `command` and waits until it has exec'd (before that it is a copy of this process, which runs). */
async function start(command: string, args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: [stdin, 'ignore', 'ignore'] });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  for (let i = 0; i < 200 && !readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes(`(${command.split('/').pop()!.slice(0, 15)})`); i += 1) await sleep(5);
  await sleep(50);
  return child;
}

/** The real reader, counting reads of held files and of files by path, per path (a listed directory counts as a read of it). */
function countingReader(): FileReader & { readonly reads: Map<string, number> } {
  const real = createFileReader();
  const reads = new Map<string, number>();
  const bump = (path: string): void => void reads.set(path, (reads.get(path) ?? 0) + 1);
  return {
    reads,
    resolve: (path) => real.resolve(path),
    readText: (path) => (bump(path), real.readText(path)),
    readDir: (path) => (bump(path), real.readDir(path)),
    readLink: (path) => (bump(path), real.readLink(path)),
    open: (path) => {
      const opened = real.open!(path);
      if (!opened.ok) return opened;
      const file: HeldFile = { readInto: (into) => (bump(path), opened.value.readInto(into)), close: () => opened.value.close() };
      return { ok: true, value: file };
    },
  };
}

/** `start`, again until the child's pid is read by no whole refresh in a fresh probe's first `scans` scans. */
async function startQuiet(scans: number, command: string, args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): Promise<ChildProcess> {
  for (;;) {
    const child = await start(command, args, stdin);
    if (refreshFree(child.pid!, scans)) return child;
    child.kill('SIGKILL');
  }
}

async function watching(): Promise<RunWatch> {
  const opened = await openRunWatch(createFileReader());
  if (!opened.ok) throw new Error(opened.status.message);
  watches.push(opened.value);
  return opened.value;
}

async function started(files: FileReader, options = {}): Promise<Probe> {
  const probe = probeOver(files, options, { clock: createSystemClock() });
  probes.push(probe);
  await probe.start?.({ tables });
  return probe;
}

const rowOf = (rows: readonly Row[], pid: number): Row | undefined => plain(rows).find((row) => row.pid === pid);

describe('parseCpuList', () => {
  it('reads the kernel CPU list syntax and refuses anything else', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('')).toEqual([]);
    for (const bad of ['a', '3-1', '0,,1', '-1', '0-', '1 2', '0-99999999']) expect(parseCpuList(bad), bad).toBeUndefined();
  });
});

if (process.env.CI === 'true') {
  it('runs as root on x86-64 in CI (the run watch needs CPU-wide perf events)', () => {
    expect(isRoot).toBe(true);
  });
}

describe.skipIf(!isRoot)('context-switch records (root)', () => {
  it('say a busy process ran and a sleeping one did not, and wake-ups count', async () => {
    const sleeper = await start('sleep', ['60']);
    const reader = await start('cat', [], 'pipe');
    // Busy, yet not holding a CPU without a switch: a CPU with no record since the open leaves every interval unknown (runs.ts).
    const busy = await start('sh', ['-c', 'while :; do sleep 0.01; done']);
    const watch = await watching();
    watch.drain();
    const since = watch.seq;
    await sleep(300);
    watch.drain();
    expect(watch.ranSince(busy.pid!, since)).toBe(true);
    expect(watch.ranSince(sleeper.pid!, since)).toBe(false);
    expect(watch.ranSince(reader.pid!, since)).toBe(false);
    const before = watch.seq;
    reader.stdin!.write('wake up\n');
    await sleep(100);
    watch.drain();
    expect(watch.ranSince(reader.pid!, before)).toBe(true);
    expect(watch.ranSince(sleeper.pid!, since)).toBe(false);
  });

  it('skips reading an untouched sleeper, re-reads a woken process, and gives the rows a full read gives', async () => {
    const sleeper = await startQuiet(5, 'sleep', ['60']);
    const reader = await startQuiet(5, 'cat', [], 'pipe');
    const files = countingReader();
    const probe = await started(files);
    // Until every CPU has switched once since the watch opened, an interval is not known (runs.ts): every process counts as run.
    await sleep(300);
    await collect(probe, tables);
    const stat = (pid: number): number => files.reads.get(`/proc/${pid}/stat`) ?? 0;
    const [sleeperReads, readerReads] = [stat(sleeper.pid!), stat(reader.pid!)];
    expect(sleeperReads).toBe(1);
    await collect(probe, tables);
    await collect(probe, tables);
    expect(stat(sleeper.pid!), 'the sleeper was not read again').toBe(sleeperReads);
    expect(stat(reader.pid!)).toBe(readerReads);
    const charsBefore = rowOf(batchOf((await collect(probe, tables)).batches, 'process_stats').rows, reader.pid!)!.read_chars as number;
    reader.stdin!.write('x'.repeat(1000));
    await sleep(100);
    const after = await collect(probe, tables);
    expect(stat(reader.pid!), 'the woken process was read').toBeGreaterThan(readerReads);
    expect(rowOf(batchOf(after.batches, 'process_stats').rows, reader.pid!)!.read_chars as number).toBeGreaterThanOrEqual(charsBefore + 1000);
    // The same instant through a probe that reads every file: the skipped sleeper's rows are the truth.
    const fresh = await collect(probeOver(createFileReader(), { switchRecords: false, maxHeldFiles: 0 }, { clock: createSystemClock() }), tables);
    for (const table of tables) {
      for (const pid of [sleeper.pid!, reader.pid!]) {
        const expected = rowOf(batchOf(fresh.batches, table).rows, pid);
        expect(expected, `${table} ${pid}`).toBeDefined();
        expect(rowOf(batchOf(after.batches, table).rows, pid), `${table} ${pid}`).toEqual(expected);
      }
    }
  });

  it('re-reads a child whose parent exited: its ppid is the new parent', async () => {
    const parent = await start('sh', ['-c', 'sleep 60 & echo ready; sleep 1']);
    let child: number | undefined;
    for (let i = 0; i < 100 && child === undefined; i += 1) {
      await sleep(20);
      const found = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      for (const pid of found) if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x0060\x00') child = pid;
    }
    expect(child).toBeDefined();
    children.push({ kill: () => process.kill(child!, 'SIGKILL') } as unknown as ChildProcess);
    const probe = await started(createFileReader());
    const first = await collect(probe, tables);
    expect(rowOf(batchOf(first.batches, 'processes').rows, child!)!.ppid).toBe(parent.pid);
    await new Promise((resolve) => parent.once('exit', resolve));
    await sleep(50);
    const now = readFileSync(`/proc/${child!}/stat`, 'utf8');
    const ppid = Number(now.slice(now.lastIndexOf(')') + 2).split(' ')[1]);
    expect(ppid).not.toBe(parent.pid);
    const second = await collect(probe, tables);
    expect(rowOf(batchOf(second.batches, 'processes').rows, child!)!.ppid).toBe(ppid);
  });

  it('learns births and exits from the records between listings of /proc, missing no process, under churn', async () => {
    // Short-lived processes all along: births the records must give, exits the reads must find.
    await start('sh', ['-c', 'while :; do sleep 0.03 & sleep 0.01; done']);
    const files = countingReader();
    const probe = await started(files);
    const listings = (): number => files.reads.get('/proc') ?? 0;
    const live = (): Set<number> => new Set(readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number));
    await collect(probe, tables);
    const listed = listings();
    let gone: number | undefined;
    for (let scan = 1; scan < LISTING_SCANS; scan += 1) {
      const born = await start('sleep', ['60']);
      const before = live();
      const result = await collect(probe, tables);
      const after = live();
      const pids = new Set(plain(batchOf(result.batches, 'processes').rows).map((row) => row.pid as number));
      expect(pids.has(born.pid!), `scan ${scan}: the process begun since the last`).toBe(true);
      for (const pid of before) if (after.has(pid)) expect(pids.has(pid), `scan ${scan}: pid ${pid}, alive before and after it`).toBe(true);
      if (gone !== undefined) expect(pids.has(gone), `scan ${scan}: the process that ended before it`).toBe(false);
      expect(result.errors.filter((status) => status.code !== StatusCode.NOT_FOUND && status.code !== StatusCode.PERMISSION_DENIED)).toEqual([]);
      gone = born.pid!;
      born.kill('SIGKILL');
      await new Promise((resolve) => born.once('exit', resolve));
    }
    expect(listings(), 'no listing of /proc between the first scan and the LISTING_SCANS-th').toBe(listed);
    await collect(probe, tables);
    expect(listings(), 'the LISTING_SCANS-th scan lists /proc').toBe(listed + 1);
  });

  it('counts every process as run once the CPU list changes under it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 've-cpus-'));
    try {
      const list = join(dir, 'online');
      writeFileSync(list, readFileSync('/sys/devices/system/cpu/online'));
      const opened = await openRunWatch(createFileReader(), list);
      if (!opened.ok) throw new Error(opened.status.message);
      const watch = opened.value;
      watches.push(watch);
      const sleeper = await start('sleep', ['60']);
      watch.drain(true);
      const since = watch.seq;
      await sleep(100);
      watch.drain(true);
      expect(watch.ranSince(sleeper.pid!, since)).toBe(false);
      writeFileSync(list, '0-511\n');
      watch.drain(true);
      expect(watch.ranSince(sleeper.pid!, since)).toBe(true);
      watch.drain(true);
      expect(watch.ranSince(sleeper.pid!, watch.seq)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
