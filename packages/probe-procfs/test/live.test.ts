/**
 * Live tests against this host's real /proc: the process list agrees with ps, the test's own
 * process and a child it spawns appear (and the child disappears once it exits), CPUs match
 * the online count, counters only grow, and pids vanishing mid-scan are handled.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createFileReader, createSystemClock, StatusCode, type FileReader, type Status } from '@virtualeyes/core';
import { describe, expect, it } from 'vitest';
import { ALL_TABLES, batchOf, collect, plain, probeOver } from './helpers.js';

const run = promisify(execFile);
const live = (files: FileReader = createFileReader()) => probeOver(files, {}, { clock: createSystemClock() });
const rowsOf = async (tables: readonly string[], files?: FileReader) => {
  const result = await collect(live(files), tables);
  return { result, rows: (table: string) => plain(batchOf(result.batches, table).rows) };
};
/** Statuses a healthy live collection may report: exited processes and refused io/exe. */
const benign = (status: Status): boolean => status.code === StatusCode.NOT_FOUND || status.code === StatusCode.PERMISSION_DENIED;
const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe.skipIf(process.platform !== 'linux')('live /proc', () => {
  it('lists as many processes as ps -e, within 5', async () => {
    const [{ rows, result }, ps] = await Promise.all([rowsOf(['processes']), run('ps', ['-e', '--no-headers'])]);
    const count = ps.stdout.trim().split('\n').length;
    expect(Math.abs(rows('processes').length - count)).toBeLessThanOrEqual(5);
    expect(result.errors.filter((status) => !benign(status))).toEqual([]);
    expect(result.errors.filter((status) => status.code === StatusCode.PERMISSION_DENIED).length).toBeLessThanOrEqual(1);
  });

  it("finds the test's own process with its pid, parent, owner, command line and start time", async () => {
    const { rows } = await rowsOf(['processes', 'process_stats']);
    const own = rows('processes').find((row) => row.pid === process.pid);
    expect(own).toBeDefined();
    const { stdout: args } = await run('ps', ['-ww', '-o', 'args=', '-p', String(process.pid)]);
    expect(own).toMatchObject({ ppid: process.ppid, uid: process.geteuid!(), gid: process.getegid!(), cmdline: args.trim(), kernel_thread: false });
    expect(own!.exe).toBe(process.execPath);
    const started = Date.now() - process.uptime() * 1000;
    expect(Math.abs((own!.start_time as number) - started)).toBeLessThan(2000);
    const stats = rows('process_stats').find((row) => row.pid === process.pid)!;
    expect(stats.start_time).toBe(own!.start_time);
    // The same value probe-perf's tests compute for perf_process, so the two tables join.
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const starttime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    expect(own!.start_time).toBe(btime * 1000 + starttime * 10);
    expect(stats.rss as number).toBeGreaterThan(process.memoryUsage().rss / 2);
    expect(stats.threads as number).toBeGreaterThan(1);
    // Running while it reads its own stat; the state is sampled, not part of the identity.
    expect(stats.state).toBe('R');
    expect(own).not.toHaveProperty('state');
  });

  it('sees a child it spawns, with this process as parent, and not after the child exited', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      // The child has exec'd sleep once its comm says so.
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await rowsOf(['processes']);
        if (rows('processes').find((row) => row.pid === child.pid)?.comm === 'sleep') break;
      }
      const { rows } = await rowsOf(['processes']);
      expect(rows('processes').find((row) => row.pid === child.pid)).toMatchObject({ ppid: process.pid, comm: 'sleep', cmdline: 'sleep 30' });
      const sampled = await rowsOf(['process_stats']);
      expect(sampled.rows('process_stats').find((row) => row.pid === child.pid)).toMatchObject({ state: 'S' });
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    const { rows } = await rowsOf(['processes', 'process_stats']);
    expect(rows('processes').some((row) => row.pid === child.pid)).toBe(false);
    expect(rows('process_stats').some((row) => row.pid === child.pid)).toBe(false);
  });

  it('has one cpu row per online CPU plus all', async () => {
    const [{ rows }, online] = await Promise.all([rowsOf(['cpu']), run('getconf', ['_NPROCESSORS_ONLN'])]);
    const cpus = rows('cpu').map((row) => row.cpu);
    expect(cpus[0]).toBe('all');
    expect(cpus.length).toBe(Number(online.stdout) + 1);
  });

  it('keeps counters monotonic between two collections of every table', async () => {
    const probe = live();
    const first = await collect(probe);
    const spin = Date.now() + 50;
    while (Date.now() < spin) Math.sqrt(Math.random());
    const second = await collect(probe);
    expect(second.batches.map((batch) => batch.table)).toEqual([...ALL_TABLES]);
    const [cpu0, cpu1] = [plain(batchOf(first.batches, 'cpu').rows), plain(batchOf(second.batches, 'cpu').rows)];
    for (const row of cpu1) {
      const before = cpu0.find((candidate) => candidate.cpu === row.cpu)!;
      // iowait is left out: proc(5) warns it may decrease (time moves to idle when the I/O completes).
      for (const column of ['user', 'nice', 'system', 'idle', 'irq', 'softirq', 'steal', 'guest', 'guest_nice']) {
        expect(row[column] as number, `${String(row.cpu)}.${column}`).toBeGreaterThanOrEqual(before[column] as number);
      }
    }
    const [load0, load1] = [plain(batchOf(first.batches, 'load').rows)[0]!, plain(batchOf(second.batches, 'load').rows)[0]!];
    for (const column of ['context_switches', 'forks', 'interrupts', 'softirqs']) {
      expect(load1[column] as number, column).toBeGreaterThanOrEqual(load0[column] as number);
    }
    const before = new Map(plain(batchOf(first.batches, 'process_stats').rows).map((row) => [`${String(row.pid)}/${String(row.start_time)}`, row]));
    let compared = 0;
    for (const row of plain(batchOf(second.batches, 'process_stats').rows)) {
      const previous = before.get(`${String(row.pid)}/${String(row.start_time)}`);
      if (previous === undefined) continue;
      compared += 1;
      for (const column of ['utime', 'stime', 'minflt', 'majflt', 'read_chars', 'write_chars', 'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches']) {
        if (previous[column] !== null) expect(row[column] as number, `${String(row.pid)}.${column}`).toBeGreaterThanOrEqual(previous[column] as number);
      }
    }
    expect(compared).toBeGreaterThan(10);
    const own = plain(batchOf(second.batches, 'process_stats').rows).find((row) => row.pid === process.pid)!;
    const ownBefore = before.get(`${process.pid}/${String(own.start_time)}`)!;
    expect((own.utime as number) + (own.stime as number)).toBeGreaterThan((ownBefore.utime as number) + (ownBefore.stime as number));
  });

  it('skips a process that exits between its stat and status reads, reporting NOT_FOUND only', async () => {
    // A grandchild reaped by its shell at once: once killed, its /proc folder is gone.
    const shell = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const victim = Number(await new Promise<string>((resolve) => shell.stdout.once('data', (data: Buffer) => resolve(data.toString()))));
    const real = createFileReader();
    const killVictim = (): void => {
      process.kill(victim, 'SIGKILL');
      const until = Date.now() + 2000;
      while (existsSync(`/proc/${victim}/status`) && Date.now() < until);
    };
    // The scan holds stat open (open) or reads it by path (readText): kill right after either read.
    const files: FileReader = {
      ...real,
      readText(path) {
        const text = real.readText(path);
        if (path === `/proc/${victim}/stat`) killVictim();
        return text;
      },
      open(path) {
        const held = real.open!(path);
        if (!held.ok || path !== `/proc/${victim}/stat`) return held;
        return {
          ok: true,
          value: {
            readInto(buffer) {
              const read = held.value.readInto(buffer);
              killVictim();
              return read;
            },
            close: () => held.value.close(),
          },
        };
      },
    };
    try {
      const { result, rows } = await rowsOf(['processes', 'process_stats'], files);
      expect(rows('processes').some((row) => row.pid === victim)).toBe(false);
      expect(rows('processes').some((row) => row.pid === shell.pid)).toBe(true);
      expect(result.errors.filter((status) => !benign(status))).toEqual([]);
      expect(result.errors.find((status) => status.code === StatusCode.NOT_FOUND)?.message).toMatch(/^\d+ process(es)? exited while being read$/);
    } finally {
      shell.kill('SIGKILL');
      await exited(shell);
    }
  });

  it('reports nothing but NOT_FOUND and PERMISSION_DENIED while processes come and go fast', async () => {
    const churners = [0, 1, 2].map(() => spawn('sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' }));
    try {
      const probe = live();
      const statuses: Status[] = [];
      for (let i = 0; i < 25; i += 1) {
        const result = await collect(probe);
        statuses.push(...result.errors);
        expect(result.batches.map((batch) => batch.table)).toEqual([...ALL_TABLES]);
        expect(result.errors.filter((status) => status.code === StatusCode.NOT_FOUND).length).toBeLessThanOrEqual(1);
        expect(result.errors.filter((status) => status.code === StatusCode.PERMISSION_DENIED).length).toBeLessThanOrEqual(1);
      }
      expect(statuses.filter((status) => !benign(status))).toEqual([]);
    } finally {
      for (const churner of churners) churner.kill('SIGKILL');
      await Promise.all(churners.map(exited));
    }
  });
});
