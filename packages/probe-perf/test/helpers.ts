/**
 * Shared test helpers: building probes over real or fake system calls, collecting, counting
 * this process's open fds, finding the external tools the live tests use as oracles (skipped
 * with a reason locally, failing in CI), and driving the python workloads line by line.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  classifyErrno,
  createSystemClock,
  defineProbe,
  validateOptions,
  type Batch,
  type CollectResult,
  type FileReader,
  type PluginDeps,
  type Probe,
  type Result,
  type Row,
  type Status,
  StatusCode,
} from '@virtualeyes/core';
import { createTestDeps } from '@virtualeyes/core/testing';
import { expect, it } from 'vitest';
import { CONFIG_SCHEMA, type PerfConfig, type PerfOptions } from '../src/config.js';
import { createPerfDefinition } from '../src/definition.js';
import type { PerfSyscallsLoader } from '../src/linux/native.js';

/** The package folder. */
export const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The fixtures folder. */
export const FIXTURES = join(PACKAGE, 'test', 'fixtures');
/** The workloads folder. */
export const WORKLOADS = join(PACKAGE, 'test', 'workloads');
/** Every table. */
export const ALL_TABLES = ['perf_cpu', 'perf_process', 'perf_numa'] as const;

/** True in CI, where a missing tool fails instead of skipping. */
export const IN_CI = process.env.CI === 'true';
/** Whether this process may open system-wide counters here (root at perf_event_paranoid 2). */
export const IS_ROOT = process.platform === 'linux' && process.geteuid?.() === 0;

/**
 * Builds a probe as the loader does: the options validated and defaulted by the schema only
 * (what a schema cannot say is left to the probe's configure), then createProbe of the
 * definition over `loader` (the real system calls when absent), on Linux unless deps say otherwise.
 */
export function createPerfProbe(options: PerfOptions, deps: Partial<PluginDeps> = {}, loader?: PerfSyscallsLoader): Result<Probe> {
  const validated = validateOptions<PerfConfig>(CONFIG_SCHEMA, options);
  if (!validated.ok) return validated;
  return defineProbe(createPerfDefinition(loader)).createProbe(validated.value, createTestDeps({ name: 'perf', platform: 'linux', ...deps }));
}

/** Creates a Linux probe (expecting valid options) with live deps unless overridden. */
export function probeOver(options: PerfOptions = {}, deps: Partial<PluginDeps> = {}, loader?: PerfSyscallsLoader): Probe {
  const created = createPerfProbe(options, { clock: createSystemClock(), ...deps }, loader);
  if (!created.ok) throw new Error(created.status.message);
  return created.value;
}

/** Collects `tables` once with a fresh signal. */
export function collect(probe: Probe, tables: readonly string[] = ALL_TABLES): Promise<CollectResult> {
  return probe.collect({ tables, ts: 0, signal: new AbortController().signal });
}

/** The batch of `table`, failing the test when there is none. */
export function batchOf(batches: readonly Batch[], table: string): Batch {
  const batch = batches.find((candidate) => candidate.table === table);
  if (batch === undefined) throw new Error(`no ${table} batch`);
  return batch;
}

/** The row of `event` (and `pid`, for perf_process) in `rows`. */
export function rowOf(rows: readonly Row[], event: string, where: Readonly<Record<string, unknown>> = {}): Row | undefined {
  return rows.find((row) => row.event === event && Object.entries(where).every(([key, value]) => row[key] === value));
}

/** A count column as a number. */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`not a count: ${String(value)}`);
}

/** File descriptors this process has open now. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** perf fds this process holds now (links to anon_inode:[perf_event]). */
export function perfFds(pid: number | 'self' = 'self'): number {
  let count = 0;
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${name}`) === 'anon_inode:[perf_event]') count += 1;
    } catch {
      // The fd closed between listing and reading.
    }
  }
  return count;
}


/**
 * The events an UNSUPPORTED summary names (`10 of 17 events are not supported here (…): a, b;
 * the other 7 keep counting`), over every such status of a collection.
 */
export function unsupportedNames(statuses: readonly Status[]): string[] {
  return statuses
    .filter((status) => status.code === StatusCode.UNSUPPORTED)
    .flatMap((status) => /not supported here \(.*\): ([^;]+); (?:the other \d+ keep counting|the other one keeps counting|none of the others is counting)$/.exec(status.message)?.[1]?.split(', ') ?? [`unparsed: ${status.message}`]);
}

/** Whether an executable named `name` is on the PATH. */
export function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

/**
 * Declares that the tests after it need `what`: in CI a test fails when it is missing; locally
 * the caller skips them (describe.skipIf) and the reason is in the describe's title.
 */
export function requires(what: string, available: boolean): boolean {
  if (IN_CI) {
    it(`has ${what} (CI installs it)`, () => {
      expect(available, `${what} is missing`).toBe(true);
    });
  }
  return available;
}

/** A python workload speaking the ready/go/done protocol. */
export interface Workload {
  readonly pid: number;
  /** Resolves when the workload prints `line`. */
  waitFor(line: string): Promise<void>;
  /** Sends one line to its stdin. */
  send(line: string): void;
  /** Ends it (EOF on stdin, then SIGKILL if needed) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts `python3 test/workloads/<script> ...args` (no shell) and waits for its "ready". */
export async function startWorkload(script: string, args: readonly string[]): Promise<Workload> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [join(WORKLOADS, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) {
      if (output.split('\n').includes(waiter.line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const waitFor = (line: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (output.split('\n').includes(line)) return resolve();
      const timer = setTimeout(() => reject(new Error(`${script} never printed '${line}'; stderr: ${stderr}`)), 20_000);
      waiters.push({
        line,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      void exited.then(() => {
        if (!output.split('\n').includes(line)) {
          clearTimeout(timer);
          reject(new Error(`${script} exited before '${line}'; stderr: ${stderr}`));
        }
      });
    });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const workload: Workload = {
    pid: child.pid!,
    waitFor,
    send: (line) => {
      child.stdin.write(`${line}\n`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  await waitFor('ready');
  return workload;
}

/** A running `perf stat` whose counts come at stop(). */
export interface PerfStat {
  /** Stops it with SIGINT and returns the count per event (null for <not counted> or <not supported>). */
  stop(): Promise<Map<string, number | null>>;
}

/** Starts `perf stat -x, -e <events> <target args>` (no shell) and waits until it holds perf fds. */
export async function startPerfStat(events: readonly string[], target: readonly string[]): Promise<PerfStat> {
  const child = spawn('perf', ['stat', '-x,', '-e', events.join(','), ...target], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const until = Date.now() + 15_000;
  while (child.exitCode === null && perfFdsOf(child.pid!) === 0) {
    if (Date.now() > until) throw new Error(`perf stat never opened its counters; stderr: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (child.exitCode !== null) throw new Error(`perf stat exited early: ${stderr}`);
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return parsePerfStat(stderr);
    },
  };
}

function perfFdsOf(pid: number): number {
  try {
    return perfFds(pid);
  } catch {
    return 0;
  }
}

/** Counts per event from `perf stat -x,` output (value,unit,event,...). */
export function parsePerfStat(text: string): Map<string, number | null> {
  const counts = new Map<string, number | null>();
  for (const line of text.split('\n')) {
    const fields = line.split(',');
    if (fields.length < 3 || line.startsWith('#')) continue;
    const value = fields[0]!;
    const event = fields[2]!.replace(/:[a-zA-Z]+$/, '');
    if (event === '') continue;
    counts.set(event, /^\d+(\.\d+)?$/.test(value) ? Number(value) : null);
  }
  return counts;
}

/** voluntary + nonvoluntary context switches of `pid` from /proc/PID/status (the kernel's own count). */
export function kernelContextSwitches(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(status)?.[1] ?? Number.NaN);
  return field('voluntary_ctxt_switches') + field('nonvoluntary_ctxt_switches');
}

/** Whether `a` and `b` agree within `fraction` of the larger. */
export function within(a: number, b: number, fraction: number): boolean {
  return Math.abs(a - b) <= fraction * Math.max(Math.abs(a), Math.abs(b));
}

/** A reader answering some paths with given text (or an errno) instead of the inner reader's. */
export function overlayReader(inner: FileReader, texts: Readonly<Record<string, string | { errno: string }>>): FileReader & { readonly reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    resolve: (path) => inner.resolve(path),
    readText(path) {
      reads.push(path);
      const text = texts[path];
      if (text === undefined) return inner.readText(path);
      if (typeof text === 'string') return { ok: true, value: text };
      const cause = Object.assign(new Error(`${text.errno}: injected, ${path}`), { code: text.errno });
      return { ok: false, status: classifyErrno(cause, `read ${path}`) };
    },
    readDir(path) {
      reads.push(path);
      return inner.readDir(path);
    },
    readLink(path) {
      reads.push(path);
      return inner.readLink(path);
    },
  };
}

/** Runs `perf stat -x, -a -e <events> -- sleep <seconds>` (no shell) and returns each event's first CSV field as perf printed it. */
export function perfStatSystemWide(events: readonly string[], seconds = 0.2): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    execFile('perf', ['stat', '-x,', '-a', '-e', events.join(','), '--', 'sleep', String(seconds)], { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error !== null) return reject(new Error(`perf stat failed: ${error.message}; ${stderr}`));
      const fields = new Map<string, string>();
      for (const line of stderr.split('\n')) {
        const parts = line.split(',');
        if (parts.length >= 3 && parts[2] !== '') fields.set(parts[2]!.replace(/:[a-zA-Z]+$/, ''), parts[0]!);
      }
      resolve(fields);
    });
  });
}
