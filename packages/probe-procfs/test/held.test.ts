/**
 * The scan's held files on this host's real /proc (src/linux/tracker.ts): an idle process costs
 * its held stat, schedstat and io reads and nothing else, yet its rows stay exactly what a fresh
 * read gives; a process that only wakes briefly (too briefly for stat's clock ticks) still gets
 * its context switches counted; a process that exits releases its descriptors; the cap and
 * close() bound and release them; and a probe holding nothing gives the same rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createFileReader, createSystemClock, type FileReader, type Probe, type Row } from '@virtualeyes/core';
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf, collect, probeOver, refreshFree } from './helpers.js';

/** A real reader that counts what it was asked, by path. */
function countingReader(): FileReader & { readonly texts: Map<string, number>; readonly opens: Map<string, number> } {
  const real = createFileReader();
  const texts = new Map<string, number>();
  const opens = new Map<string, number>();
  const bump = (map: Map<string, number>, path: string): void => void map.set(path, (map.get(path) ?? 0) + 1);
  return {
    texts,
    opens,
    resolve: (path) => real.resolve(path),
    readText: (path) => (bump(texts, path), real.readText(path)),
    readDir: (path) => real.readDir(path),
    readLink: (path) => real.readLink(path),
    open: (path) => (bump(opens, path), real.open!(path)),
  };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function start(command: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  // Until it has exec'd, the child is a copy of this process.
  for (let i = 0; i < 200 && !readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes(`(${command.split('/').pop()!.slice(0, 15)})`); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Then until it sleeps: between exec and its first sleep it still runs (loading, relocating).
  for (let i = 0; i < 200 && /^\S+ \(.*\) R /.test(readFileSync(`/proc/${child.pid}/stat`, 'utf8')); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 20));
  return child;
}

/** A `sleep 60` whose pid the staggered whole refresh (every REFRESH_SCANS scans, by pid) reads in none of a fresh probe's scans 2 to `scans`. */
async function quietSleeper(scans: number): Promise<ChildProcess> {
  for (;;) {
    const child = await start('sleep', ['60']);
    if (refreshFree(child.pid!, scans)) return child;
    child.kill('SIGKILL');
  }
}

const openFds = (): number => readdirSync('/proc/self/fd').length;
/** Descriptors of this process open on files of `pid`'s /proc folder. */
const heldOf = (pid: number): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`/proc/${pid}/`);
    } catch {
      return false;
    }
  }).length;
const live = (files: FileReader, options = {}): Probe => probeOver(files, options, { clock: createSystemClock() });
const rowOf = (rows: readonly Row[], pid: number): Row | undefined => rows.find((row) => row.pid === pid);
const tables = ['processes', 'process_stats'];

describe.skipIf(process.platform !== 'linux')('held /proc files', () => {
  it('reads an idle process by its held files alone, and its rows stay what a fresh read gives', async () => {
    const sleeper = await quietSleeper(3);
    const files = countingReader();
    const probe = live(files);
    const first = await collect(probe, tables);
    const status = `/proc/${sleeper.pid}/status`;
    expect(files.texts.get(status)).toBe(1);
    expect(files.opens.get(`/proc/${sleeper.pid}/stat`)).toBe(1);
    const second = await collect(probe, tables);
    const third = await collect(probe, tables);
    // Opened once, never read by path again: stat, schedstat and io came from the held descriptors.
    expect(files.texts.get(status)).toBe(1);
    expect(files.texts.get(`/proc/${sleeper.pid}/cmdline`)).toBe(1);
    expect(files.opens.get(`/proc/${sleeper.pid}/stat`)).toBe(1);
    expect(files.opens.get(`/proc/${sleeper.pid}/schedstat`)).toBe(1);
    const fresh = await collect(live(createFileReader(), { maxHeldFiles: 0 }), tables);
    for (const table of tables) {
      const rows = [first, second, third, fresh].map((result) => rowOf(batchOf(result.batches, table).rows, sleeper.pid!));
      expect(rows[0], table).toBeDefined();
      for (const row of rows.slice(1)) expect(row, table).toEqual(rows[0]);
    }
    await probe.close();
  });

  it('counts the context switches of a process that wakes too briefly for clock ticks', async () => {
    // python3 sleeping 20 ms in a loop: about 50 voluntary switches a second, almost no CPU.
    const waker = await start('python3', ['-c', 'import time\nwhile True: time.sleep(0.02)']);
    const voluntary = (): number => Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${waker.pid}/status`, 'utf8'))![1]);
    // Python's start-up barely sleeps; its loop has begun once it switches about 50 times a second.
    for (let i = 0, last = voluntary(); i < 40; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = voluntary();
      if (now - last >= 5) break;
      last = now;
    }
    const probe = live(createFileReader());
    const switches: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const before = voluntary();
      const result = await collect(probe, ['process_stats']);
      const after = voluntary();
      const row = rowOf(batchOf(result.batches, 'process_stats').rows, waker.pid!);
      const seen = Number(row!.voluntary_ctxt_switches);
      // Read during this collection, never the last one's value: between the counts before and after it
      // (a busy machine can make the scan of every process take long enough for more wake-ups).
      expect(seen).toBeGreaterThanOrEqual(before);
      expect(seen).toBeLessThanOrEqual(after);
      switches.push(seen);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(switches[3]! - switches[0]!).toBeGreaterThanOrEqual(5);
    await probe.close();
  });

  it('releases the descriptors of a process that exited, caps what it holds, and closes the rest', async () => {
    const before = openFds();
    const probe = live(createFileReader());
    const sleeper = await start('sleep', ['60']);
    await collect(probe, tables);
    expect(openFds() - before).toBeGreaterThan(10);
    expect(heldOf(sleeper.pid!)).toBe(3);
    sleeper.kill('SIGKILL');
    await new Promise((resolve) => sleeper.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await collect(probe, tables);
    expect(rowOf(batchOf(next.batches, 'processes').rows, sleeper.pid!)).toBeUndefined();
    // Its stat, schedstat and io were closed.
    expect(heldOf(sleeper.pid!)).toBe(0);
    expect(heldOf(process.pid)).toBeGreaterThan(0);
    await probe.close();
    expect(openFds()).toBeLessThanOrEqual(before);

    const capped = live(createFileReader(), { maxHeldFiles: 7 });
    const capBefore = openFds();
    const result = await collect(capped, tables);
    expect(openFds() - capBefore).toBeLessThanOrEqual(7);
    const again = await collect(capped, tables);
    // Past the cap every process is still read, by opening its files (the host's churn aside).
    const counts = [result, again].map((one) => batchOf(one.batches, 'processes').rows.length);
    expect(Math.abs(counts[0]! - counts[1]!)).toBeLessThanOrEqual(10);
    for (const one of [result, again]) expect(rowOf(batchOf(one.batches, 'process_stats').rows, process.pid)).toBeDefined();
    await capped.close();
    expect(openFds()).toBeLessThanOrEqual(capBefore);
  });
});
